// 拨号计划: the dialplan file in an editor with line numbers, its problems shown as one types (checked by the API
// 400 ms after the last key; a click on one jumps to its line), 与运行版本对比 (the file and the configs it renders
// against what runs), 应用 (confirmed; Asterisk's refusal rolled back and shown), 历史版本, and 测试呼叫: the same
// call as `hotline call`, its path as a timeline, what the caller heard and a player of it.
import { computed, nextTick, onBeforeUnmount, onMounted, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api } from "/common/api.js";
import { startConsole } from "/common/console.js";

const LINE_PX = 20; // the editor's line height (engineer.css)
const CHECK_AFTER_MS = 400;

const STEP_TEXT = {
  greeting: "问候语", transition: "并号过渡提示", watch_warning: "重点关注提示", digit: "按键", menu: "菜单提示",
  menu_key: "菜单按键", queued: "进入排队", position: "排队位置播报", expected_wait: "预计等待播报",
  emergency_hint: "紧急求助提示", agent_answered: "坐席接听", transferred: "转接", overflow: "溢出到主号",
  rating_prompt: "满意度邀评", rating_key: "满意度按键", not_rated: "未评价", rating_refused: "评价未记录",
  message_offer: "留言提示", message_left: "已留言", callback_requested: "请求回电", self_service_offer: "自助服务提示",
  self_service: "自助服务", linkage: "联动转接", measure: "骚扰来电措施", caller_lists: "名单命中", blocked: "拦截",
  agent_left: "坐席离开", requeued: "重新排队", agent: "分配坐席",
};
const DETAIL_TEXT = { prompt: "提示音", key: "按键", digit: "按键", skill: "技能", agent: "坐席", valid: "有效",
                      barge_in: "提示中按键", attempt: "次数", position: "位置", rating: "评价",
                      priority: "优先级" };
const PLAYED_FIRST = new Set(["greeting", "transition", "watch_warning"]); // noted once the caller heard them
const RATING_TEXT = { not_rated: "未评价（挂机）", rated: "已评价" };

function sha(s) { return s ? s.slice(0, 10) : "—"; }
function when(iso) { return iso ? iso.replace("T", " ").replace(/\+08:00$/, "") : "—"; }

function detailText(detail) {
  return Object.entries(detail || {}).filter(([, v]) => v !== null && v !== "" && v !== false)
    .map(([k, v]) => `${DETAIL_TEXT[k] || k} ${v === true ? "是" : v}`).join("，");
}

// The lines of unified diffs, each with the class that colours it.
function diffLines(text) {
  return text.split("\n").filter((l, i, all) => l !== "" || i < all.length - 1).map((l) => ({
    text: l,
    kind: l.startsWith("+++") || l.startsWith("---") ? "file" : l.startsWith("@@") ? "hunk"
      : l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : "",
  }));
}

const DiffView = {
  props: { files: Array },
  setup(props) { return { props, diffLines }; },
  template: `
  <div data-test="diff-view">
    <el-empty v-if="!props.files.length" description="与运行版本相同" :image-size="60"/>
    <template v-for="f in props.files" :key="f.name">
      <div class="eng-diff-name">{{ f.name }}</div>
      <div class="eng-diff"><div v-for="(l, i) in diffLines(f.diff)" :key="i" :class="l.kind">{{ l.text || " " }}</div></div>
    </template>
  </div>`,
};

