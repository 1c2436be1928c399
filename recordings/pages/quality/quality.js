// 录音质检: the flagged calls (静音, 抢话, 短通话, 差评), a player over the stored two-channel recording (the
// waveform with a moving cursor; both channels, or the citizen's or the agent's side alone through Web Audio),
// the score sheet from the standards, and the comment thread. An agent sees only their own calls and scores
// (我的质检, the sheet read-only; they may reply); auditors read all and score nothing. The API decides again.
import { computed, inject, onBeforeUnmount, reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { api } from "/common/api.js";
import { startConsole } from "/common/console.js";

export const FLAG_TEXT = { silence: "静音", talk_over: "抢话", short: "短通话", bad_rating: "差评" };
const FLAG_TYPE = { silence: "info", talk_over: "warning", short: "", bad_rating: "danger" };
const FILTERS = [["any", "全部标记"], ["silence", "静音"], ["talk_over", "抢话"], ["short", "短通话"],
                 ["bad_rating", "差评"], ["review", "系统复核"], ["all", "全部通话"]];
const ROLE_TEXT = { agent: "坐席", supervisor: "班长", auditor: "审计", admin: "管理员" };
// How the two channels reach the ears: [left→left, right→right, left→right, right→left] gains.
const CHANNELS = { both: [1, 1, 0, 0], caller: [1, 0, 1, 0], agent: [0, 1, 0, 1] };

const CHINA = "Asia/Shanghai";  // the hotline's days and times are China's, wherever the browser is
const day = (d) => d.toLocaleDateString("sv-SE", { timeZone: CHINA });  // YYYY-MM-DD
const clock = (s) => (Number.isFinite(s) ? `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}` : "–");
const when = (iso) => new Date(iso).toLocaleString("zh-CN", { hour12: false, timeZone: CHINA });
const short = (iso) => new Date(iso).toLocaleString("zh-CN", { hour12: false, timeZone: CHINA, month: "2-digit",
                                                               day: "2-digit", hour: "2-digit", minute: "2-digit" });

// The recording: <audio> streams it with range requests; Web Audio splits its channels for listening.
const Player = {
  props: { recording: Object, duration: Number },
  template: `
  <div data-test="player">
    <div class="q-wave" data-test="waveform" @click="seekTo">
      <img v-if="recording.waveform && !noWave" :src="'/api/recordings/' + recording.id + '/waveform'" alt="波形"
           @error="noWave = true">
      <div v-else class="q-nowave">暂无波形图</div>
      <div class="q-cursor" data-test="cursor" :style="{ left: progress + '%' }"></div>
    </div>
    <div class="q-channels"><span>左声道：市民</span><span>右声道：坐席（市民听到的一侧，含系统提示音）</span></div>
    <div class="q-controls">
      <el-button type="primary" data-test="play" @click="toggle">{{ playing ? "暂停" : "播放" }}</el-button>
      <span class="q-time" data-test="time">{{ clock(now) }} / {{ clock(length) }}</span>
      <el-radio-group v-model="channels" size="small" data-test="channels">
        <el-radio-button value="both">双声道</el-radio-button>
        <el-radio-button value="caller">仅市民</el-radio-button>
        <el-radio-button value="agent">仅坐席</el-radio-button>
      </el-radio-group>
    </div>
    <audio ref="audio" :src="'/api/recordings/' + recording.id + '/audio'" preload="metadata"
           data-test="audio" @timeupdate="tick" @play="playing = true" @pause="playing = false"
           @ended="playing = false" @loadedmetadata="tick"></audio>
  </div>`,
  setup(props) {
    const audio = ref(null);
    const now = ref(0);
    const playing = ref(false);
    const noWave = ref(false);
    const channels = ref("both");
    let ctx = null;
    let gains = [];
    let frame = 0;
    const length = computed(() => props.duration || 0);
    const progress = computed(() => (length.value ? Math.min(100, (now.value / length.value) * 100) : 0));

    function route() {  // the audio element → splitter → four gains → merger → speakers (made once, on first play)
      if (ctx) return;
      ctx = new AudioContext();
      window.hotlineQualityAudio = ctx;  // (tests follow the context's clock)
      const source = ctx.createMediaElementSource(audio.value);
      const split = ctx.createChannelSplitter(2);
      const merge = ctx.createChannelMerger(2);
      source.connect(split);
      gains = [[0, 0], [1, 1], [0, 1], [1, 0]].map(([from, to]) => {
        const g = ctx.createGain();
        split.connect(g, from);
        g.connect(merge, 0, to);
        return g;
      });
      merge.connect(ctx.destination);
      mix();
    }
    function mix() {
      CHANNELS[channels.value].forEach((v, i) => { if (gains[i]) gains[i].gain.value = v; });
    }
    function follow() {
      now.value = audio.value ? audio.value.currentTime : 0;
      if (playing.value) frame = requestAnimationFrame(follow);
    }
    async function toggle() {
      route();
      if (ctx.state === "suspended") await ctx.resume();
      if (audio.value.paused) {
        try {
          await audio.value.play();
          frame = requestAnimationFrame(follow);
        } catch (err) {
          ElMessage.error("无法播放录音：" + (err.message || err));
        }
      } else audio.value.pause();
    }
    function tick() { now.value = audio.value.currentTime; }
    function seekTo(event) {
      const box = event.currentTarget.getBoundingClientRect();
      if (!length.value) return;
      audio.value.currentTime = ((event.clientX - box.left) / box.width) * length.value;
      tick();
    }
    watch(channels, mix);
    watch(() => props.recording.id, () => { now.value = 0; noWave.value = false; });
    onBeforeUnmount(() => { cancelAnimationFrame(frame); if (ctx) ctx.close(); });
    return { audio, now, playing, noWave, channels, length, progress, toggle, tick, seekTo, clock };
  },
};

// The score sheet: each item with its points and guide; the total as it is being given.
const ScoreSheet = {
  props: { sheet: Object, call: Object, canScore: Boolean },
  emits: ["scored"],
  template: `
  <div class="q-sheet" data-test="sheet">
    <el-form label-position="left" label-width="0">
      <el-form-item v-for="item in sheet.items" :key="item.key">
        <div class="q-item" :data-test="'item-' + item.key">
          <span><b>{{ item.name }}</b>（{{ item.points }}分）</span>
          <el-input-number v-model="given[item.key]" :min="0" :max="item.points" :step="1" step-strictly
                           size="small" :disabled="!canScore" :data-test="'points-' + item.key"/>
          <span class="q-guide">{{ item.guide }}<br><span class="q-clause">依据：{{ item.clause }}</span></span>
        </div>
      </el-form-item>
      <div class="q-total" data-test="total">合计 <b>{{ total }}</b> / {{ sheet.max }} 分</div>
      <el-input v-if="canScore" v-model="comment" type="textarea" :rows="2" maxlength="2000"
                placeholder="评语（可选）" data-test="score-comment"/>
      <div v-else-if="call.score && call.score.comment" class="q-comment"><div class="q-who">评语</div>{{ call.score.comment }}</div>
      <div style="margin-top: 8px" v-if="canScore">
        <el-button type="primary" :loading="busy" data-test="save-score" @click="save">{{ call.score ? "更新评分" : "提交评分" }}</el-button>
      </div>
    </el-form>
    <div v-if="call.score" class="q-history" data-test="scored-by">
      当前评分：{{ call.score.total }} / {{ call.score.max }}，{{ call.score.scored_by_name }} 于 {{ when(call.score.scored_at) }}（第 {{ call.score.version }} 次）
      <div v-for="h in call.history.slice(1)" :key="h.version">此前：{{ h.total }} 分，{{ h.scored_by_name }} 于 {{ when(h.scored_at) }}</div>
    </div>
    <div v-else-if="!canScore" class="hl-muted" data-test="not-scored">尚未评分</div>
  </div>`,
  setup(props, { emit }) {
    const given = reactive({});
    const comment = ref("");
    const busy = ref(false);
    function load() {
      for (const item of props.sheet.items) {
        given[item.key] = props.call.score ? props.call.score.items[item.key] ?? 0 : item.points;
      }
      comment.value = props.call.score ? props.call.score.comment : "";
    }
    load();
    watch(() => [props.call.call_id, props.call.score && props.call.score.version], load);
    const total = computed(() => props.sheet.items.reduce((sum, i) => sum + (Number(given[i.key]) || 0), 0));
    async function save() {
      busy.value = true;
      try {
        const items = Object.fromEntries(props.sheet.items.map((i) => [i.key, Number(given[i.key]) || 0]));
        const stored = await api("PUT", `/api/quality/calls/${encodeURIComponent(props.call.call_id)}/score`,
                                 { items, comment: comment.value });
        ElMessage.success(`已保存：${stored.total} 分`);
        emit("scored", stored);
      } catch (err) {
        ElMessage.error(err.text);
      } finally {
        busy.value = false;
      }
    }
    return { given, comment, busy, total, save, when };
  },
};

const Comments = {
  props: { call: Object, canComment: Boolean },
  emits: ["changed"],
  template: `
  <div data-test="comments">
    <div v-if="!call.comments.length" class="hl-muted">暂无评论</div>
    <div v-for="c in call.comments" :key="c.id" class="q-comment" :class="c.role">
      <div class="q-who">{{ c.author_name }}（{{ roleText[c.role] || c.role }}） · {{ when(c.at) }}</div>{{ c.text }}
    </div>
    <div v-if="canComment" style="display: flex; gap: 8px; margin-top: 8px">
      <el-input v-model="text" maxlength="2000" :placeholder="placeholder" data-test="comment-text"/>
      <el-button :disabled="!text.trim()" data-test="send-comment" @click="send">发送</el-button>
    </div>
  </div>`,
  setup(props, { emit }) {
    const text = ref("");
    const me = inject("me");
    const placeholder = me.role === "agent" ? "回复质检意见" : "写下质检意见";
    async function send() {
      try {
        const thread = await api("POST", `/api/quality/calls/${encodeURIComponent(props.call.call_id)}/comments`,
                                 { text: text.value });
        text.value = "";
        emit("changed", thread.comments);
      } catch (err) {
        ElMessage.error(err.text);
      }
    }
    return { text, send, placeholder, when, roleText: ROLE_TEXT };
  },
};

const QualityPage = {
  components: { Player, ScoreSheet, Comments },
  template: `
  <div class="q-page">
    <div class="q-title">
      <h2 data-test="title">{{ mine ? "我的质检" : "录音质检" }}</h2>
      <span v-if="summary" class="hl-muted" data-test="summary">{{ summary }}</span>
    </div>
    <el-card shadow="never">
      <div class="q-filters">
        <el-date-picker v-model="range" type="daterange" range-separator="至" start-placeholder="开始日期"
                        end-placeholder="结束日期" value-format="YYYY-MM-DD" :clearable="false" style="width: 280px; flex: none"
                        data-test="dates"/>
        <el-select v-model="flag" style="width: 130px" data-test="flag">
          <el-option v-for="[v, t] in filters" :key="v" :value="v" :label="t"/>
        </el-select>
        <el-input v-if="!mine" v-model.trim="agent" placeholder="坐席工号" style="width: 120px" clearable data-test="agent"/>
        <el-select v-model="scored" style="width: 130px" data-test="scored">
          <el-option value="both" label="评分：全部"/><el-option value="1" label="已评"/><el-option value="0" label="未评"/>
        </el-select>
        <el-button type="primary" data-test="search" @click="search">查询</el-button>
      </div>
    </el-card>
    <div class="q-body">
      <el-card shadow="never">
        <el-table :data="calls" highlight-current-row size="small" data-test="calls" empty-text="没有符合条件的通话"
                  row-key="call_id" @row-click="open" :row-class-name="rowClass">
          <el-table-column label="时间" width="100"><template #default="{ row }">{{ short(row.started_at) }}</template></el-table-column>
          <el-table-column label="坐席" width="104"><template #default="{ row }">{{ row.agent_name || row.agent }}<span class="hl-muted">&nbsp;{{ row.agent }}</span></template></el-table-column>
          <el-table-column prop="line" label="热线" width="62"/>
          <el-table-column prop="caller" label="来电号码" width="112"/>
          <el-table-column label="通话" width="56"><template #default="{ row }">{{ clock(row.talk_s ?? row.duration_s) }}</template></el-table-column>
          <el-table-column label="标记" min-width="110"><template #default="{ row }">
            <el-tag v-for="f in row.flags" :key="f" :type="flagType[f]" size="small" class="q-flag" disable-transitions>{{ flagText[f] }}</el-tag>
          </template></el-table-column>
          <el-table-column label="评价" width="86"><template #default="{ row }">{{ row.rating_label || "未评价" }}</template></el-table-column>
          <el-table-column label="质检" width="56"><template #default="{ row }">
            <b v-if="row.score">{{ row.score.total }}</b><span v-else class="hl-muted">未评</span>
          </template></el-table-column>
        </el-table>
        <div class="q-more" v-if="next"><el-button link type="primary" data-test="more" @click="more">加载更多</el-button></div>
      </el-card>
      <el-card shadow="never" v-if="chosen" data-test="review">
        <p class="q-section">通话录音</p>
        <div class="q-meta">
          <span>坐席：{{ chosen.agent_name || "" }} {{ chosen.agent }}{{ chosen.team ? "（" + chosen.team + "）" : "" }}</span>
          <span>来电：{{ chosen.caller }} → {{ chosen.line }}</span>
          <span>时间：{{ when(chosen.started_at) }}</span>
          <span>评价：{{ chosen.rating_label || "未评价" }}</span>
          <span>标记：<el-tag v-for="f in chosen.flags" :key="f" :type="flagType[f]" size="small" class="q-flag" disable-transitions>{{ flagText[f] }}</el-tag><span v-if="!chosen.flags.length">无</span></span>
          <span>坐席通话：{{ clock(chosen.talk_s) }}</span>
        </div>
        <Player :recording="recording" :duration="recording.duration_s || chosen.duration_s"/>
        <div class="q-analysis" v-if="chosen.analysis" data-test="analysis">
          最长静音 {{ chosen.analysis.longest_silence_s }} 秒 · 抢话 {{ chosen.analysis.talk_over_s ?? "–" }} 秒 ·
          市民说话占比 {{ pct(chosen.analysis.caller_speech_ratio) }} · 坐席侧说话占比 {{ pct(chosen.analysis.heard_speech_ratio) }}
        </div>
        <el-divider/>
        <p class="q-section">质检评分{{ canScore ? "" : "（只读）" }}</p>
        <ScoreSheet v-if="sheet" :sheet="sheet" :call="chosen" :can-score="canScore" @scored="reload"/>
        <el-divider/>
        <p class="q-section">质检意见</p>
        <Comments :call="chosen" :can-comment="canComment" @changed="(c) => (chosen.comments = c)"/>
      </el-card>
      <el-card shadow="never" v-else class="hl-muted">请选择左侧的通话进行质检</el-card>
    </div>
  </div>`,
  setup() {
    const me = inject("me");
    const mine = me.role === "agent";
    const canScore = ["supervisor", "admin"].includes(me.role);
    const canComment = ["supervisor", "admin", "agent"].includes(me.role);
    const today = new Date();
    const range = ref([day(new Date(today.getTime() - 6 * 86400e3)), day(today)]);
    const flag = ref(mine ? "all" : "any");
    const agent = ref("");
    const scored = ref("both");
    const calls = ref([]);
    const next = ref(null);
    const chosen = ref(null);
    const sheet = ref(null);
    const summary = ref("");
    const recording = computed(() => {
      const c = chosen.value;
      return (c && (c.recordings.find((r) => r.id === c.recording_id) || c.recordings[0])) || {};
    });

    function query(before) {
      const q = new URLSearchParams({ from: range.value[0], to: range.value[1], flag: flag.value, limit: "50" });
      if (agent.value) q.set("agent", agent.value);
      if (scored.value !== "both") q.set("scored", scored.value);
      if (before) q.set("before", before);
      return q;
    }
    async function load(before) {
      try {
        const found = await api("GET", `/api/quality/calls?${query(before)}`);
        calls.value = before ? [...calls.value, ...found.calls] : found.calls;
        next.value = found.next;
      } catch (err) {
        ElMessage.error(err.text);
      }
    }
    async function loadSummary() {
      try {
        const q = new URLSearchParams({ from: range.value[0], to: range.value[1] });
        const s = await api("GET", `/api/quality/scores?${q}`);
        const a = s.agents;
        if (mine) summary.value = a.length ? `已评 ${a[0].scored} 通，平均 ${a[0].average} 分（满分 ${a[0].average_max}）` : "本期暂无评分";
        else summary.value = `本期已评 ${a.reduce((n, x) => n + x.scored, 0)} 通，涉及坐席 ${a.length} 人`;
      } catch (err) {
        summary.value = "";
      }
    }
    async function open(row) {
      try {
        chosen.value = await api("GET", `/api/quality/calls/${encodeURIComponent(row.call_id)}`);
      } catch (err) {
        ElMessage.error(err.text);
      }
    }
    async function reload() {
      const id = chosen.value.call_id;
      await Promise.all([open({ call_id: id }), load(), loadSummary()]);
    }
    function search() { load(); loadSummary(); }
    api("GET", "/api/quality/sheet").then((s) => (sheet.value = s)).catch((err) => ElMessage.error(err.text));
    search();
    const rowClass = ({ row }) => (chosen.value && row.call_id === chosen.value.call_id ? "current-row" : "");
    const pct = (r) => (r == null ? "–" : `${Math.round(r * 100)}%`);
    return { mine, canScore, canComment, range, flag, agent, scored, calls, next, chosen, sheet, summary, recording,
             filters: FILTERS, flagText: FLAG_TEXT, flagType: FLAG_TYPE, search, more: () => load(next.value), open,
             reload, when, short, clock, rowClass, pct };
  },
};

startConsole(QualityPage, "quality");
