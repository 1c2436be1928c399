// The plain web softphone page (/phone/): the agent's own browser phone with its keypad, for supervisors and as
// the test bed of the phone module the desk embeds. Signs in with the session cookie (or a bearer token kept in
// sessionStorage under "hotline.token", for machines and tests).
import { createApp, reactive, computed, onMounted, onUnmounted } from "vue";
import ElementPlus from "element-plus";
import zhCn from "element-plus/zh-cn";
import { createPhone } from "./phone.js";

const LABELS = {
  offline: ["未连接", "info"],
  connecting: ["正在连接", "warning"],
  registered: ["已注册，空闲", "success"],
  ringing: ["振铃中", "warning"],
  talking: ["通话中", "primary"],
  held: ["保持中", "warning"],
  reconnecting: ["连接中断，正在重连", "danger"],
  failed: ["连接失败", "danger"],
};
const REFUSALS = {
  401: "登录已失效，请重新登录",
  403: "此账号无权使用网页电话",
  404: "此账号没有坐席电话",
  409: "本坐席登记的是 SIP 话机，不是网页电话",
};
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

class Permanent extends Error {
  constructor(message) {
    super(message);
    this.permanent = true;
  }
}

async function fetchPhone() {
  const headers = { Accept: "application/json" };
  const token = window.sessionStorage.getItem("hotline.token");
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch("/api/desk/phone", { headers, credentials: "same-origin" });
  const body = await response.json().catch(() => ({}));
  if (response.ok) return body;
  const permanent = REFUSALS[response.status];
  if (permanent) throw new Permanent(permanent);
  throw new Error(`服务暂时不可用（${response.status}）`);
}