const Editor = {
  props: { modelValue: String, bad: Object },
  emits: ["update:modelValue"],
  setup(props, { emit, expose }) {
    const area = ref(null);
    const gutter = ref(null);
    const here = ref(1);
    const count = computed(() => props.modelValue.split("\n").length);
    function follow() {
      gutter.value.scrollTop = area.value.scrollTop;
      const upTo = area.value.value.slice(0, area.value.selectionStart);
      here.value = upTo.split("\n").length;
    }
    function input(e) { emit("update:modelValue", e.target.value); nextTick(follow); }
    // Put the caret at the start of `line` and show it a few lines from the top.
    function jump(line) {
      const el = area.value;
      const lines = el.value.split("\n");
      const n = Math.max(1, Math.min(line || 1, lines.length));
      const start = lines.slice(0, n - 1).reduce((sum, l) => sum + l.length + 1, 0);
      el.focus();
      el.setSelectionRange(start, start + lines[n - 1].length);
      el.scrollTop = Math.max(0, (n - 4) * LINE_PX);
      el.scrollLeft = 0;
      follow();
    }
    expose({ jump });
    return { props, area, gutter, here, count, follow, input };
  },
  template: `
  <div class="eng-editor">
    <div class="eng-gutter" ref="gutter" aria-hidden="true"><span v-for="n in count" :key="n"
      :class="{ bad: props.bad[n], here: n === here }" :data-line="n">{{ n }}</span><span>&nbsp;</span></div>
    <textarea class="eng-text" ref="area" data-test="editor" spellcheck="false" wrap="off" :value="props.modelValue"
      @input="input" @scroll="follow" @click="follow" @keyup="follow" aria-label="拨号计划文件"></textarea>
  </div>`,
};

