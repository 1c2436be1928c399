// The caller on screen: the ringing banner with 接听, then the screen pop (number, line dialled, route and keys,
// time waited, flags with the recorded-line warning first, earlier calls with ratings and tickets).
import { computed } from "vue";
import { ElMessage } from "element-plus";
import { desk } from "./store.js";

const FLAG_LABELS = { vip: "VIP", elderly: "老年人", watch: "重点关注", repeat_caller: "重复来电", emergency: "紧急" };
const FLAG_TYPES = { vip: "warning", elderly: "success", watch: "danger", emergency: "danger", repeat_caller: "info" };

export function clock(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit",
                                                 hour: "2-digit", minute: "2-digit" });
}

export function seconds(ms) {
  if (ms === null || ms === undefined) return "—";
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} 秒` : `${Math.floor(s / 60)} 分 ${s % 60} 秒`;
}

export const CallerPanel = {
  template: `
  <el-card class="caller" shadow="never" data-test="caller-panel">
    <template #header>
      <div class="card-head"><span>来电信息</span>
        <el-tag disable-transitions v-if="call" :type="stateType" effect="dark" data-test="call-state">{{ stateLabel }}</el-tag></div>
    </template>
    <div v-if="!call" class="idle hl-muted" data-test="idle">暂无来电。点击“就绪”开始接听。</div>
    <template v-else>
      <div v-if="call.state === 'ringing'" class="ringing" data-test="ringing">
        <div class="ring-title">新来电 · {{ caller || '…' }}</div>
        <el-button type="success" size="large" @click="answer" data-test="answer">接听</el-button>
        <div class="hl-muted ring-hint">{{ desk.phone ? (desk.incoming ? '网页话机振铃中' : '等待话机振铃…') : '请在桌面话机上接听' }}</div>
      </div>
      <el-alert v-if="watch" type="error" :closable="false" show-icon class="watch" data-test="watch-warning"
                title="重点关注来电 · 通话录音提示">
        <div>该来电人已在重点关注名单（或已被警示），系统已向其播放：“{{ pop ? pop.flags.warning : (desk.reference.phrases || {}).watch_warning }}”</div>
        <div>请规范用语，必要时使用“恶意骚扰”服务用语。</div>
      </el-alert>
      <el-alert v-if="call.popError" type="error" :closable="false" :title="'来电信息读取失败：' + call.popError"/>
      <template v-if="caller">
        <div class="number hl-mono" data-test="pop-number">{{ caller }}</div>
        <div class="flags" data-test="pop-flags">
          <el-tag disable-transitions v-for="f in flags" :key="f.kind" :type="flagType(f.kind)" effect="dark">{{ f.label }}</el-tag>
          <span v-if="!flags.length" class="hl-muted">无标记</span>
        </div>
      </template>
      <el-skeleton v-if="!pop && !call.popError" :rows="4" animated/>
      <template v-if="pop">
        <el-descriptions :column="1" size="small" border class="facts">
          <el-descriptions-item :label="pop.direction === 'outbound' ? '外呼号码' : '呼入热线'"><span data-test="pop-line">{{ lineLabel }}</span></el-descriptions-item>
          <el-descriptions-item label="路由与按键"><span data-test="pop-route">{{ route }}</span></el-descriptions-item>
          <el-descriptions-item label="等待时长"><span data-test="pop-waited">{{ seconds(pop.waited_ms) }}</span></el-descriptions-item>
          <el-descriptions-item label="呼入时间">{{ clock(pop.started_at) }}</el-descriptions-item>
          <el-descriptions-item label="通话编号"><span class="hl-mono small">{{ pop.call_id }}</span></el-descriptions-item>
        </el-descriptions>
        <div class="history" data-test="pop-history">
          <div class="section">历史来电（{{ pop.history.length }}）</div>
          <div v-if="!pop.history.length && !pop.tickets.length" class="hl-muted">首次来电</div>
          <el-timeline>
            <el-timeline-item v-for="c in pop.history" :key="c.call_id" :timestamp="clock(c.started_at)" placement="top">
              <div class="hist-line">
                <span>{{ c.dialled }}</span>
                <span>{{ c.agent ? ('坐席 ' + (c.agent_name || '') + ' ' + c.agent) : (c.outcome_label || '未接通') }}</span>
                <el-tag disable-transitions size="small" :type="c.rating && c.rating >= 4 ? 'danger' : 'info'">{{ c.rating_label ? ('评价：' + c.rating_label) : '未评价' }}</el-tag>
              </div>
              <div v-for="t in c.tickets" :key="t.id" class="hist-ticket">工单 {{ t.number }} · {{ t.title || '（无标题）' }}
                <el-tag disable-transitions size="small" effect="plain">{{ t.status_label }}</el-tag></div>
            </el-timeline-item>
          </el-timeline>
          <div v-for="t in pop.tickets" :key="t.id" class="hist-ticket">工单 {{ t.number }} · {{ t.title || '（无标题）' }}
            <el-tag disable-transitions size="small" effect="plain">{{ t.status_label }}</el-tag></div>
        </div>
      </template>
    </template>
  </el-card>`,
  setup() {
    const call = computed(() => desk.call);
    const pop = computed(() => desk.call && desk.call.pop);
    const quick = computed(() => desk.call && desk.call.quick);
    const caller = computed(() => (pop.value ? pop.value.caller : quick.value && quick.value.caller));
    const flags = computed(() => (pop.value ? pop.value.flags.labels
      : (quick.value ? quick.value.flags.map((kind) => ({ kind, label: FLAG_LABELS[kind] || kind })) : [])));
    const watch = computed(() => (pop.value ? pop.value.flags.watch : !!(quick.value && quick.value.watch)));
    const labels = { ringing: "振铃中", talking: "通话中", ended: "已结束", missed: "未接通" };
    const types = { ringing: "danger", talking: "success", ended: "info", missed: "warning" };
    const stateLabel = computed(() => labels[desk.call.state] || desk.call.state);
    const stateType = computed(() => types[desk.call.state] || "info");
    const route = computed(() => {
      const p = pop.value;
      const keys = p.keys.filter((k) => k.key).map((k) => k.key).join("、");
      const parts = [p.route.skill_label || p.route.skill || "—"];
      if (keys) parts.push(`按键 ${keys}`);
      if (p.route.overflow) parts.push("分中心溢出");
      if (p.route.transferred_from) parts.push(`由坐席 ${p.route.transferred_from} 转入`);
      return parts.join(" · ");
    });
    const lineLabel = computed(() => {
      const p = pop.value;
      if (!p.line) return "—";
      return p.direction === "outbound" ? `回电 · 以 ${p.line.number} 外呼` : p.line.label;
    });
    async function answer() {
      if (desk.phone && desk.incoming) {
        try {
          if (!(await desk.phone.answer())) ElMessage.error("接听失败：麦克风不可用，或来电已结束");
        } catch (err) {
          ElMessage.error(`接听失败：${err.message || err}`);
        }
      } else {
        ElMessage.info(desk.phone ? "网页话机尚未振铃，请稍候" : "请在桌面话机上接听");
      }
    }
    return { desk, call, pop, caller, flags, watch, stateLabel, stateType, route, lineLabel, answer, clock, seconds,
             flagType: (kind) => FLAG_TYPES[kind] || "info" };
  },
};
