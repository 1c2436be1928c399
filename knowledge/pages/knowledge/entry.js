// One knowledge entry in a drawer: read (its fields, who checked and published it, its version history) with the
// actions its state and the reader's role allow (编辑, 校核, 发布, 撤回), or written in the editor form (questions
// as citizens ask them, the agreed answer, department, category, region, keywords, dates, source, 可语音播报).
// The API decides (a department's editor: their own department; a checker: not the author); refusals are shown.
import { computed, inject, reactive, ref, watch } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api, ApiError } from "/common/api.js";
import { day, moment, problem, STATES } from "./kb.js";

export const EDITORS = ["editor", "supervisor", "admin"];
export const CHECKERS = ["supervisor", "admin"];
const FIELD_LABELS = { title: "标题", questions: "市民问法", answer: "答复口径", department: "部门", category: "分类",
                       region: "区域", keywords: "关键词", valid_from: "生效日期", valid_until: "失效日期",
                       review_by: "复核日期", source: "来源依据", source_date: "政策日期", phone: "可语音播报", state: "状态" };
const ACTIONS = { created: "新建", imported: "导入", edited: "修改", checked: "校核", published: "发布",
                  withdrawn: "撤回", expired: "过期" };

function blank(department) {
  return { title: "", questions: [""], answer: "", department: department || "", category: "", region: "",
           keywords: "", valid_from: new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" }),
           valid_until: "", review_by: "", source: "", source_date: "", phone: false };
}

// The form of an entry: its content, or the edit of it waiting to be published (`pending`).
function formOf(entry) {
  const content = entry.pending ? { ...entry, ...entry.pending.content } : entry;
  const filled = Object.fromEntries(Object.keys(blank()).map((k) => [k, content[k] ?? blank()[k]]));
  return { ...filled, questions: content.questions && content.questions.length ? [...content.questions] : [""],
           keywords: (content.keywords || []).join("，"), phone: !!content.phone };
}

// What the API takes: the form without the empty questions, keywords as a list, empty dates left out.
function bodyOf(form) {
  const body = { title: form.title.trim(), questions: form.questions.map((q) => q.trim()).filter(Boolean),
                 answer: form.answer.trim(), department: form.department, category: form.category || "",
                 region: form.region.trim(), keywords: form.keywords.split(/[,，、;；\s]+/).filter(Boolean),
                 source: form.source.trim(), phone: form.phone };
  for (const key of ["valid_from", "valid_until", "review_by", "source_date"]) if (form[key]) body[key] = form[key];
  return body;
}

// A version's change as a line: "答复口径、失效日期" from a list or an object of fields, else its note.
function changeText(version) {
  if (["created", "imported"].includes(version.action)) return "";
  const what = version.changes || version.changed || version.fields;
  if (Array.isArray(what)) return what.map((f) => FIELD_LABELS[f] || f).join("、");
  if (what && typeof what === "object") return Object.keys(what).map((f) => FIELD_LABELS[f] || f).join("、");
  return version.note || version.reason || "";
}