const Page = {
  template: `
  <div class="phone">
    <el-card>
      <template #header>
        <div class="row" style="justify-content: space-between">
          <strong>12345 网页电话 <span v-if="ui.agent">· 坐席 {{ ui.agent }}</span></strong>
          <span>注册状态：<el-tag :type="label[1]" data-test="state" :data-state="ui.state">{{ label[0] }}</el-tag></span>
        </div>
      </template>
      <el-alert v-if="ui.signIn" type="info" :closable="false" show-icon title="请先登录" data-test="sign-in">
        <p>{{ ui.signIn }}</p><el-link type="primary" href="/">前往登录</el-link></el-alert>
      <el-alert v-if="ui.micDenied" type="error" :closable="false" show-icon data-test="mic-denied"
        title="麦克风不可用" description="浏览器没有允许使用麦克风：请在地址栏的权限设置中允许麦克风，然后刷新页面。" />
      <el-alert v-if="ui.state === 'reconnecting'" type="warning" :closable="false" show-icon data-test="reconnecting"
        title="连接中断，正在重连" :description="ui.reason" />
      <el-alert v-if="ui.state === 'failed'" type="error" :closable="false" show-icon title="连接失败" data-test="failed">
        <p>{{ ui.reason }}</p><el-link type="primary" href="/">重新登录</el-link></el-alert>

      <div v-if="ui.caller" class="row">
        <span class="caller" data-test="caller">{{ ui.caller }}</span>
        <el-tag v-if="ui.callId" size="small" type="info">呼叫编号 {{ ui.callId }}</el-tag>
      </div>
      <div class="row">
        <el-button type="success" data-test="answer" :disabled="ui.state !== 'ringing' || ui.outgoing" @click="answer">接听</el-button>
        <el-button type="danger" data-test="hangup" :disabled="!inCall" @click="hangup">挂断</el-button>
        <el-button data-test="mute" :type="ui.muted ? 'warning' : 'default'" :disabled="!talking" @click="toggleMute">
          {{ ui.muted ? '取消静音' : '静音' }}</el-button>
        <el-button data-test="hold" :type="ui.held ? 'warning' : 'default'" :disabled="!talking" @click="toggleHold">
          {{ ui.held ? '恢复通话' : '保持' }}</el-button>
      </div>

      <el-divider content-position="left">拨号键盘</el-divider>
      <el-input v-model="ui.dial" placeholder="号码或功能码，如 *21 示闲" data-test="dial" clearable />
      <div class="keypad">
        <el-button v-for="key in keys" :key="key" :data-test="'key-' + key" @click="press(key)">{{ key }}</el-button>
      </div>
      <div class="row">
        <el-button type="primary" data-test="call" :disabled="ui.state !== 'registered' || !ui.dial" @click="call">呼叫</el-button>
      </div>

      <el-divider content-position="left">麦克风选择</el-divider>
      <el-select v-model="ui.microphone" placeholder="默认麦克风" data-test="microphone" style="width: 100%"
        @visible-change="loadDevices" @change="useMicrophone">
        <el-option v-for="d in ui.devices" :key="d.deviceId" :label="d.label || '麦克风'" :value="d.deviceId" />
      </el-select>
      <p v-if="ui.stats" class="stats" data-test="stats">
        收到语音包 {{ ui.stats.packetsReceived }} 个，音量 {{ ui.stats.audioLevel.toFixed(3) }}</p>
      <p v-if="ui.message" class="stats">{{ ui.message }}</p>
    </el-card>
  </div>`,
  setup() {
    const ui = reactive({ state: "offline", reason: "", agent: "", caller: "", callId: "", outgoing: false,
      muted: false, held: false, dial: "", devices: [], microphone: "", micDenied: false, signIn: "", stats: null,
      message: "" });
    let phone = null;
    let statsTimer = null;
    const label = computed(() => LABELS[ui.state] || LABELS.offline);
    const inCall = computed(() => ["ringing", "talking", "held"].includes(ui.state));
    const talking = computed(() => ["talking", "held"].includes(ui.state));

    function watchStats(on) {
      clearInterval(statsTimer);
      statsTimer = null;
      if (on) statsTimer = setInterval(async () => { ui.stats = await phone.inboundAudio(); }, 1000);
    }

    async function connect() {
      let config;
      try {
        config = await fetchPhone();
      } catch (error) {
        ui.signIn = error.message;
        return;
      }
      ui.agent = config.agent;
      phone = createPhone({ wsUrl: config.ws_url, uri: config.uri, username: config.username,
        password: config.password, displayName: `坐席 ${config.agent}`, iceServers: config.ice_servers,
        audioElement: document.getElementById("remote-audio"), refreshTicket: fetchPhone });
      window.hotlinePhone = phone;
      phone.addEventListener("state", (e) => {
        ui.state = e.detail.state;
        ui.reason = e.detail.reason;
        watchStats(["talking", "held"].includes(ui.state));
      });
      phone.addEventListener("incoming", (e) => {
        ui.caller = e.detail.from;
        ui.callId = e.detail.headers["X-Hotline-Call"] || "";
        ui.outgoing = false;
      });
      phone.addEventListener("ended", () => {
        ui.caller = ""; ui.callId = ""; ui.muted = false; ui.held = false; ui.outgoing = false;
      });
      phone.addEventListener("microphone-denied", () => { ui.micDenied = true; });
      await phone.start();
      if (await phone.checkMicrophone()) ui.micDenied = false;
    }

    const act = (fn) => async (...args) => {
      try {
        ui.message = "";
        await fn(...args);
      } catch (error) {
        ui.message = `操作失败：${error.message || error}`;
      }
    };
    const answer = act(async () => { await phone.answer(); });
    const hangup = act(async () => { await phone.hangup(); });
    const toggleMute = act(async () => { ui.muted = phone.mute(!ui.muted); });
    const toggleHold = act(async () => { ui.held = await phone.hold(!ui.held); });
    const call = act(async () => { ui.outgoing = true; ui.caller = ui.dial; await phone.call(ui.dial); });
    const press = act(async (key) => { if (talking.value) phone.sendDtmf(key); else ui.dial += key; });
    const loadDevices = act(async (open) => { if (open && phone) ui.devices = await phone.devices(); });
    const useMicrophone = act(async (id) => { await phone.useMicrophone(id); });

    onMounted(connect);
    onUnmounted(() => { watchStats(false); if (phone) phone.stop(); });
    return { ui, label, inCall, talking, keys: KEYS, answer, hangup, toggleMute, toggleHold, call, press,
      loadDevices, useMicrophone };
  },
};

createApp(Page).use(ElementPlus, { locale: zhCn }).mount("#app");
