// 月度运行情况报告 (/reports/monthly.html?month=YYYY-MM): one month laid out as a city report to the government —
// 一、总体情况 (the figures in prose with 环比 and 同比), 二、服务质量, 三、诉求分析, 四、坐席与班组, and the formulas —
// on an A4 sheet that prints as it looks (打印/导出PDF: the browser's print, the console bar left out).
import { computed, inject, onMounted, ref } from "vue";
import { api } from "/common/api.js";
import { startConsole } from "/common/console.js";
import { EChart, satisfactionOption, trendOption, volumeOption } from "./charts.js";
import { KPIS, changeWords, isoDay, monthRange, query, show } from "./kpis.js";
import { AGENT_COLUMNS, ExportLinks, TEAM_COLUMNS, VOLUME_COLUMNS, cell } from "./parts.js";
import { monthlyProse } from "./prose.js";

// A bordered table as printed reports have them (no sorting: the rows come in the report's order).
const PaperTable = {
  props: { rows: { type: Array, default: () => [] }, columns: { type: Array, required: true }, name: String,
           top: { type: Number, default: 0 } },
  template: `
  <table class="paper-table" :data-test="name">
    <thead><tr><th>序号</th><th v-for="c in columns" :key="c.prop">{{ c.label }}</th></tr></thead>
    <tbody>
      <tr v-if="!shown.length"><td :colspan="columns.length + 1" class="hl-muted">本月没有数据</td></tr>
      <tr v-for="(row, i) in shown" :key="i">
        <td>{{ i + 1 }}</td>
        <td v-for="c in columns" :key="c.prop" :class="c.kind === 'text' ? 'text' : 'num'">{{ cell(c, row[c.prop]) }}</td>
      </tr>
    </tbody>
  </table>`,
  setup(props) {
    const shown = computed(() => (props.top ? props.rows.slice(0, props.top) : props.rows));
    return { shown, cell };
  },
};

// 主要指标对比表: each KPI this month, last month, 环比, the same month last year, 同比.
const CompareTable = {
  props: { report: { type: Object, required: true } },
  template: `
  <table class="paper-table" data-test="compare-table">
    <thead><tr><th>指标</th><th>本月</th><th>上月</th><th>环比</th><th>去年同月</th><th>同比</th></tr></thead>
    <tbody>
      <tr v-for="k in kpis" :key="k.key" :data-test="'row-' + k.key">
        <td class="text">{{ k.title }}</td>
        <td class="num">{{ show(k.kind, report.totals[k.key]) }}</td>
        <td class="num">{{ show(k.kind, (report.previous || {})[k.key]) }}</td>
        <td class="num">{{ changeWords(k, report.totals[k.key], (report.previous || {})[k.key]) }}</td>
        <td class="num">{{ show(k.kind, (report.last_year || {})[k.key]) }}</td>
        <td class="num">{{ changeWords(k, report.totals[k.key], (report.last_year || {})[k.key]) }}</td>
      </tr>
    </tbody>
  </table>`,
  setup() {
    return { kpis: KPIS, show, changeWords };
  },
};

