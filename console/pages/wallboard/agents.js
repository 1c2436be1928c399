// The agents grid, coloured by state, with time in state and their caller's wait; per agent 监听 / 耳语 / 强插
// (the supervisor's phone rings into the call), 强制示忙 and 强制签出, each after a confirmation.
import { computed, inject, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api } from "/common/api.js";
import { clock } from "./live.js";

export const STATE_TEXT = { ready: "就绪", offered: "振铃", on_call: "通话", wrap_up: "话后", paused: "示忙",
                            signed_out: "签出" };
const SPY_TEXT = { listen: "监听", whisper: "耳语", barge: "强插" };
const PHONE_KEY = "hotline.wallboard.phone";
const ERRORS = { not_a_supervisor_phone: "该话机不是班长话机", cannot_spy: "该坐席当前不在通话中，无法监听",
                 agent_busy: "坐席通话中", agent_not_found: "坐席不存在", forbidden: "无权操作该坐席" };

function problem(err) {
  return ERRORS[err.id] || err.text || String(err);
}

// The phone a supervisor listens in from: their own (an account with an agent number), else one of the
// dialplan's supervisor phones chosen in the page and remembered in this browser.
export function spyPhone(me) {
  const chosen = ref(localStorage.getItem(PHONE_KEY) || "");
  const phone = computed(() => me.agent_id || chosen.value);
  function choose(value) {
    chosen.value = value;
    localStorage.setItem(PHONE_KEY, value);
  }
  return { phone, chosen, choose, own: !!me.agent_id };
}

export const AgentGrid = {
  props: { agents: Array, elapsed: Number, phone: String, pauseLimit: Number, canAct: Boolean },
  emits: ["changed"],
  setup(props, { emit }) {
    const me = inject("me");
    async function spy(agent, mode) {
      if (!props.phone) {
        ElMessage.warning("请先在右上角选择监听话机");
        return;
      }
      try {
        await ElMessageBox.confirm(`用话机 ${props.phone} ${SPY_TEXT[mode]}坐席 ${agent.agent} ${agent.name}？`,
                                   SPY_TEXT[mode], { confirmButtonText: SPY_TEXT[mode], cancelButtonText: "取消" });
      } catch { return; }
      try {
        await api("POST", `/api/agents/${encodeURIComponent(agent.agent)}/spy`, { mode, phone: props.phone });
        ElMessage.success(`话机 ${props.phone} 正在振铃，接起即可${SPY_TEXT[mode]}`);
      } catch (err) { ElMessage.error(problem(err)); }
    }
    async function force(agent, state) {
      const what = state === "paused" ? "强制示忙" : "强制签出";
      try {
        await ElMessageBox.confirm(`${what}坐席 ${agent.agent} ${agent.name}？`, what,
                                   { confirmButtonText: what, cancelButtonText: "取消", type: "warning" });
      } catch { return; }
      try {
        await api("POST", `/api/agents/${encodeURIComponent(agent.agent)}/state`,
                  state === "paused" ? { state, reason: "班长示忙" } : { state });
        ElMessage.success(`坐席 ${agent.agent} 已${state === "paused" ? "示忙" : "签出"}`);
        emit("changed");
      } catch (err) { ElMessage.error(problem(err)); }
    }
    function act(agent, command) {
      if (command === "paused" || command === "signed_out") force(agent, command);
      else spy(agent, command);
    }
    const since = (a) => a.since_s + props.elapsed;
    const waited = (a) => (a.state === "offered" ? a.caller_wait_s + props.elapsed : a.caller_wait_s);
    const long = (a) => a.state === "paused" && since(a) > props.pauseLimit;
    return { STATE_TEXT, act, clock, since, waited, long, me };
  },
  template: `
  <div class="wb-agents" data-test="agents">
    <div v-for="a in agents" :key="a.agent" class="wb-agent" :class="['s-' + a.state, { long: long(a) }]"
         :data-test="'agent-' + a.agent" :data-state="a.state">
      <div class="wb-agent-top">
        <span class="wb-agent-id hl-mono">{{ a.agent }}</span>
        <span class="wb-agent-name">{{ a.name }}</span>
        <el-dropdown v-if="canAct" trigger="click" @command="(c) => act(a, c)">
          <span class="wb-agent-menu" :data-test="'actions-' + a.agent">⋯</span>
          <template #dropdown>
            <el-dropdown-menu>
              <el-dropdown-item command="listen" :disabled="a.state !== 'on_call'" data-test="spy-listen">监听</el-dropdown-item>
              <el-dropdown-item command="whisper" :disabled="a.state !== 'on_call'" data-test="spy-whisper">耳语</el-dropdown-item>
              <el-dropdown-item command="barge" :disabled="a.state !== 'on_call'" data-test="spy-barge">强插</el-dropdown-item>
              <el-dropdown-item command="paused" divided :disabled="a.state === 'paused' || a.state === 'signed_out'"
                                data-test="force-pause">强制示忙</el-dropdown-item>
              <el-dropdown-item command="signed_out" :disabled="a.state === 'signed_out'" data-test="force-sign-out">强制签出</el-dropdown-item>
            </el-dropdown-menu>
          </template>
        </el-dropdown>
      </div>
      <div class="wb-agent-state">
        <span class="wb-state" data-test="state">{{ STATE_TEXT[a.state] || a.state }}</span>
        <span class="hl-mono" data-test="since">{{ clock(since(a)) }}</span>
      </div>
      <div class="wb-agent-foot">
        <span v-if="a.state === 'paused' && a.reason" class="wb-reason" :title="a.reason">{{ a.reason }}</span>
        <span v-else-if="a.caller_wait_s !== null" title="该来电接通前等待的时间">候 {{ clock(waited(a)) }}</span>
        <span v-else class="hl-muted">{{ a.team || "" }}</span>
      </div>
    </div>
    <el-empty v-if="!agents.length" description="没有可显示的坐席"/>
  </div>`,
};