const TestCall = {
  setup() {
    const form = reactive({ number: "12345", from: "13800138000", dtmf: "", script: "" });
    const call = ref(null);
    const busy = ref(false);
    const elapsed = ref(0);
    let timer = null;
    let started = 0;
    const result = computed(() => call.value && call.value.result);
    const record = computed(() => (result.value && result.value.record) || null);
    const steps = computed(() => {
      const r = record.value;
      if (!r || !r.answered_at) return [];
      const answered = new Date(r.answered_at).getTime();
      return r.steps.map((s) => ({
        at: `+${((new Date(s.at).getTime() - answered) / 1000).toFixed(1)} 秒`,
        title: STEP_TEXT[s.step] || s.step,
        step: s.step,
        prompt: PLAYED_FIRST.has(s.step),
        detail: detailText(s.detail),
      }));
    });
    const heard = computed(() => (result.value && result.value.heard) || null);
    const rating = computed(() => {
      const r = record.value;
      return !r ? "—" : r.rating || RATING_TEXT[r.rating_status] || r.rating_status || "—";
    });
    const firstPrompt = computed(() => {
      const s = (record.value && record.value.steps || []).find((x) => x.detail && x.detail.prompt);
      return s ? s.detail.prompt : "—";
    });
    async function poll(id) {
      try {
        call.value = await api("GET", `/api/test-calls/${id}`);
      } catch (err) {
        ElMessage.error(err.text);
      }
      elapsed.value = Math.round((Date.now() - started) / 1000);
      if (call.value && call.value.state === "running") timer = setTimeout(() => poll(id), 1000);
      else busy.value = false;
    }
    async function place() {
      busy.value = true;
      call.value = null;
      started = Date.now();
      elapsed.value = 0;
      try {
        const placed = await api("POST", "/api/test-calls", { ...form });
        call.value = { id: placed.id, state: "running" };
        timer = setTimeout(() => poll(placed.id), 1000);
      } catch (err) {
        busy.value = false;
        ElMessage.error(err.id === "test_call_running" ? "您的上一通测试呼叫尚未结束"
          : err.id === "no_test_world" ? "本系统未启动模拟外部网络，无法发起测试呼叫" : err.text);
      }
    }
    onBeforeUnmount(() => clearTimeout(timer));
    return { form, call, busy, elapsed, result, record, steps, heard, rating, firstPrompt, place };
  },
  template: `
  <el-card class="eng-card eng-call" shadow="never">
    <template #header><div class="eng-head"><h2>测试呼叫</h2><span class="hl-muted">由模拟外部网络拨入，与 hotline call 相同</span></div></template>
    <el-form :model="form" label-width="64px" @submit.prevent="place">
      <el-form-item label="号码"><el-input v-model="form.number" name="number" data-test="call-number"/></el-form-item>
      <el-form-item label="主叫"><el-input v-model="form.from" name="from" data-test="call-from"/></el-form-item>
      <el-form-item label="按键"><el-input v-model="form.dtmf" name="dtmf" placeholder="问候语播放 1 秒后按下，如 1" data-test="call-dtmf"/></el-form-item>
      <el-form-item label="脚本"><el-input v-model="form.script" name="script" placeholder="可选，如 noise/wait:3/dtmf:1/wait:20" data-test="call-script"/></el-form-item>
      <el-button type="primary" native-type="submit" :loading="busy" data-test="test-call">测试呼叫</el-button>
    </el-form>
    <div v-if="call" class="eng-result" data-test="test-result">
      <el-alert v-if="call.state === 'running'" type="info" :closable="false" show-icon data-test="test-running"
        :title="'通话进行中… 已 ' + elapsed + ' 秒'"/>
      <el-alert v-else-if="call.state === 'failed'" type="error" :closable="false" show-icon title="测试呼叫失败"
        :description="call.error"/>
      <template v-else-if="result">
        <el-descriptions :column="2" border size="small" class="eng-facts">
          <el-descriptions-item label="接通"><el-tag :type="result.answered ? 'success' : 'danger'" data-test="answered">{{ result.answered ? "已接通" : "未接通" }}</el-tag></el-descriptions-item>
          <el-descriptions-item label="听到语音"><span data-test="heard-seconds">{{ heard ? heard.speech_s : 0 }}</span> 秒 / {{ heard ? heard.duration_s : 0 }} 秒</el-descriptions-item>
          <el-descriptions-item label="首个提示"><span data-test="first-prompt">{{ firstPrompt }}</span></el-descriptions-item>
          <el-descriptions-item label="按键">{{ result.dtmf_sent || "—" }} → {{ result.digit_received || "—" }}</el-descriptions-item>
          <el-descriptions-item label="路由">{{ record && record.route ? Object.values(record.route).filter(Boolean).join(" · ") : "—" }}</el-descriptions-item>
          <el-descriptions-item label="坐席">{{ (record && record.agent) || "—" }}</el-descriptions-item>
          <el-descriptions-item label="满意度">{{ rating }}</el-descriptions-item>
          <el-descriptions-item label="呼叫编号"><span class="hl-mono">{{ result.call_id || "—" }}</span></el-descriptions-item>
        </el-descriptions>
        <audio v-if="call.audio_url" class="eng-audio" controls preload="auto" :src="call.audio_url" data-test="heard-audio"></audio>
        <div class="eng-path" data-test="path">
          <el-timeline>
            <el-timeline-item v-for="(s, i) in steps" :key="i" :timestamp="s.at" placement="top"
              :type="s.step === 'greeting' ? 'primary' : s.step === 'agent_answered' ? 'success' : ''">
              <b>{{ s.title }}</b><span v-if="s.detail" class="hl-muted">（{{ s.detail }}）</span>
              <span v-if="s.prompt" class="hl-muted">· 播放完毕</span>
            </el-timeline-item>
          </el-timeline>
          <el-empty v-if="!steps.length" description="没有记录到通话路径" :image-size="50"/>
        </div>
      </template>
    </div>
  </el-card>`,
};