const Monthly = {
  components: { EChart, ExportLinks, PaperTable, CompareTable },
  template: `
  <div class="monthly">
    <div class="no-print monthly-tools">
      <el-date-picker v-model="month" type="month" value-format="YYYY-MM" :clearable="false" style="width: 140px"
                      data-test="month" @change="go"/>
      <el-button @click="back" data-test="back">返回统计报表</el-button>
      <export-links v-if="report" report="monthly" :params="{ month }"/>
      <el-button type="primary" @click="print" :disabled="!report" data-test="print">打印/导出PDF</el-button>
    </div>
    <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" data-test="report-error"
              class="no-print"/>
    <div v-else-if="!report" class="report-sheet" v-loading="true" element-loading-text="正在生成报告…"></div>
    <article v-else class="report-sheet" data-test="monthly-report">
      <header class="report-title">
        <h1 data-test="report-title">{{ city }}12345政务服务便民热线<br>{{ monthText }}运行情况报告</h1>
        <p class="hl-muted">统计时段：{{ periodText }}　　生成时间：{{ generated }}</p>
      </header>

      <section>
        <h2>一、总体情况</h2>
        <p class="prose" data-test="overview">{{ prose.overview }}</p>
        <figure class="figure"><figcaption>图1　{{ monthText }}每日来电量及接通率、15秒接通率、满意率</figcaption>
          <e-chart :option="daily" height="280px" renderer="svg" data-test="chart-daily"/></figure>
      </section>

      <section>
        <h2>二、服务质量</h2>
        <p class="prose" data-test="quality">{{ prose.quality }}</p>
        <figure class="figure"><figcaption>表1　主要指标对比</figcaption><compare-table :report="report"/></figure>
        <figure class="figure"><figcaption>图2　满意度评价分布（五级）</figcaption>
          <e-chart :option="satisfaction" height="240px" renderer="svg" data-test="chart-satisfaction"/></figure>
      </section>

      <section class="page-break">
        <h2>三、诉求分析</h2>
        <p class="prose" data-test="demands">{{ prose.demands }}</p>
        <figure class="figure"><figcaption>表2　诉求类型</figcaption>
          <paper-table :rows="report.request_types || []" :columns="volumeColumns" name="request-types"/></figure>
        <figure class="figure"><figcaption>表3　诉求分类（前10位）</figcaption>
          <paper-table :rows="report.categories || []" :columns="volumeColumns" :top="10" name="categories"/></figure>
        <figure class="figure"><figcaption>表4　区域分布</figcaption>
          <paper-table :rows="report.regions || []" :columns="volumeColumns" name="regions"/></figure>
        <figure class="figure"><figcaption>图3　各热线号码来电量（前10位）</figcaption>
          <e-chart :option="lines" height="260px" renderer="svg" data-test="chart-lines"/></figure>
        <figure class="figure"><figcaption>表5　各热线号码（前10位）</figcaption>
          <paper-table :rows="report.lines || []" :columns="volumeColumns" :top="10" name="lines"/></figure>
      </section>

      <section class="page-break">
        <h2>四、坐席与班组</h2>
        <p class="prose" data-test="people">{{ prose.people }}</p>
        <figure class="figure"><figcaption>表6　各班组情况</figcaption>
          <paper-table :rows="report.teams || []" :columns="teamColumns" name="teams"/></figure>
        <figure class="figure" v-if="agents"><figcaption>表7　坐席接通量前15位</figcaption>
          <paper-table :rows="agents" :columns="agentColumns" :top="15" name="agents"/></figure>
      </section>

      <section class="page-break">
        <h2>附：指标口径</h2>
        <table class="paper-table formulas" data-test="formulas">
          <thead><tr><th>指标</th><th>计算口径</th><th>依据</th></tr></thead>
          <tbody><tr v-for="(f, key) in report.formulas || {}" :key="key">
            <td class="text">{{ f.name || key }}</td><td class="text">{{ f.formula }}</td><td class="text">{{ f.standard }}</td>
          </tr></tbody>
        </table>
      </section>
    </article>
  </div>`,
  setup() {
    inject("me");
    const wanted = new URLSearchParams(location.search).get("month");
    const today = new Date();
    const month = ref(/^\d{4}-\d{2}$/.test(wanted || "") ? wanted
      : `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}`);
    const report = ref(null);
    const agents = ref(null);
    const error = ref("");

    async function load() {
      report.value = null;
      error.value = "";
      const [from, to] = monthRange(month.value);
      try {
        const [monthly, people] = await Promise.all([
          api("GET", `/api/reports/monthly?${query({ month: month.value })}`),
          api("GET", `/api/reports/agents?${query({ from, to })}`).catch(() => null),
        ]);
        agents.value = people ? [...people.rows].sort((a, b) => b.answered - a.answered) : null;
        report.value = monthly;
      } catch (err) {
        error.value = err.text || String(err);
      }
    }

    function go() {
      history.replaceState(null, "", `?${query({ month: month.value })}`);
      load();
    }

    onMounted(load);
    const monthText = computed(() => { const [yy, mm] = month.value.split("-").map(Number); return `${yy}年${mm}月`; });
    return {
      month, report, agents, error, go, monthText,
      back: () => location.assign("/reports/"),
      print: () => window.print(),
      city: computed(() => (report.value && (report.value.city || report.value.centre)) || "XX市"),
      periodText: computed(() => { const [yy, mm] = month.value.split("-").map(Number);
                                   return `${yy}年${mm}月1日至${yy}年${mm}月${new Date(yy, mm, 0).getDate()}日`; }),
      generated: isoDay(new Date()),
      prose: computed(() => (report.value ? monthlyProse(report.value, monthText.value, agents.value) : {})),
      daily: computed(() => trendOption(report.value ? report.value.daily : [])),
      satisfaction: computed(() => satisfactionOption(report.value ? report.value.totals.satisfaction : {})),
      lines: computed(() => volumeOption(report.value ? report.value.lines : [], { top: 10 })),
      volumeColumns: VOLUME_COLUMNS, teamColumns: TEAM_COLUMNS, agentColumns: AGENT_COLUMNS,
    };
  },
};

startConsole(Monthly, "reports");
