// What the knowledge pages share (the console's 知识库管理 and the desk's 知识库 panel): the states' words, the
// API's knowledge errors in Chinese, dates as Beijing reads them, and the query's words marked in a question.
import { ApiError } from "/common/api.js";

export const STATES = {
  draft: { label: "草稿", type: "info" },
  checked: { label: "已校核", type: "warning" },
  published: { label: "已发布", type: "success" },
  expired: { label: "已过期", type: "danger" },
  withdrawn: { label: "已撤回", type: "danger" },
};

// The knowledge routes' error ids (the common ones are in /common/api.js).
const ERRORS = {
  own_entry: "不能校核自己编写的条目（多方校核须由他人完成）",
  not_draft: "只有草稿可以校核",
  not_checked: "条目尚未校核，不能发布",
  past_valid_until: "条目已过失效日期，不能发布",
  withdrawn: "条目已撤回",
  bad_entry: "条目填写有误",
  bad_rows: "文件有问题，未导入任何条目",
  bad_file: "文件无法读取，请上传 UTF-8 编码的 CSV 或 Excel（.xlsx）文件",
  other_department: "只能维护本部门的知识条目",
  entry_not_found: "找不到该条目",
  gap_not_found: "找不到该查无记录",
  gap_closed: "该查无记录已关闭",
  already_used: "本次来电已记录按此条目答复",
};

export function problem(err) {
  if (!(err instanceof ApiError)) return String(err && err.message || err);
  const own = ERRORS[err.id];
  if (own) return err.message && err.status !== 409 ? `${own}（${err.message}）` : own;
  return err.text;
}

const DAY = { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" };
const MINUTE = { ...DAY, hour: "2-digit", minute: "2-digit", hour12: false };

export function day(value) {
  if (!value) return "—";
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  return new Date(value).toLocaleDateString("zh-CN", DAY);
}

export function moment(value) {
  return value ? new Date(value).toLocaleString("zh-CN", MINUTE) : "—";
}

// Days from today (Beijing) to a YYYY-MM-DD date; negative when past.
export function daysUntil(value) {
  if (!value) return null;
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
  return Math.round((Date.parse(String(value).slice(0, 10)) - Date.parse(today)) / 86400000);
}

// `text` cut into pieces, those that also occur in the query (two characters or more, or a whole term the
// search matched) marked: [{text, hit}]. Rendered as spans, never as HTML.
export function marked(text, query, terms = []) {
  const source = String(text || "");
  const q = String(query || "").toLowerCase().replace(/\s+/g, "");
  const words = [...new Set(terms.filter((t) => t && t.length > 0).map((t) => t.toLowerCase()))];
  const hits = new Array(source.length).fill(false);
  const lower = source.toLowerCase();
  for (let i = 0; i < lower.length; i += 1) {
    let n = 0;
    while (i + n < lower.length && q.includes(lower.slice(i, i + n + 1))) n += 1;
    if (n >= 2) hits.fill(true, i, i + n);
  }
  for (const word of words) {
    for (let at = lower.indexOf(word); at >= 0; at = lower.indexOf(word, at + 1)) hits.fill(true, at, at + word.length);
  }
  const pieces = [];
  for (let i = 0; i < source.length; i += 1) {
    const last = pieces[pieces.length - 1];
    if (last && last.hit === hits[i]) last.text += source[i];
    else pieces.push({ text: source[i], hit: hits[i] });
  }
  return pieces;
}

// A component for marked(): <kb-marked :text="…" :query="…"/>.
export const KbMarked = {
  props: { text: String, query: String, terms: { type: Array, default: () => [] } },
  template: `<span><template v-for="(p, i) in pieces" :key="i"><mark v-if="p.hit" class="kb-hit">{{ p.text }}</mark><template v-else>{{ p.text }}</template></template></span>`,
  computed: { pieces() { return marked(this.text, this.query, this.terms); } },
};