export const EntryDrawer = {
  props: { entryId: [Number, String], fresh: Object, categories: Array, departments: Array },
  emits: ["changed", "close"],
  template: `
  <el-drawer :model-value="true" @close="$emit('close')" size="760px" :title="title" data-test="entry-drawer">
    <div v-if="loading" v-loading="true" style="height: 200px"></div>
    <el-form v-else-if="editing" label-width="96px" class="entry-form" data-test="entry-form" @submit.prevent>
      <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" class="form-error" data-test="form-error"/>
      <el-form-item label="标题" :error="errors.title" required>
        <el-input v-model="form.title" maxlength="100" show-word-limit data-test="entry-title" placeholder="如：住房公积金提取办理"/>
      </el-form-item>
      <el-form-item label="市民问法" :error="errors.questions" required>
        <div class="questions">
          <div v-for="(q, i) in form.questions" :key="i" class="question-row">
            <el-input v-model="form.questions[i]" :data-test="'entry-question-' + i" placeholder="按市民的说法，如：公积金怎么取出来"/>
            <el-button link type="danger" :disabled="form.questions.length === 1" @click="form.questions.splice(i, 1)">删除</el-button>
          </div>
          <el-button size="small" @click="form.questions.push('')" data-test="entry-add-question">添加问法</el-button>
        </div>
      </el-form-item>
      <el-form-item label="答复口径" :error="errors.answer" required>
        <el-input v-model="form.answer" type="textarea" :rows="6" maxlength="4000" show-word-limit data-test="entry-answer"/>
      </el-form-item>
      <div class="two">
        <el-form-item label="部门" :error="errors.department" required>
          <el-select v-model="form.department" filterable allow-create default-first-option :disabled="me.role === 'editor'"
                     placeholder="责任部门" style="width: 100%" data-test="entry-department">
            <el-option v-for="d in departments" :key="d" :label="d" :value="d"/>
          </el-select>
        </el-form-item>
        <el-form-item label="分类" :error="errors.category">
          <el-cascader v-model="form.category" :options="categories || []" filterable clearable style="width: 100%"
                       :props="{ emitPath: false, checkStrictly: true }" placeholder="事项分类" data-test="entry-category"/>
        </el-form-item>
        <el-form-item label="区域" :error="errors.region">
          <el-input v-model="form.region" placeholder="全市，或区县" data-test="entry-region"/>
        </el-form-item>
        <el-form-item label="关键词" :error="errors.keywords">
          <el-input v-model="form.keywords" placeholder="用逗号分隔" data-test="entry-keywords"/>
        </el-form-item>
        <el-form-item label="生效日期" :error="errors.valid_from" data-test="entry-valid-from">
          <el-date-picker v-model="form.valid_from" type="date" value-format="YYYY-MM-DD" style="width: 100%"/>
        </el-form-item>
        <el-form-item label="失效日期" :error="errors.valid_until" data-test="entry-valid-until">
          <el-date-picker v-model="form.valid_until" type="date" value-format="YYYY-MM-DD" style="width: 100%" placeholder="长期有效可不填"/>
        </el-form-item>
        <el-form-item label="复核日期" :error="errors.review_by" data-test="entry-review-by">
          <el-date-picker v-model="form.review_by" type="date" value-format="YYYY-MM-DD" style="width: 100%" placeholder="默认失效日或半年后"/>
        </el-form-item>
        <el-form-item label="可语音播报" :error="errors.phone">
          <el-switch v-model="form.phone" data-test="entry-phone"/><span class="hl-muted small hint">热线自助语音可向来电人播报</span>
        </el-form-item>
      </div>
      <div class="source">
        <el-form-item label="来源依据" :error="errors.source">
          <el-input v-model="form.source" placeholder="政策文件名称、文号或链接" data-test="entry-source"/>
        </el-form-item>
        <el-form-item label="政策日期" :error="errors.source_date" label-width="80px" data-test="entry-source-date">
          <el-date-picker v-model="form.source_date" type="date" value-format="YYYY-MM-DD" style="width: 100%" placeholder="政策生效日"/>
        </el-form-item>
      </div>
      <el-form-item>
        <el-button type="primary" :loading="busy" @click="save" data-test="entry-save">保存草稿</el-button>
        <el-button @click="cancel">取消</el-button>
        <span class="hl-muted small hint">保存后为草稿，须经他人校核、发布后坐席方可检索。</span>
      </el-form-item>
    </el-form>
    <div v-else-if="entry" class="entry-view">
      <div class="entry-head">
        <el-tag :type="state.type" effect="dark" data-test="entry-state">{{ state.label }}</el-tag>
        <span class="hl-muted">编号 {{ entry.id }} · {{ entry.department }}</span>
        <span class="grow"></span>
        <el-button v-if="can.edit" @click="startEdit" data-test="entry-edit">编辑</el-button>
        <el-tooltip v-if="can.check" :disabled="!own" content="多方校核：不能校核自己编写的内容" placement="bottom">
          <span><el-button type="warning" :disabled="own" :loading="busy" @click="step('check')" data-test="entry-check">校核</el-button></span>
        </el-tooltip>
        <el-button v-if="can.publish" type="success" :loading="busy" @click="step('publish')" data-test="entry-publish">发布</el-button>
        <el-button v-if="can.withdraw" type="danger" plain :loading="busy" @click="withdraw" data-test="entry-withdraw">撤回</el-button>
      </div>
      <el-alert v-if="entry.pending" type="warning" :closable="false" show-icon class="pending" data-test="entry-pending"
                :title="'有修改' + (entry.pending.state === 'checked' ? '已校核、待发布' : '待校核') + '（' + entry.pending.edited_by + ' 编辑）：发布前坐席检索到的仍是下面的已发布版本'"/>
      <el-descriptions :column="2" border size="small" class="entry-facts">
        <el-descriptions-item label="市民问法" :span="2">
          <div v-for="q in entry.questions" :key="q" data-test="entry-questions">{{ q }}</div></el-descriptions-item>
        <el-descriptions-item label="答复口径" :span="2"><div class="answer" data-test="entry-answer-text">{{ entry.answer }}</div></el-descriptions-item>
        <el-descriptions-item label="分类">{{ categoryLabel }}</el-descriptions-item>
        <el-descriptions-item label="区域">{{ entry.region || '—' }}</el-descriptions-item>
        <el-descriptions-item label="关键词">{{ (entry.keywords || []).join('、') || '—' }}</el-descriptions-item>
        <el-descriptions-item label="可语音播报">{{ entry.phone ? '是' : '否' }}</el-descriptions-item>
        <el-descriptions-item label="有效期">{{ day(entry.valid_from) }} 至 {{ entry.valid_until ? day(entry.valid_until) : '长期' }}</el-descriptions-item>
        <el-descriptions-item label="复核日期">{{ day(entry.review_by) }}</el-descriptions-item>
        <el-descriptions-item label="来源依据">{{ entry.source || '—' }}</el-descriptions-item>
        <el-descriptions-item label="政策日期">{{ day(entry.source_date) }}</el-descriptions-item>
        <el-descriptions-item label="编写">{{ entry.author || '—' }}{{ entry.edited_by && entry.edited_by !== entry.author ? '（修改：' + entry.edited_by + '）' : '' }}</el-descriptions-item>
        <el-descriptions-item label="校核">{{ entry.checked_by || '—' }}</el-descriptions-item>
        <el-descriptions-item label="发布时间">{{ moment(entry.published_at) }}</el-descriptions-item>
        <el-descriptions-item label="撤回原因" v-if="entry.withdrawn_reason || entry.reason">{{ entry.withdrawn_reason || entry.reason }}</el-descriptions-item>
      </el-descriptions>
      <div class="section-title">版本记录</div>
      <el-timeline data-test="entry-versions">
        <el-timeline-item v-for="(v, i) in versions" :key="i" :timestamp="moment(v.at || v.created_at || v.changed_at)" placement="top">
          <span class="version-line">第 {{ v.version || versions.length - i }} 版 · {{ v.by || v.author || v.changed_by || '—' }}
            <el-tag v-if="v.action" size="small" effect="plain">{{ actions[v.action] || v.action }}</el-tag>
            <span class="hl-muted">{{ changeText(v) }}</span></span>
        </el-timeline-item>
      </el-timeline>
      <div v-if="!versions.length" class="hl-muted">暂无版本记录</div>
    </div>
  </el-drawer>`,
  setup(props, { emit }) {
    const me = inject("me");
    const entry = ref(null);
    const loading = ref(false);
    const editing = ref(!props.entryId);
    const busy = ref(false);
    const error = ref("");
    const errors = reactive({});
    const form = reactive(props.entryId ? blank() : { ...blank(me.role === "editor" ? me.team : ""), ...(props.fresh || {}) });

    const title = computed(() => (!props.entryId ? "新建知识条目" : editing.value ? `编辑：${entry.value?.title || ""}`
      : entry.value?.title || "知识条目"));
    const state = computed(() => STATES[entry.value?.state] || { label: entry.value?.state, type: "info" });
    const versions = computed(() => entry.value?.versions || []);  // newest first
    // Where the entry (or its edit waiting to be published) is in its life cycle, and what this role may do now.
    const stage = computed(() => (entry.value?.pending ? entry.value.pending.state : entry.value?.state));
    const own = computed(() => (entry.value?.pending ? entry.value.pending.edited_by : entry.value?.edited_by) === me.username);
    const can = computed(() => {
      const role = me.role;
      return { edit: EDITORS.includes(role), check: CHECKERS.includes(role) && stage.value === "draft",
               publish: CHECKERS.includes(role) && stage.value === "checked",
               withdraw: EDITORS.includes(role) && entry.value?.state !== "withdrawn" };
    });
    const categoryLabel = computed(() => entry.value?.category_label || labelOf(props.categories || [], entry.value?.category)
      || entry.value?.category || "—");

    async function load() {
      if (!props.entryId) return;
      loading.value = true;
      try {
        entry.value = await api("GET", `/api/knowledge/entries/${props.entryId}`);
      } catch (err) {
        ElMessage.error(problem(err));
        emit("close");
      } finally {
        loading.value = false;
      }
    }
    watch(() => props.entryId, load, { immediate: true });

    function startEdit() {
      Object.assign(form, formOf(entry.value));
      editing.value = true;
    }
    function cancel() {
      if (props.entryId) editing.value = false;
      else emit("close");
    }
    async function save() {
      busy.value = true;
      error.value = "";
      for (const key of Object.keys(errors)) delete errors[key];
      try {
        const saved = props.entryId ? await api("PATCH", `/api/knowledge/entries/${props.entryId}`, bodyOf(form))
                                    : await api("POST", "/api/knowledge/entries", bodyOf(form));
        ElMessage.success(props.entryId ? "已保存修改，待校核" : `已保存草稿（编号 ${saved.id}）`);
        emit("changed", saved);
        if (props.entryId) {
          editing.value = false;
          await load();
        }
      } catch (err) {
        if (err instanceof ApiError && err.fields.length) {
          for (const f of err.fields) errors[String(f.field).split(".")[0]] = f.message;
          error.value = "请按提示修改后再保存";
        } else {
          error.value = problem(err);
        }
      } finally {
        busy.value = false;
      }
    }
    async function step(what, body) {
      busy.value = true;
      try {
        entry.value = { ...entry.value, ...(await api("POST", `/api/knowledge/entries/${props.entryId}/${what}`, body)) };
        ElMessage.success({ check: "已校核，待发布", publish: "已发布，坐席即可检索", withdraw: "已撤回，坐席不再检索到" }[what]);
        emit("changed", entry.value);
        await load();
      } catch (err) {
        ElMessage({ type: "error", message: problem(err), showClose: true, duration: 6000 });
      } finally {
        busy.value = false;
      }
    }
    async function withdraw() {
      let reason;
      try {
        ({ value: reason } = await ElMessageBox.prompt("撤回后坐席将检索不到该条目。请填写撤回原因：", "撤回条目",
          { confirmButtonText: "撤回", cancelButtonText: "取消", inputPlaceholder: "如：政策已调整",
            inputValidator: (v) => !!(v || "").trim() || "请填写撤回原因" }));
      } catch { return; }
      await step("withdraw", { reason: reason.trim() });
    }
    return { me, entry, loading, editing, busy, error, errors, form, title, state, versions, own, can, categoryLabel,
             actions: ACTIONS, day, moment, changeText, startEdit, cancel, save, step, withdraw };
  },
};

// The label path of a category code in the cascader's tree ("住房保障 / 住房公积金 / 提取").
export function labelOf(tree, code, path = []) {
  for (const node of tree) {
    const here = [...path, node.label];
    if (node.value === code) return here.join(" / ");
    const below = node.children ? labelOf(node.children, code, here) : "";
    if (below) return below;
  }
  return "";
}
