// 知识库 in the call (R-KB-1): the agent types the citizen's question (searched as they type), reads the agreed
// answer (答复口径) and marks 已按此答复; the caller's line suggests its department's entries before anything is
// typed. When the knowledge base has nothing: 知识库查无 (a gap for the knowledge staff, with the call's id), then
// — the standard's order — the expert seat (转专家席) or a three-way call, with the citizen's consent.
import { computed, reactive, watch } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api, ApiError } from "/common/api.js";
import { day, daysUntil, KbMarked, problem } from "/knowledge/kb.js";
import { callIn, openControl, transferTo } from "./control.js";
import { act, desk } from "./store.js";

const TYPING_MS = 300;

const kb = reactive({
  q: "",
  searched: "",  // the query the results are for
  results: [],
  tookMs: null,
  busy: false,
  open: {},  // entry id → answer shown in full
  suggestions: { line: "", department: "", results: [] },
  used: {},  // call id → {entry id: true}
  gaps: {},  // call id → [question…] sent as 知识库查无
});

let timer = null;
let asked = 0;

async function search() {
  const q = kb.q.trim();
  const mine = ++asked;
  if (!q) {
    Object.assign(kb, { searched: "", results: [], tookMs: null, busy: false });
    return;
  }
  kb.busy = true;
  const params = new URLSearchParams({ q, limit: "10" });
  if (line.value) params.set("line", line.value);
  try {
    const found = await api("GET", `/api/knowledge/search?${params}`);
    if (mine !== asked) return;  // the agent typed on: a newer search is under way
    Object.assign(kb, { searched: q, results: found.results, tookMs: found.took_ms, open: {} });
  } catch (err) {
    if (mine === asked) ElMessage({ type: "error", message: `知识库检索失败：${problem(err)}`, showClose: true });
  } finally {
    if (mine === asked) kb.busy = false;
  }
}

function typed() {
  clearTimeout(timer);
  timer = setTimeout(search, TYPING_MS);
}

// The line the caller dialled (from the screen pop), e.g. "12329".
const line = computed(() => desk.call && desk.call.pop && desk.call.pop.line ? desk.call.pop.line.number : "");

async function suggest(number) {
  if (!number || kb.suggestions.line === number) return;
  kb.suggestions = { line: number, department: "", results: [] };
  try {
    const found = await api("GET", `/api/knowledge/suggest?line=${encodeURIComponent(number)}`);
    if (kb.suggestions.line === number) kb.suggestions = { line: number, ...found };
  } catch (err) {
    ElMessage({ type: "warning", message: `来电线路推荐读取失败：${problem(err)}` });
  }
}

// A new call on the desk: a clean search box, and its line's suggestions.
watch(() => desk.call && desk.call.id, (id, before) => {
  if (id && id !== before) {
    clearTimeout(timer);
    asked += 1;
    Object.assign(kb, { q: "", searched: "", results: [], tookMs: null, busy: false, open: {} });
  }
});
watch(line, (number) => suggest(number), { immediate: true });

// The expert skill (and seats) for the departments at hand: the caller's line first, then the results'.
function expertFor() {
  const targets = desk.reference.targets || { skills: [], seats: [] };
  const departments = [kb.suggestions.department, ...kb.results.map((r) => r.department)].filter(Boolean);
  for (const department of departments) {
    const skill = targets.skills.find((s) => s.seat !== "general" && s.department === department);
    if (skill) return { skill, department, seats: targets.seats.filter((a) => a.skills.includes(skill.id)) };
  }
  return null;
}

async function consented(message, title) {
  try {
    await ElMessageBox.confirm(message, title, { type: "warning", confirmButtonText: "来电人已同意",
                                                 cancelButtonText: "取消" });
    return true;
  } catch {
    return false;
  }
}

