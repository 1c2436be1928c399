// 回访/回电: the work list of callback requests and voice messages: 领取, play the message, 拨打 from the agent's
// phone, the outcome (已联系上 / 无人接听 / 忙线 / 号码错误); a reached citizen gets a ticket like an inbound call.
import { computed, onMounted, ref } from "vue";
import { ElMessage } from "element-plus";
import { api, ApiError } from "/common/api.js";
import { act, desk } from "./store.js";

const KINDS = { callback: "回电请求", voice_message: "语音留言", message: "语音留言" };
const STATUSES = { open: "待处理", pending: "待处理", due: "待处理", claimed: "已领取", dialling: "拨打中",
                   retry: "待重拨", reached: "已联系上", done: "已完成", failed: "未联系上", closed: "已完成" };
const OUTCOMES = [["reached", "已联系上", "success"], ["no_answer", "无人接听", "warning"], ["busy", "忙线", "warning"],
                  ["wrong_number", "号码错误", "danger"]];

export const CallbackList = {
  template: `
  <div class="callbacks" data-test="callbacks">
    <div class="tickets-head">
      <el-radio-group v-model="kind" size="small" @change="reload">
        <el-radio-button value="">全部</el-radio-button>
        <el-radio-button value="callback">回电请求</el-radio-button>
        <el-radio-button value="voice_message">语音留言</el-radio-button>
      </el-radio-group>
      <el-button size="small" @click="reload" :loading="loading">刷新</el-button>
    </div>
    <el-alert v-if="unavailable" type="info" :closable="false" title="回访/回电功能尚未启用"/>
    <el-table v-else :data="items" size="small" empty-text="暂无待回电事项" v-loading="loading" row-key="id">
      <el-table-column label="类型" width="90"><template #default="{ row }">{{ kindLabel(row) }}</template></el-table-column>
      <el-table-column label="号码" width="130"><template #default="{ row }"><span class="hl-mono">{{ row.number }}</span></template></el-table-column>
      <el-table-column label="来电时间" width="120"><template #default="{ row }">{{ when(row.created_at || row.requested_at) }}</template></el-table-column>
      <el-table-column label="状态" width="110"><template #default="{ row }">
        <el-tag size="small">{{ statusLabel(row) }}</el-tag>
        <div v-if="row.due_at" class="hl-muted small">{{ when(row.due_at) }} 重拨</div></template></el-table-column>
      <el-table-column label="尝试" width="60" prop="attempts"/>
      <el-table-column label="操作">
        <template #default="{ row }">
          <div class="row-actions">
            <audio v-if="row.has_message || row.kind === 'voice_message'" controls preload="none" :src="'/api/callbacks/' + row.id + '/message'"></audio>
            <el-button v-if="!mine(row)" size="small" type="primary" @click="claim(row)" :data-test="'claim-' + row.id">领取</el-button>
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
        items.value = answer.callbacks || answer.items || answer.requests || [];
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
      const done = await act("拨打", "POST", path(row, "dial"), { phone: desk.agent });
      if (!done) return;
      ElMessage.success("正在拨打，请接听话机");
      if (done.call_id) desk.ticketCall = done.call_id;
      row.call_id = done.call_id || row.call_id;
    }
    async function outcome(row, what) {
      const done = await act("记录结果", "POST", path(row, "outcome"), { outcome: what });
      if (!done) return;
      ElMessage.success("已记录");
      if (what === "reached" && (done.call_id || row.call_id)) {  // a reached citizen becomes a ticket
        desk.ticketCall = done.call_id || row.call_id;
        desk.tab = "tickets";
      }
      reload();
    }
    onMounted(reload);
    return {
      items, kind, loading, unavailable, reload, claim, release, dial, outcome, outcomes: OUTCOMES,
      mine: (row) => row.claimed_by && (row.claimed_by === desk.agent || row.claimed_by === desk.user.username),
      kindLabel: (row) => KINDS[row.kind] || row.kind,
      statusLabel: (row) => STATUSES[row.status] || row.status,
      when: (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", month: "2-digit",
                                                                     day: "2-digit", hour: "2-digit", minute: "2-digit" }) : ""),
    };
  },
};
