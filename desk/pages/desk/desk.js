// 坐席工作台: one page, live over one websocket, no reloads. Signs the agent's page phone in, follows the feed,
// shows the caller when a call is offered, and keeps tickets, call control, phrases and callbacks at hand.
import { createApp, onMounted, ref } from "vue";
import ElementPlus, { ElMessage } from "element-plus";
import zhCn from "element-plus/zh-cn";
import { goSignIn, session, signOut } from "/common/api.js";
import { CallbackList } from "./parts/callbacks.js";
import { CallControl } from "./parts/control.js";
import { LiveFeed } from "/common/feed.js";
import { DeskHeader } from "./parts/header.js";
import { KnowledgePanel } from "./parts/knowledge.js";
import { startPhone } from "./parts/phone.js";
import { PhrasePanel } from "./parts/phrases.js";
import { CallerPanel } from "./parts/pop.js";
import { desk, lastCall, loadPop, loadReference, onFeedEvent, openCall, refreshAgent, rememberPhone,
         showQuick } from "./parts/store.js";
import { TicketForm, TicketTabs } from "./parts/tickets.js";

const Desk = {
  components: { DeskHeader, CallerPanel, CallControl, TicketTabs, PhrasePanel, CallbackList, KnowledgePanel },
  template: `
  <div v-if="!desk.user" class="loading" v-loading="true" element-loading-text="正在进入工作台…"></div>
  <div v-else-if="!desk.agent" class="not-agent" data-test="not-agent">
    <el-result icon="warning" title="仅坐席使用" :sub-title="'当前账号 ' + desk.user.username + '（' + roleLabel + '）不是坐席账号。班长与管理人员请使用管理控制台。'">
      <template #extra><el-button type="primary" @click="quit" data-test="sign-out">退出登录</el-button></template>
    </el-result>
  </div>
  <div v-else class="desk">
    <desk-header/>
    <main class="desk-main">
      <section class="left">
        <caller-panel/>
        <call-control/>
      </section>
      <section class="centre">
        <el-card shadow="never" class="work">
          <el-tabs v-model="desk.tab">
            <el-tab-pane label="工单" name="tickets"><ticket-tabs v-if="desk.reference.form"/></el-tab-pane>
            <el-tab-pane label="回访/回电" name="callbacks" lazy><callback-list/></el-tab-pane>
            <el-tab-pane label="本班来电" name="recent">
              <el-table :data="desk.recent" size="small" empty-text="本次登录后尚无来电">
                <el-table-column label="号码" prop="caller"/>
                <el-table-column label="通话编号"><template #default="{ row }"><span class="hl-mono small">{{ row.id }}</span></template></el-table-column>
                <el-table-column label="操作" width="120"><template #default="{ row }">
                  <el-button size="small" @click="reopen(row.id)">查看/补工单</el-button></template></el-table-column>
              </el-table>
            </el-tab-pane>
          </el-tabs>
        </el-card>
      </section>
      <aside class="right">
        <el-card shadow="never" class="aside-card">
          <el-tabs v-model="desk.aside">
            <el-tab-pane label="知识库" name="knowledge"><knowledge-panel/></el-tab-pane>
            <el-tab-pane label="服务用语" name="phrases"><phrase-panel/></el-tab-pane>
          </el-tabs>
        </el-card>
      </aside>
    </main>
  </div>`,
  setup() {
    const roleLabel = ref("");
    const ROLES = { agent: "坐席", supervisor: "班长", admin: "管理员", auditor: "审计", engineer: "工程师" };

    async function start() {
      const me = await session();
      if (!me || me.must_change_password) return goSignIn();
      desk.user = me.user;
      desk.agent = me.user.agent_id || null;
      roleLabel.value = ROLES[me.user.role] || me.user.role;
      if (!desk.agent) return;
      desk.tab = "tickets";
      await loadReference();
      const feed = new LiveFeed();
      feed.addEventListener("state", (e) => {
        desk.feed = e.detail;
        if (e.detail === "open") refreshAgent().catch(() => {});  // what happened while the feed was away
      });
      feed.addEventListener("event", (e) => onFeedEvent(e.detail));
      feed.addEventListener("signed-out", () => goSignIn());
      feed.start();
      await refreshAgent();
      const last = lastCall();
      if (!desk.call && last) openCall(last, "ended");  // after a reload: the last call and its drafts are back
      setInterval(() => { desk.now = Date.now(); }, 500);
      desk.phoneState = "loading";
      try {
        const phone = await startPhone(desk.user, document.getElementById("remote-audio"), onPhone);
        rememberPhone(phone);
        desk.phoneState = phone ? phone.state : "none";
      } catch (err) {
        desk.phoneState = "failed";
        ElMessage({ type: "error", message: `网页话机启动失败：${err.text || err.message || err}`, showClose: true });
      }
    }

    function onPhone(name, detail, phone) {
      if (name === "state") {
        desk.phoneState = (detail && detail.state) || phone.state;
        if (desk.phoneState !== "ringing") desk.incoming = null;
      } else if (name === "incoming") {
        desk.incoming = detail || {};
        const headers = Object.fromEntries(Object.entries(desk.incoming.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
        const callId = headers["x-hotline-call"];  // the offer says which call it is: the pop need not wait for the feed
        if (callId) {
          openCall(callId, "ringing");
          if (desk.incoming.from) showQuick({ caller: desk.incoming.from, flags: [], watch: false, waited_ms: null });
        }
      } else if (name === "ended") {
        desk.incoming = null;
        desk.muted = false;
        desk.held = false;
      } else if (name === "microphone-denied") {
        desk.phoneState = "microphone_denied";
        ElMessage({ type: "error", message: "无法使用麦克风：请在浏览器中允许本页面使用麦克风", duration: 0, showClose: true });
      }
    }

    function reopen(id) {
      openCall(id, "ended");
      desk.tab = "tickets";
    }

    onMounted(() => start().catch((err) => ElMessage.error(`工作台启动失败：${err.text || err.message || err}`)));
    return { desk, roleLabel, reopen, quit: signOut, loadPop };
  },
};

createApp(Desk).use(ElementPlus, { locale: zhCn }).component("TicketForm", TicketForm).mount("#app");