const Result = {
  components: { KbMarked },
  props: { entry: Object, query: String, terms: Array, suggested: Boolean },
  template: `
  <div class="kb-result" :data-test="suggested ? 'kb-suggestion' : 'kb-result'" :data-entry="entry.id">
    <div class="kb-title">{{ entry.title }}</div>
    <div v-if="entry.question" class="kb-question" data-test="kb-question">问：<kb-marked :text="entry.question" :query="query" :terms="terms"/></div>
    <div class="kb-answer" :class="{ open: kb.open[entry.id] }" data-test="kb-answer">答：{{ entry.answer }}</div>
    <div class="kb-meta">
      <el-button link type="primary" size="small" @click="kb.open[entry.id] = !kb.open[entry.id]" data-test="kb-toggle">{{ kb.open[entry.id] ? '收起' : '展开答复' }}</el-button>
      <span>{{ entry.department }}</span>
      <span v-if="entry.category_label">{{ entry.category_label }}</span>
      <span :class="{ soon: soon }">有效至 {{ day(entry.valid_until) }}</span>
      <span v-if="entry.uses">已用 {{ entry.uses }} 次</span>
    </div>
    <div class="kb-actions">
      <el-tag v-if="used" type="success" size="small" effect="dark" data-test="kb-used-tag">已按此答复</el-tag>
      <el-button v-else size="small" type="success" plain :disabled="!call" @click="markUsed" data-test="kb-use">已按此答复</el-button>
    </div>
  </div>`,
  setup(props) {
    const call = computed(() => desk.call);
    const used = computed(() => !!(desk.call && (kb.used[desk.call.id] || {})[props.entry.id]));
    const soon = computed(() => { const d = daysUntil(props.entry.valid_until); return d !== null && d <= 14; });
    async function markUsed() {
      const id = desk.call.id;
      try {
        await api("POST", "/api/knowledge/uses", { call_id: id, entry_id: props.entry.id });
        ElMessage.success(`已记录：本次来电按知识条目 ${props.entry.id} 直接答复`);
      } catch (err) {
        if (!(err instanceof ApiError && err.id === "already_used")) {
          return ElMessage({ type: "error", message: `记录答复失败：${problem(err)}`, showClose: true });
        }
      }
      kb.used[id] = { ...(kb.used[id] || {}), [props.entry.id]: true };
    }
    return { kb, call, used, soon, day, markUsed };
  },
};

export const KnowledgePanel = {
  components: { Result },
  template: `
  <div class="kb" data-test="knowledge">
    <el-input v-model="kb.q" @input="typed" @keyup.enter="search" clearable @clear="search" placeholder="输入市民的问题，如：公积金怎么取"
              data-test="kb-search" class="kb-search"/>
    <div class="kb-status hl-muted small" data-test="kb-status">
      <template v-if="kb.busy">检索中…</template>
      <template v-else-if="kb.searched">“{{ kb.searched }}”：{{ kb.results.length ? '找到 ' + kb.results.length + ' 条' : '知识库中没有找到' }}<template v-if="kb.tookMs !== null"> · {{ kb.tookMs }} 毫秒</template></template>
      <template v-else-if="kb.suggestions.department">来电线路 {{ kb.suggestions.line }} · {{ kb.suggestions.department }} 常用条目</template>
      <template v-else>先答后转：知识库有答复口径的，按口径直接答复</template>
    </div>
    <div class="kb-list">
      <template v-if="kb.searched">
        <result v-for="r in kb.results" :key="r.id" :entry="r" :query="kb.searched" :terms="r.terms || []"/>
      </template>
      <template v-else>
        <result v-for="r in kb.suggestions.results" :key="r.id" :entry="r" query="" suggested/>
      </template>
    </div>
    <div class="kb-fallback" data-test="kb-fallback">
      <div class="hl-muted small">知识库无法解答时：</div>
      <div class="control-row">
        <el-button size="small" :disabled="!call || !kb.q.trim() || gapSent" @click="gap" data-test="kb-gap">{{ gapSent ? '已报查无' : '知识库查无' }}</el-button>
        <el-button size="small" type="primary" plain :disabled="!talking" @click="expert" data-test="kb-expert">转专家席</el-button>
        <el-button size="small" plain :disabled="!talking || !!call.threeWay" @click="threeWay" data-test="kb-three-way">三方通话</el-button>
      </div>
    </div>
  </div>`,
  setup() {
    const call = computed(() => desk.call);
    const talking = computed(() => !!desk.call && desk.call.state === "talking" && !desk.call.consult);
    const gapSent = computed(() => !!desk.call && (kb.gaps[desk.call.id] || []).includes(kb.q.trim()));

    async function gap() {
      const id = desk.call.id;
      const question = kb.q.trim();
      if (await act("登记查无", "POST", "/api/knowledge/gaps", { call_id: id, question })) {
        kb.gaps[id] = [...(kb.gaps[id] || []), question];
        ElMessage.success("已登记“知识库查无”，知识库管理人员将补充");
      }
    }
    async function expert() {
      const found = expertFor();
      if (!found) {
        ElMessage.info("未找到该部门的专家席，请选择转接目标");
        return openControl("transfer");
      }
      const target = `${found.skill.label}（${found.department}）`;
      if (await consented(`知识库未能解答。请先征得来电人同意，再将来电转至 ${target} 专家席。来电人已同意转接吗？`, "转专家席")) {
        await transferTo(found.skill.id);
      }
    }
    async function threeWay() {
      const found = expertFor();
      const seat = found && found.seats[0];
      if (!seat) {
        ElMessage.info("未找到该部门的专家坐席，请选择三方通话对象");
        return openControl("three_way");
      }
      const label = `${seat.name} ${seat.agent}`;
      if (await consented(`知识库未能解答。请先征得来电人同意，再邀请 ${found.department} 的专家 ${label}（${seat.seat_label}）加入三方通话。来电人已同意吗？`, "三方通话")) {
        await callIn("three_way", { agent: seat.agent }, label);
      }
    }
    return { kb, call, talking, gapSent, typed, search, gap, expert, threeWay };
  },
};