const EngineerPage = {
  components: { DiffView, Editor, TestCall },
  setup() {
    const file = reactive({ path: "", sha256: "", running_sha256: "", applied_at: "", applied_by: "", text: "" });
    const text = ref("");
    const problems = ref([]);
    const checking = ref(false);
    const checked = ref(false);
    const editor = ref(null);
    const diff = reactive({ open: false, files: [], busy: false });
    const history = reactive({ open: false, versions: [] });
    const applying = ref(false);
    const outcome = ref(null);
    let timer = null;
    let asked = 0;
    const bad = computed(() => Object.fromEntries(problems.value.filter((p) => p.line > 0).map((p) => [p.line, true])));
    const edited = computed(() => text.value !== file.text);
    const errors = computed(() => problems.value.filter((p) => p.level === "error").length);
    const state = computed(() => edited.value ? ["已修改，未应用", "warning"]
      : file.sha256 && file.sha256 === file.running_sha256 ? ["与运行版本一致", "success"] : ["文件与运行版本不同", "info"]);

    async function load() {
      Object.assign(file, await api("GET", "/api/dialplan"));
      text.value = file.text;
      problems.value = [];
      await check();
    }
    async function check() {
      const mine = ++asked;
      checking.value = true;
      try {
        const res = await api("POST", "/api/dialplan/check", { text: text.value });
        if (mine === asked) { problems.value = res.problems; checked.value = true; }
      } catch (err) {
        if (mine === asked) ElMessage.error(err.text);
      } finally {
        if (mine === asked) checking.value = false;
      }
    }
    function typed(value) {
      text.value = value;
      clearTimeout(timer);
      timer = setTimeout(check, CHECK_AFTER_MS);
    }
    async function showDiff() {
      diff.busy = true;
      try {
        const res = await api("POST", "/api/dialplan/diff", { text: text.value });
        diff.files = res.files;
        diff.open = true;
      } catch (err) {
        if (err.extra && err.extra.problems) problems.value = err.extra.problems;
        ElMessage.error(err.id === "dialplan_invalid" ? "文件有错误，请先修改" : err.text);
      } finally {
        diff.busy = false;
      }
    }
    async function apply() {
      try {
        await ElMessageBox.confirm("将把此版本渲染为 Asterisk 配置并重新加载，正在进行的通话不受影响。Asterisk 拒绝时自动回滚到运行版本。",
          "应用拨号计划", { confirmButtonText: "应用", cancelButtonText: "取消", type: "warning" });
      } catch { return; }
      applying.value = true;
      outcome.value = null;
      try {
        const res = await api("POST", "/api/dialplan/apply", { text: text.value, sha256: file.sha256 });
        outcome.value = res;
        if (res.applied) {
          Object.assign(file, await api("GET", "/api/dialplan"));
          ElMessage.success("已应用");
        }
      } catch (err) {
        if (err.extra && err.extra.problems) problems.value = err.extra.problems;
        outcome.value = { applied: false, refused: true, error: err.id === "dialplan_changed"
          ? "文件已被他人修改：请重新载入后再修改" : err.id === "dialplan_invalid" ? "文件有错误，未做任何改动" : err.text };
      } finally {
        applying.value = false;
      }
    }
    async function showHistory() {
      history.versions = (await api("GET", "/api/dialplan/history")).versions;
      history.open = true;
    }
    async function useVersion(v) {
      const found = await api("GET", `/api/dialplan/history/${v.sha256}`);
      typed(found.text);
      history.open = false;
      ElMessage.info(`已载入 ${v.saved_at} 的版本，应用后生效`);
    }
    async function reload() {
      try {
        await ElMessageBox.confirm("放弃未应用的修改，重新载入文件？", "重新载入", { type: "warning",
          confirmButtonText: "重新载入", cancelButtonText: "取消" });
      } catch { return; }
      outcome.value = null;
      await load();
    }
    function jump(p) { if (p.line > 0) editor.value.jump(p.line); }
    onMounted(load);
    return { file, text, problems, checking, checked, editor, diff, history, applying, outcome, bad, edited, errors, state,
             typed, showDiff, apply, showHistory, useVersion, reload, jump, sha, when };
  },
  template: `
  <div class="eng">
    <el-card class="eng-card" shadow="never">
      <template #header>
        <div class="eng-head">
          <h2>拨号计划</h2>
          <el-tag :type="state[1]" size="small" disable-transitions data-test="state">{{ state[0] }}</el-tag>
          <span class="grow"></span>
          <el-button @click="reload" data-test="reload">重新载入</el-button>
          <el-button @click="showHistory" data-test="history">历史版本</el-button>
          <el-button @click="showDiff" :loading="diff.busy" data-test="diff">与运行版本对比</el-button>
          <el-button type="primary" @click="apply" :loading="applying" :disabled="errors > 0 || checking" data-test="apply">应用</el-button>
        </div>
        <div class="hl-muted eng-sha"><span class="hl-mono" :title="file.path">{{ file.path }}</span> · 运行版本 <span class="hl-mono" data-test="running-sha">{{ sha(file.running_sha256) }}</span>
          · {{ when(file.applied_at) }} · {{ file.applied_by || "—" }}</div>
      </template>
      <Editor ref="editor" :model-value="text" @update:model-value="typed" :bad="bad"/>
      <div class="eng-problems" data-test="problems">
        <div v-if="checked && !problems.length" class="eng-ok" data-test="no-problems">✓ 检查通过</div>
        <div v-if="checking" class="hl-muted">检查中…</div>
        <div v-for="(p, i) in problems" :key="i" :class="['eng-problem', p.level]" @click="jump(p)"
          :data-test="'problem-' + p.line">
          <span class="where">{{ p.line > 0 ? "第 " + p.line + " 行" + (p.column ? "，第 " + p.column + " 列" : "") : "整个文件" }}</span>
          <span><span>{{ p.message }}</span><br><span class="fix">修改建议：{{ p.fix }}</span></span>
        </div>
      </div>
      <div v-if="outcome" class="eng-result" data-test="apply-result">
        <el-alert v-if="outcome.applied" type="success" show-icon :closable="false" title="已应用到运行中的 Asterisk">
          <div>版本 <span class="hl-mono">{{ sha(outcome.sha256) }}</span>；重新加载的配置：{{ outcome.changed.length ? outcome.changed.join("、") : "无（配置未变）" }}；
            重新合成的提示音：{{ outcome.prompts.length ? outcome.prompts.join("、") : "无" }}。下一通电话起生效。</div>
          <div v-if="outcome.at_next_start && outcome.at_next_start.length" data-test="at-next-start">
            注意：{{ outcome.at_next_start.join("、") }} 由服务在启动时读取，热线自身的路由与规则在服务下次启动后生效。</div>
        </el-alert>
        <el-alert v-else-if="outcome.rolled_back" type="error" show-icon :closable="false" data-test="rolled-back"
          title="Asterisk 拒绝了新配置，已回滚：运行的仍是原版本，文件未改动">
          <div class="hl-mono">{{ outcome.error }}</div>
        </el-alert>
        <el-alert v-else type="error" show-icon :closable="false" title="未应用" :description="outcome.error"/>
      </div>
    </el-card>
    <TestCall/>
    <el-dialog v-model="diff.open" title="与运行版本对比" width="80%" top="5vh">
      <DiffView :files="diff.files"/>
    </el-dialog>
    <el-drawer v-model="history.open" title="历史版本" size="560px">
      <el-table :data="history.versions" size="small" data-test="history-list">
        <el-table-column label="时间" width="160"><template #default="{ row }">{{ when(row.saved_at) }}</template></el-table-column>
        <el-table-column prop="saved_by" label="操作人" width="110"/>
        <el-table-column label="版本" width="110"><template #default="{ row }"><span class="hl-mono">{{ sha(row.sha256) }}</span>
          <el-tag v-if="row.running" size="small" type="success">运行中</el-tag></template></el-table-column>
        <el-table-column label="" ><template #default="{ row }"><el-button link type="primary" @click="useVersion(row)">载入编辑器</el-button></template></el-table-column>
      </el-table>
    </el-drawer>
  </div>`,
};

startConsole(EngineerPage, "engineer");
