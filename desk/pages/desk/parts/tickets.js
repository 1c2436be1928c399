// Tickets (工单) for the call on the desk: several per call (one issue each, R-TKT-2), in tabs; every check of the
// tickets work done here first (tickets/form.py), the API's own errors shown on their fields; drafts kept in
// localStorage so a reload loses nothing; submitting shows the time limits (办理时限) the API fixed.
import { computed, reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { api, ApiError } from "/common/api.js";
import { desk } from "./store.js";

const STORE = "hotline.desk.tickets.";
const KEEP_CALLS = 20;
const PHONE = /^(1[3-9]\d{9}|0\d{9,11})$/;

function blank(caller) {
  return { channel: "电话", request_type: "", category: "", urgency: "一般", complex: false, title: "",
           content: {}, handling_unit: "", region: "",
           petitioner: { name: "", phone: caller || "", address: "", confidential: false, revisit_consent: false,
                         enterprise: false } };
}

function normalisePhone(raw) {
  let digits = String(raw || "").replace(/[\s\-()]/g, "");
  if (digits.startsWith("+86")) digits = digits.slice(3);
  else if (digits.startsWith("0086")) digits = digits.slice(4);
  return digits;
}

function load(agent) {
  try { return JSON.parse(localStorage.getItem(STORE + agent) || "{}"); } catch { return {}; }
}

// The drafts of every recent call on this desk, saved on each change.
const drafts = reactive({});
let loadedFor = null;
export function ticketsOf(callId) {
  if (loadedFor !== desk.agent) {
    Object.assign(drafts, load(desk.agent));
    loadedFor = desk.agent;
  }
  if (!drafts[callId]) drafts[callId] = [];
  return drafts[callId];
}
watch(drafts, () => {
  if (!loadedFor) return;
  const calls = Object.keys(drafts);
  for (const old of calls.slice(0, Math.max(0, calls.length - KEEP_CALLS))) delete drafts[old];
  localStorage.setItem(STORE + loadedFor, JSON.stringify(drafts));
}, { deep: true });

// Drafts on this computer not yet submitted (a shared desk: they go when the agent signs out).
export function unsubmitted() {
  return Object.values(load(desk.agent)).flat().filter((t) => t.status === "draft").length;
}

export function forgetDrafts() {
  for (const key of Object.keys(drafts)) delete drafts[key];
  localStorage.removeItem(STORE + desk.agent);
}

// What the API would refuse, found before sending (tickets.form.read_form and missing_for_submit).
export function check(form, meta, { submit }) {
  const errors = {};
  const bad = (field, message) => { if (!errors[field]) errors[field] = message; };
  for (const [field, limit] of Object.entries(meta.limits)) {
    const [top, sub] = field.split(".");
    const value = sub ? (form[top === "content" ? "content" : "petitioner"] || {})[sub] : form[top];
    if (typeof value === "string" && value.trim().length > limit) bad(field, `最多 ${limit} 字（现 ${value.trim().length} 字）`);
  }
  const phone = normalisePhone(form.petitioner.phone);
  if (phone && !PHONE.test(phone)) bad("petitioner.phone", "请填写手机号（1xxxxxxxxxx）或固定电话（0xx-xxxxxxxx）");
  if (!submit) return errors;
  const type = form.request_type;
  if (!type) bad("request_type", "请选择诉求类型");
  if (type !== "无效") {
    if (!form.category) bad("category", "请选择事项分类（末级）");
    if (!form.title.trim()) bad("title", "请填写标题");
    if (!phone) bad("petitioner.phone", "请填写联系电话，用于答复诉求人");
  }
  for (const key of meta.required_content[type] || []) {
    if (!(form.content[key] || "").trim()) bad(`content.${key}`, `${type}须填写${meta.field_labels["content." + key]}`);
  }
  if (meta.name_required_for.includes(type) && !form.petitioner.name.trim()) bad("petitioner.name", `${type}须填写诉求人姓名`);
  return errors;
}

export function body(form, callId) {
  const out = { channel: form.channel, urgency: form.urgency, complex: form.complex, title: form.title.trim(),
                handling_unit: form.handling_unit.trim(), region: form.region || "", calls: [callId],
                content: Object.fromEntries(Object.entries(form.content).filter(([, v]) => (v || "").trim())),
                petitioner: { ...form.petitioner, phone: normalisePhone(form.petitioner.phone) } };
  if (form.request_type) out.request_type = form.request_type;
  out.category = form.category || "";
  return out;
}

const SERVER_WORDS = [[/^is required.*/, "必填"], [/must be one of (.*)/, "须为以下之一：$1"],
                      [/is not in the category catalogue/, "不在事项分类目录中"], [/has sub-categories; choose one of them/, "请选择末级分类"],
                      [/is (\d+) characters; at most (\d+)/, "共 $1 字，最多 $2 字"], [/is not a mobile .*/, "不是有效的电话号码"]];
function serverText(message) {
  for (const [pattern, text] of SERVER_WORDS) if (pattern.test(message)) return message.replace(pattern, text);
  return message;
}

export const TicketTabs = {
  template: `
  <div class="tickets" data-test="tickets">
    <div v-if="!callId" class="hl-muted empty">接听来电后在此填写工单。一通来电可填写多张工单（一事一单）。</div>
    <template v-else>
      <div class="tickets-head">
        <span>通话 <span class="hl-mono">{{ callId }}</span> 的工单（{{ list.length }}）</span>
        <el-button type="primary" size="small" @click="add" data-test="new-ticket">新建工单</el-button>
      </div>
      <el-tabs v-model="active" type="card" v-if="list.length">
        <el-tab-pane v-for="(t, i) in list" :key="t.key" :name="t.key" :label="tabLabel(t, i)">
          <ticket-form :ticket="t" :call-id="callId" :meta="meta" @remove="remove(t)"/>
        </el-tab-pane>
      </el-tabs>
    </template>
  </div>`,
  setup() {
    const callId = computed(() => desk.ticketCall);
    const list = computed(() => (callId.value ? ticketsOf(callId.value) : []));
    const meta = computed(() => desk.reference.form);
    const active = ref("");
    watch(callId, () => { active.value = list.value.length ? list.value[list.value.length - 1].key : ""; },
          { immediate: true });
    // the first ticket of a call opens by itself once the agent talks with the caller
    watch(() => desk.call && desk.call.id === callId.value && desk.call.state === "talking" && desk.call.pop, (ready) => {
      if (ready && !list.value.length) add();
    }, { immediate: true });
    function add() {
      const caller = desk.call && desk.call.id === callId.value && desk.call.pop ? desk.call.pop.caller : "";
      const t = { key: `t${Date.now()}`, id: null, number: "", status: "draft", deadlines: null, form: blank(caller) };
      list.value.push(t);
      active.value = t.key;
    }
    function remove(t) {
      const i = list.value.indexOf(t);
      list.value.splice(i, 1);
      active.value = list.value.length ? list.value[Math.max(0, i - 1)].key : "";
    }
    const tabLabel = (t, i) => `${t.status === "draft" ? "草稿" : "已提交"} ${i + 1}${t.form.title ? "：" + t.form.title.slice(0, 8) : ""}`;
    return { callId, list, meta, active, add, remove, tabLabel };
  },
};

export const TicketForm = {
  props: { ticket: Object, callId: String, meta: Object },
  emits: ["remove"],
  template: `
  <div class="ticket-form" :data-test="'ticket-' + ticket.key">
    <el-result v-if="ticket.status !== 'draft'" icon="success" :title="'工单 ' + ticket.number + ' 已提交'" class="submitted"
               data-test="ticket-submitted">
      <template #sub-title>
        <div class="deadlines">
          <div v-for="(label, stage) in meta.deadline_labels" :key="stage" v-show="ticket.deadlines && ticket.deadlines[stage]">
            <span class="hl-muted">{{ label }}</span> <b>{{ when(ticket.deadlines && ticket.deadlines[stage]) }}</b>
          </div>
        </div>
        <div class="hl-muted">{{ ticket.form.request_type }} · {{ ticket.form.title }}</div>
      </template>
    </el-result>
    <el-form v-else label-width="96px" size="default" :model="f" class="grid-form">
      <el-form-item label="诉求类型" required :error="errors.request_type">
        <el-radio-group v-model="f.request_type" data-test="request-type">
          <el-radio-button v-for="t in meta.request_types" :key="t" :value="t">{{ t }}</el-radio-button>
        </el-radio-group>
      </el-form-item>
      <el-form-item label="事项分类" :required="f.request_type !== '无效'" :error="errors.category">
        <el-cascader v-model="f.category" :options="meta.categories" :props="{ emitPath: false }" filterable clearable
                     placeholder="选择或搜索分类（须选到末级）" style="width: 100%" data-test="category"/>
      </el-form-item>
      <div class="two">
        <el-form-item label="紧急程度" :error="errors.urgency">
          <el-radio-group v-model="f.urgency">
            <el-radio-button v-for="u in meta.urgencies" :key="u" :value="u">{{ u }}</el-radio-button>
          </el-radio-group>
        </el-form-item>
        <el-form-item label="复杂事项"><el-switch v-model="f.complex"/></el-form-item>
      </div>
      <el-form-item label="标题" :required="f.request_type !== '无效'" :error="errors.title">
        <el-input v-model="f.title" maxlength="100" show-word-limit placeholder="一句话概括诉求" data-test="title"/>
      </el-form-item>
      <el-form-item v-for="c in contentFields" :key="c.key" :label="c.label.split(' / ')[0]" :required="required(c.key)" :error="errors['content.' + c.key]">
        <el-input v-model="f.content[c.key]" :type="c.max > 200 ? 'textarea' : 'text'" :autosize="{ minRows: 2, maxRows: 6 }"
                  :maxlength="c.max" show-word-limit :data-test="'content-' + c.key"/>
      </el-form-item>
      <el-collapse v-model="more" class="more">
        <el-collapse-item title="其他内容（前期处理、现状、诉求、理由）" name="more">
          <el-form-item v-for="c in otherFields" :key="c.key" :label="c.label" :error="errors['content.' + c.key]">
            <el-input v-model="f.content[c.key]" type="textarea" :autosize="{ minRows: 1, maxRows: 4 }" :maxlength="c.max"/>
          </el-form-item>
        </el-collapse-item>
      </el-collapse>
      <div class="two">
        <el-form-item label="诉求人" :required="nameRequired" :error="errors['petitioner.name']">
          <el-input v-model="f.petitioner.name" maxlength="64" placeholder="姓名或称呼" data-test="petitioner-name"/>
        </el-form-item>
        <el-form-item label="联系电话" :required="f.request_type !== '无效'" :error="errors['petitioner.phone']">
          <el-input v-model="f.petitioner.phone" maxlength="32" data-test="petitioner-phone"/>
        </el-form-item>
      </div>
      <el-form-item label="联系地址" :error="errors['petitioner.address']">
        <el-input v-model="f.petitioner.address" maxlength="200"/>
      </el-form-item>
      <el-form-item label="">
        <el-checkbox v-model="f.petitioner.confidential">保密</el-checkbox>
        <el-checkbox v-model="f.petitioner.revisit_consent">同意回访</el-checkbox>
        <el-checkbox v-model="f.petitioner.enterprise">企业诉求</el-checkbox>
      </el-form-item>
      <el-form-item label="所属区县" :error="errors.region">
        <el-select v-model="f.region" filterable clearable placeholder="诉求事项所在区县" style="width: 100%"
                   data-test="region">
          <el-option v-for="r in meta.regions || []" :key="r" :label="r" :value="r"/>
        </el-select>
      </el-form-item>
      <el-form-item label="承办单位" :error="errors.handling_unit">
        <el-select v-model="f.handling_unit" filterable allow-create clearable placeholder="选择或输入" style="width: 100%">
          <el-option v-for="u in meta.units" :key="u" :label="u" :value="u"/>
        </el-select>
      </el-form-item>
      <el-alert v-if="errors.calls || errors._" type="error" :closable="false" :title="errors.calls || errors._"/>
      <div class="form-actions">
        <span class="hl-muted">{{ ticket.id ? '草稿已保存 ' + ticket.number : '草稿保存在本机' }}</span>
        <el-button @click="$emit('remove')" :disabled="!!ticket.id" text>删除</el-button>
        <el-button @click="save" :loading="busy" data-test="save-ticket">保存草稿</el-button>
        <el-button type="primary" @click="submit" :loading="busy" data-test="submit-ticket">提交工单</el-button>
      </div>
    </el-form>
  </div>`,
  setup(props) {
    const f = props.ticket.form;
    const errors = reactive({});
    const busy = ref(false);
    const more = ref([]);
    const MAIN = ["description", "occurred_at", "location", "subject"];
    const contentFields = computed(() => props.meta.content_fields.filter((c) => MAIN.includes(c.key) || required(c.key)));
    const otherFields = computed(() => props.meta.content_fields.filter((c) => !contentFields.value.includes(c)));
    const nameRequired = computed(() => props.meta.name_required_for.includes(f.request_type));
    function required(key) {
      return (props.meta.required_content[f.request_type] || []).includes(key);
    }
    function show(found) {
      for (const k of Object.keys(errors)) delete errors[k];
      Object.assign(errors, found);
      return !Object.keys(found).length;
    }
    function fromServer(err) {
      const found = {};
      for (const field of err.fields || []) found[field.field] = serverText(field.message);
      if (!Object.keys(found).length) found._ = err.text;
      show(found);
      ElMessage({ type: "error", message: `工单未保存：${err.text}`, showClose: true });
    }
    async function store() {
      const sent = body(f, props.callId);
      const saved = props.ticket.id ? await api("PATCH", `/api/tickets/${props.ticket.id}`, sent)
        : await api("POST", "/api/tickets", sent);
      Object.assign(props.ticket, { id: saved.id, number: saved.number, status: saved.status });
      return saved;
    }
    async function save() {
      if (!show(check(f, props.meta, { submit: false }))) return;
      busy.value = true;
      try {
        await store();
        ElMessage.success("草稿已保存");
      } catch (err) {
        if (err instanceof ApiError) fromServer(err); else throw err;
      } finally { busy.value = false; }
    }
    async function submit() {
      if (!show(check(f, props.meta, { submit: true }))) {
        ElMessage({ type: "warning", message: "请补全标红的内容后再提交" });
        return;
      }
      busy.value = true;
      try {
        await store();
        const done = await api("POST", `/api/tickets/${props.ticket.id}/submit`);
        Object.assign(props.ticket, { status: done.status, number: done.number, deadlines: done.deadlines });
        ElMessage.success(`工单 ${done.number} 已提交`);
      } catch (err) {
        if (err instanceof ApiError) fromServer(err); else throw err;
      } finally { busy.value = false; }
    }
    const when = (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false }) : "");
    return { f, errors, busy, more, contentFields, otherFields, nameRequired, required, save, submit, when };
  },
};
