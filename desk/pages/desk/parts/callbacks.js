// 回访/回电: the work list of callback requests and voice messages: 领取, play the message, 拨打 from the agent's
// phone, the outcome (已联系上 / 无人接听 / 忙线 / 号码错误); a reached citizen gets a ticket like an inbound call.
import { onMounted, onUnmounted, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { api, ApiError } from "/common/api.js";
import { act, desk, openCall } from "./store.js";

const KINDS = { callback_request: "回电请求", voice_message: "语音留言" };
const STATUSES = { open: "待处理", claimed: "已领取", calling: "拨打中", done: "已完成", failed: "未联系上" };
const LAST = { no_answer: "上次无人接听", busy: "上次忙线", reached: "已联系上", wrong_number: "号码错误",
               exhausted: "多次未接通" };
const OUTCOMES = [["reached", "已联系上", "success"], ["no_answer", "无人接听", "warning"], ["busy", "忙线", "warning"],
                  ["wrong_number", "号码错误", "danger"]];

const when = (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", month: "2-digit",
                                                                   day: "2-digit", hour: "2-digit", minute: "2-digit" }) : "");

export const CallbackList = {
  template: `
  <div class="callbacks" data-test="callbacks">
    <div class="tickets-head">
      <el-radio-group v-model="kind" size="small" @change="reload">
        <el-radio-button value="">全部</el-radio-button>
        <el-radio-button value="callback_request">回电请求</el-radio-button>
        <el-radio-button value="voice_message">语音留言</el-radio-button>
      </el-radio-group>
      <el-button size="small" @click="reload" :loading="loading">刷新</el-button>
    </div>
    <el-alert v-if="unavailable" type="info" :closable="false" title="回访/回电功能尚未启用"/>
    <el-table v-else :data="items" size="small" empty-text="暂无待回电事项" v-loading="loading" row-key="id">
      <el-table-column label="类型" width="90"><template #default="{ row }">{{ kindLabel(row) }}</template></el-table-column>
      <el-table-column label="号码" width="130"><template #default="{ row }"><span class="hl-mono">{{ row.number }}</span></template></el-table-column>
      <el-table-column label="来电" width="130"><template #default="{ row }">{{ when(row.created_at) }}
        <div v-if="row.call" class="hl-muted small">拨打 {{ row.call.dialled }}</div></template></el-table-column>
      <el-table-column label="状态" width="120"><template #default="{ row }">
        <el-tag size="small" :type="row.claimed_by ? 'warning' : 'info'">{{ statusLabel(row) }}</el-tag>
        <div v-if="row.outcome" class="hl-muted small">{{ lastLabel(row) }}</div>
        <div v-if="row.due_at && row.attempts" class="hl-muted small">{{ when(row.due_at) }} 起重拨</div></template></el-table-column>
      <el-table-column label="尝试" width="64"><template #default="{ row }">{{ row.attempts }}/{{ row.max_attempts }}</template></el-table-column>
      <el-table-column label="操作">
        <template #default="{ row }">
          <div class="row-actions">
            <audio v-if="row.has_message && mine(row)" controls preload="none" :src="'/api/callbacks/' + row.id + '/message'"
                   :data-test="'message-' + row.id"></audio>
            <el-button v-if="!row.claimed_by" size="small" type="primary" @click="claim(row)" :data-test="'claim-' + row.id">领取</el-button>
            <span v-else-if="!mine(row)" class="hl-muted small">坐席 {{ row.claimed_by }} 处理中</span>
            <template v-else>
              <el-button size="small" type="success" @click="dial(row)" :data-test="'dial-' + row.id">拨打</el-button>
              <el-button v-for="o in outcomes" :key="o[0]" size="small" :type="o[2]" plain @click="outcome(row, o[0])"
                         :data-test="'outcome-' + o[0] + '-' + row.id">{{ o[1] }}</el-button>
              <el-button size="small" text @click="release(row)">放弃</el-button>
            </template>
          </div>
        </template>
      </el-table-column>
    </el-table>
  </div>`,
  setup() {
    const items = ref([]);
    const kind = ref("");
    const loading = ref(false);
    const unavailable = ref(false);
    async function reload() {
      loading.value = true;
      try {
        const query = kind.value ? `?kind=${kind.value}` : "";
        const answer = await api("GET", `/api/callbacks${query}`);
        items.value = answer.callbacks;
        unavailable.value = false;
      } catch (err) {
        if (err instanceof ApiError && (err.status === 404 || err.status === 405)) unavailable.value = true;
        else if (err instanceof ApiError) ElMessage.error(`回电列表读取失败：${err.text}`);
        else throw err;
      } finally { loading.value = false; }
    }
    const path = (row, what) => `/api/callbacks/${row.id}/${what}`;
    async function claim(row) { if (await act("领取", "POST", path(row, "claim"))) { ElMessage.success("已领取"); reload(); } }
    async function release(row) { if (await act("放弃", "POST", path(row, "release"))) reload(); }
    async function dial(row) {
      const done = await act("拨打", "POST", path(row, "dial"));
      if (!done) return;
      ElMessage.success("话机振铃后接起，系统随即以热线号码呼叫市民");
      reload();
    }
    async function outcome(row, what) {
      const done = await act("记录结果", "POST", path(row, "outcome"), { outcome: what });
      if (!done) return;
      const due = done.due_at ? `，${when(done.due_at)} 起可再次拨打` : "";
      ElMessage.success(done.status === "retry" ? `已记录${due}` : "已记录，事项已关闭");
      if (what === "reached" && done.call_id) {  // a reached citizen becomes a ticket, like an inbound call
        openCall(done.call_id, "ended");
        desk.tab = "tickets";
      }
      reload();
    }
    onMounted(reload);
    const timer = setInterval(() => { if (desk.tab === "callbacks") reload(); }, 30000);
    onUnmounted(() => clearInterval(timer));
    watch(() => desk.callbackChanges, reload);  // the live feed says the list changed
    return {
      items, kind, loading, unavailable, reload, claim, release, dial, outcome, outcomes: OUTCOMES,
      mine: (row) => row.claimed_by === desk.agent,
      lastLabel: (row) => LAST[row.outcome] || row.outcome,
      kindLabel: (row) => KINDS[row.kind] || row.kind,
      statusLabel: (row) => STATUSES[row.status] || row.status,
      when,
    };
  },
};
