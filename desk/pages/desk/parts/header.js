// The desk's header: who is at the desk, their state with 就绪 / 小休 (reasons) / 话后处理 time left and 延长,
// the phone's state with mute, hold, keypad and microphone, and 退出.
import { computed } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { signOut, signOutEverywhere } from "/common/api.js";
import { PHONE_OK, PHONE_STATES } from "./phone.js";
import { desk, extendWrapUp, forgetLastCall, PAUSE_REASONS, setState, STATE_LABELS } from "./store.js";
import { forgetDrafts, unsubmitted } from "./tickets.js";

const STATE_TYPES = { ready: "success", paused: "warning", offered: "danger", on_call: "danger", wrap_up: "primary",
                      signed_out: "info" };

export const DeskHeader = {
  template: `
  <header class="desk-header">
    <div class="hl-brand"><span class="hl-emblem">12345</span><span>坐席工作台</span></div>
    <div class="who" data-test="who">{{ desk.user.name || desk.user.username }} <span class="hl-mono">工号 {{ desk.agent }}</span></div>
    <div class="state">
      <el-tag disable-transitions :type="stateType" effect="dark" size="large" data-test="agent-state">{{ stateLabel }}</el-tag>
      <span v-if="desk.agentState.state === 'wrap_up'" class="wrap-left" data-test="wrap-left">剩余 {{ wrapLeft }} 秒</span>
    </div>
    <div class="actions">
      <el-button type="success" :disabled="busy" @click="ready" data-test="ready">就绪</el-button>
      <el-dropdown trigger="click" @command="pause" :disabled="busy">
        <el-button type="warning" :disabled="busy" data-test="pause">小休 ▾</el-button>
        <template #dropdown>
          <el-dropdown-menu>
            <el-dropdown-item v-for="r in reasons" :key="r" :command="r" :data-test="'pause-' + r">{{ r }}</el-dropdown-item>
          </el-dropdown-menu>
        </template>
      </el-dropdown>
      <el-button :disabled="desk.agentState.state !== 'wrap_up'" @click="extend" data-test="extend">话后处理 延长</el-button>
    </div>
    <div class="phone">
      <el-tooltip :content="desk.phoneState" placement="bottom">
        <el-tag disable-transitions :type="phoneType" effect="plain" data-test="phone-state">话机：{{ phoneLabel }}</el-tag>
      </el-tooltip>
      <template v-if="desk.phone">
        <el-button size="small" :type="desk.muted ? 'danger' : ''" @click="toggleMute" data-test="mute">{{ desk.muted ? '取消静音' : '静音' }}</el-button>
        <el-button size="small" :type="desk.held ? 'warning' : ''" @click="toggleHold" data-test="hold">{{ desk.held ? '恢复' : '保持' }}</el-button>
        <el-popover placement="bottom" :width="200" trigger="click">
          <template #reference><el-button size="small" data-test="keypad">拨号盘</el-button></template>
          <div class="keypad"><el-button v-for="k in keys" :key="k" @click="dtmf(k)">{{ k }}</el-button></div>
        </el-popover>
        <el-select v-model="desk.microphone" size="small" placeholder="麦克风" style="width: 150px" @change="useMicrophone"
                   @visible-change="listMicrophones" data-test="microphone">
          <el-option v-for="m in desk.microphones" :key="m.deviceId" :label="m.label || '麦克风'" :value="m.deviceId"/>
        </el-select>
      </template>
    </div>
    <el-tag disable-transitions :type="desk.feed === 'open' ? 'success' : 'danger'" effect="plain" size="small" data-test="feed-state">
      {{ desk.feed === 'open' ? '实时连接正常' : '实时连接中断，重连中' }}</el-tag>
    <el-dropdown class="quit" split-button type="primary" @click="quit" @command="quitEverywhere">
      <span data-test="sign-out">退出</span>
      <template #dropdown><el-dropdown-menu>
        <el-dropdown-item command="everywhere" data-test="sign-out-everywhere">退出所有设备</el-dropdown-item>
      </el-dropdown-menu></template>
    </el-dropdown>
  </header>`,
  setup() {
    const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
    const stateLabel = computed(() => {
      const s = desk.agentState;
      return `状态：${STATE_LABELS[s.state]}` + (s.state === "paused" && s.reason ? `（${s.reason}）` : "");
    });
    const stateType = computed(() => STATE_TYPES[desk.agentState.state] || "info");
    const wrapLeft = computed(() => Math.max(0, Math.ceil((desk.agentState.wrapUntil - desk.now) / 1000)));
    const phoneLabel = computed(() => PHONE_STATES[desk.phoneState] || desk.phoneState);
    const phoneType = computed(() => (PHONE_OK.includes(desk.phoneState) ? "success"
      : ["none", "loading", "connecting"].includes(desk.phoneState) ? "info" : "danger"));
    const busy = computed(() => ["offered", "on_call"].includes(desk.agentState.state));

    // signing out of the desk signs the agent out of the ACD too (not mid-call: the call ends first)
    async function leave(how) {
      if (["offered", "on_call"].includes(desk.agentState.state)) {
        ElMessage.warning("通话中不能退出，请先结束通话");
        return;
      }
      const open = unsubmitted();
      if (open) {
        try {
          await ElMessageBox.confirm(`本机还有 ${open} 张未提交的工单草稿。退出后本机草稿将清除（已“保存草稿”的仍在系统中）。`,
                                     "确认退出", { type: "warning", confirmButtonText: "退出", cancelButtonText: "返回" });
        } catch { return; }
      }
      forgetDrafts();
      forgetLastCall();
      if (desk.agentState.state !== "signed_out") await setState("signed_out");
      if (desk.phone) await desk.phone.stop();
      await how();
    }
    async function listMicrophones(open) {
      if (open && desk.phone) desk.microphones = await desk.phone.devices();
    }
    return {
      desk, keys, stateLabel, stateType, wrapLeft, phoneLabel, phoneType, busy, reasons: PAUSE_REASONS,
      ready: () => setState("ready"),
      pause: (reason) => setState("paused", reason),
      extend: () => extendWrapUp(60),
      async toggleMute() { desk.muted = await desk.phone.mute(!desk.muted); },
      async toggleHold() {
        try { desk.held = await desk.phone.hold(!desk.held); } catch (err) { ElMessage.error(`保持失败：${err.message || err}`); }
      },
      dtmf: (key) => desk.phone.sendDtmf(key),
      listMicrophones,
      useMicrophone: (id) => desk.phone.useMicrophone(id),
      quit: () => leave(signOut),
      quitEverywhere: () => leave(signOutEverywhere),
    };
  },
};
