// Parts of the reports pages: the KPI cards (value, 环比 and 同比, the formula on hover), a sortable report table
// and the export links of one part (CSV, Excel).
import { computed } from "vue";
import { KPIS, change, exportHref, pct, secs, show, count } from "./kpis.js";

// CSV and Excel downloads of one part of the report with the same parameters as what the page shows.
export const ExportLinks = {
  props: { report: { type: String, required: true }, params: { type: Object, required: true },
           disabled: Boolean },
  template: `
  <span class="hl-export" :data-test="'export-' + report">
    <a v-for="f in formats" :key="f.format" :class="['el-button', 'el-button--small', {'is-disabled': disabled}]"
       :href="disabled ? undefined : href(f.format)" :data-test="'export-' + report + '-' + f.format"
       download>{{ f.label }}</a>
  </span>`,
  setup(props) {
    const formats = [{ format: "csv", label: "导出CSV" }, { format: "xlsx", label: "导出Excel" }];
    return { formats, href: (format) => exportHref(props.report, format, props.params) };
  },
};

function comparison(kpi, now, before, label) {
  const c = before ? change(kpi, now, before[kpi.key]) : null;
  return c ? { label, ...c } : { label, text: "无可比数据", arrow: "", tone: "none" };
}

// One card per KPI of `totals`, compared with `previous` (环比) and `last_year` (同比); hover for the formula.
export const KpiCards = {
  props: { totals: Object, previous: Object, lastYear: Object, formulas: Object },
  template: `
  <div class="kpi-cards" data-test="kpi-cards">
    <el-tooltip v-for="card in cards" :key="card.key" placement="bottom" :show-after="150" effect="light"
                popper-class="kpi-formula">
      <template #content>
        <div :data-test="'formula-' + card.key">
          <div class="kpi-formula-name">{{ card.formula.name || card.title }}</div>
          <div v-if="card.formula.formula">口径：{{ card.formula.formula }}</div>
          <div v-if="card.formula.standard" class="hl-muted">依据：{{ card.formula.standard }}</div>
        </div>
      </template>
      <div class="kpi-card" :data-test="'kpi-' + card.key" :data-value="card.raw">
        <div class="kpi-title">{{ card.title }}</div>
        <div class="kpi-value" data-test="value">{{ card.text }}</div>
        <div class="kpi-sub hl-muted">{{ card.sub }}</div>
        <div class="kpi-compare">
          <span v-for="c in card.compare" :key="c.label" :class="['kpi-change', c.tone]"
                :data-test="c.label === '环比' ? 'mom' : 'yoy'">{{ c.label }} {{ c.arrow }}{{ c.text }}</span>
        </div>
      </div>
    </el-tooltip>
  </div>`,
  setup(props) {
    const cards = computed(() => KPIS.map((kpi) => {
      const raw = props.totals ? props.totals[kpi.key] : null;
      return {
        key: kpi.key, title: kpi.title, raw: raw === null || raw === undefined ? "" : String(raw),
        text: show(kpi.kind, raw), sub: kpi.sub && props.totals ? kpi.sub(props.totals) : "",
        formula: (props.formulas || {})[kpi.formula || kpi.key] || {},
        compare: [comparison(kpi, raw, props.previous, "环比"), comparison(kpi, raw, props.lastYear, "同比")],
      };
    }));
    return { cards };
  },
};

// A duration in hours and minutes ("7小时48分", "12分").
function hours(v) {
  if (v === null || v === undefined) return "—";
  const minutes = Math.round(v / 60);
  return minutes >= 60 ? `${Math.floor(minutes / 60)}小时${String(minutes % 60).padStart(2, "0")}分` : `${minutes}分`;
}

const FORMAT = { rate: pct, secs, count, hours,
                 text: (v) => (v === null || v === undefined || v === "" ? "—" : v) };

export function cell(column, value) {
  return FORMAT[column.kind || "text"](value);
}

// A sortable table of report rows; only the columns the rows have are shown.
export const ReportTable = {
  props: { rows: { type: Array, default: () => [] }, columns: { type: Array, required: true },
           name: String, empty: { type: String, default: "" } },
  template: `
  <el-table :data="rows" size="small" stripe border :data-test="name" :empty-text="empty || '所选时段没有数据'"
            :default-sort="defaultSort">
    <el-table-column v-for="c in shown" :key="c.prop" :prop="c.prop" :label="c.label"
                     :sortable="c.kind !== 'text' || c.sortable ? true : false" :min-width="c.width || 90"
                     :align="c.kind === 'text' ? 'left' : 'right'">
      <template #default="{ row }">{{ format(c, row[c.prop]) }}</template>
    </el-table-column>
  </el-table>`,
  setup(props) {
    const shown = computed(() => {
      const first = props.rows[0];
      return first ? props.columns.filter((c) => c.prop in first) : props.columns;
    });
    const defaultSort = computed(() => {
      const numeric = shown.value.find((c) => c.kind === "count");
      return numeric ? { prop: numeric.prop, order: "descending" } : {};
    });
    return { shown, defaultSort, format: cell };
  },
};

export const AGENT_COLUMNS = [
  { prop: "agent", label: "工号", kind: "text", sortable: true, width: 70 },
  { prop: "name", label: "姓名", kind: "text", width: 80 },
  { prop: "team", label: "班组", kind: "text", sortable: true, width: 80 },
  { prop: "answered", label: "接通量", kind: "count" },
  { prop: "talk_avg_s", label: "平均通话", kind: "secs" },
  { prop: "wrap_up_avg_s", label: "平均话后", kind: "secs" },
  { prop: "signed_in_s", label: "签入时长", kind: "hours" },
  { prop: "occupancy", label: "占用率", kind: "rate" },
  { prop: "rated", label: "评价数", kind: "count" },
  { prop: "satisfaction_rate", label: "满意率", kind: "rate" },
];

export const TEAM_COLUMNS = [
  { prop: "team", label: "班组", kind: "text", sortable: true, width: 90 },
  { prop: "agents", label: "坐席数", kind: "count" },
  { prop: "answered", label: "接通量", kind: "count" },
  { prop: "talk_avg_s", label: "平均通话", kind: "secs" },
  { prop: "wrap_up_avg_s", label: "平均话后", kind: "secs" },
  { prop: "occupancy", label: "占用率", kind: "rate" },
  { prop: "rated", label: "评价数", kind: "count" },
  { prop: "satisfaction_rate", label: "满意率", kind: "rate" },
];

export const VOLUME_COLUMNS = [
  { prop: "label", label: "名称", kind: "text", sortable: true, width: 140 },
  { prop: "offered", label: "来电量", kind: "count" },
  { prop: "answered", label: "接通", kind: "count" },
  { prop: "abandoned", label: "放弃", kind: "count" },
  { prop: "answer_rate_15s", label: "15秒接通率", kind: "rate" },
  { prop: "tickets", label: "工单", kind: "count" },
];
