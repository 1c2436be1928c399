// 统计报表: the KPIs of any range by day / week / month (R-KPI-1) for supervisors, managers and auditors: the cards
// with 环比 and 同比 and each figure's formula on hover, the charts (trend, lines, the five rating levels, by hour,
// request types / categories / regions), per-agent and per-team tables, and CSV / Excel exports of each part.
// Every figure comes from /api/reports/… (stored rows only); the page computes none of them.
import { computed, inject, onMounted, reactive, ref } from "vue";
import { api } from "/common/api.js";
import { startConsole } from "/common/console.js";
import { EChart, hourOption, satisfactionOption, shareOption, trendOption, volumeOption } from "./charts.js";
import { FilterBar, kpiParams, startingFilters } from "./filters.js";
import { BY_TEXT, query } from "./kpis.js";
import { AGENT_COLUMNS, ExportLinks, KpiCards, ReportTable, TEAM_COLUMNS, VOLUME_COLUMNS } from "./parts.js";

const DEMANDS = [{ key: "request_type", label: "诉求类型" }, { key: "category", label: "诉求分类" },
                 { key: "region", label: "区域" }, { key: "skill", label: "技能组" }];

// One part of the report: its answer, or the Chinese text of why there is none.
function part() {
  return reactive({ data: null, error: "" });
}

async function fill(target, path) {
  try {
    target.data = await api("GET", path);
    target.error = "";
  } catch (err) {
    target.data = null;
    target.error = err.text || String(err);
  }
}

const Reports = {
  components: { FilterBar, KpiCards, ExportLinks, ReportTable, EChart },
  template: `
  <div class="reports" data-test="reports">
    <div class="page-head">
      <h2>统计报表</h2>
      <span class="hl-muted" v-if="shown">{{ shown.from }} 至 {{ shown.to }} · 按{{ byText }}统计
        <template v-if="kpis.data"> · 环比 {{ kpis.data.previous.from }} 至 {{ kpis.data.previous.to }}
          · 同比 {{ kpis.data.last_year.from }} 至 {{ kpis.data.last_year.to }}</template></span>
    </div>
    <el-card shadow="never" class="block"><filter-bar :filters="filters" :lines="lineRows" :busy="busy"
      @run="run" @monthly="openMonthly"/></el-card>
    <el-alert v-if="kpis.error" :title="kpis.error" type="error" show-icon :closable="false" data-test="report-error"
              class="block"/>
    <template v-if="kpis.data">
      <el-card shadow="never" class="block">
        <template #header><div class="card-head"><span>核心指标（鼠标悬停查看口径）</span>
          <export-links report="kpis" :params="kpiQuery"/></div></template>
        <kpi-cards :totals="kpis.data.totals" :previous="kpis.data.previous" :last-year="kpis.data.last_year"
                   :formulas="kpis.data.formulas"/>
      </el-card>
      <el-card shadow="never" class="block">
        <template #header><div class="card-head"><span>趋势（按{{ byText }}）</span></div></template>
        <e-chart :option="trend" height="320px" data-test="chart-trend"/>
      </el-card>
      <div class="grid-2">
        <el-card shadow="never">
          <template #header><div class="card-head"><span>各热线号码来电量</span>
            <export-links report="volumes" :params="{ ...range, team: shown.filters.team, dimension: 'line' }"/></div></template>
          <e-chart :option="lineChart" height="300px" data-test="chart-lines"/>
        </el-card>
        <el-card shadow="never">
          <template #header><div class="card-head"><span>满意度评价分布（五级）</span></div></template>
          <e-chart :option="satisfaction" height="300px" data-test="chart-satisfaction"/>
        </el-card>
        <el-card shadow="never">
          <template #header><div class="card-head"><span>来电时段分布</span>
            <export-links report="volumes" :params="{ ...range, team: shown.filters.team, dimension: 'hour' }"/></div></template>
          <e-chart :option="hourChart" height="300px" data-test="chart-hours"/>
        </el-card>
        <el-card shadow="never">
          <template #header><div class="card-head">
            <el-radio-group v-model="demand" size="small" data-test="demand" @change="loadDemand">
              <el-radio-button v-for="d in demands" :key="d.key" :value="d.key">{{ d.label }}</el-radio-button>
            </el-radio-group>
            <export-links report="volumes" :params="{ ...range, team: shown.filters.team, dimension: demand }"/></div></template>
          <el-alert v-if="demandRows.error" :title="demandRows.error" type="warning" :closable="false"/>
          <e-chart v-else :option="demandChart" height="300px" data-test="chart-demand"/>
        </el-card>
      </div>
      <el-card shadow="never" class="block">
        <template #header><div class="card-head"><span>{{ demandLabel }}明细</span></div></template>
        <report-table :rows="demandRows.data ? demandRows.data.rows : []" :columns="volumeColumns" name="demand-table"
                      :empty="demandRows.data && demandRows.data.missing"/>
      </el-card>
      <el-card shadow="never" class="block">
        <template #header><div class="card-head"><span>坐席统计</span>
          <export-links report="agents" :params="{ ...range, team: shown.filters.team }"/></div></template>
        <el-alert v-if="agents.error" :title="agents.error" type="warning" :closable="false"/>
        <report-table v-else :rows="agents.data ? agents.data.rows : []" :columns="agentColumns" name="agents-table"/>
      </el-card>
      <el-card shadow="never" class="block">
        <template #header><div class="card-head"><span>班组统计</span>
          <export-links report="teams" :params="range"/></div></template>
        <el-alert v-if="teams.error" :title="teams.error" type="warning" :closable="false"/>
        <report-table v-else :rows="teams.data ? teams.data.rows : []" :columns="teamColumns" name="teams-table"/>
      </el-card>
    </template>
  </div>`,
  setup() {
    const me = inject("me");
    const filters = reactive(startingFilters(me));
    const kpis = part();
    const lines = part();
    const hours = part();
    const demandRows = part();
    const agents = part();
    const teams = part();
    const demand = ref("request_type");
    const busy = ref(false);
    const shown = ref(null);  // the filters of what the page shows now (the exports follow them, not the form)

    const range = computed(() => (shown.value ? { from: shown.value.from, to: shown.value.to } : {}));
    const kpiQuery = computed(() => (shown.value ? kpiParams(shown.value.filters) : {}));

    const volumeQuery = (dimension) => query({ ...range.value, team: shown.value.filters.team, dimension });

    async function loadDemand() {
      await fill(demandRows, `/api/reports/volumes?${volumeQuery(demand.value)}`);
    }

    async function run() {
      busy.value = true;
      const snapshot = JSON.parse(JSON.stringify(filters));
      shown.value = { from: snapshot.range[0], to: snapshot.range[1], by: snapshot.by, filters: snapshot };
      const r = range.value;
      try {
        await Promise.all([
          fill(kpis, `/api/reports/kpis?${query(kpiParams(snapshot))}`),
          fill(lines, `/api/reports/volumes?${volumeQuery("line")}`),
          fill(hours, `/api/reports/volumes?${volumeQuery("hour")}`),
          loadDemand(),
          fill(agents, `/api/reports/agents?${query({ ...r, team: snapshot.team })}`),
          fill(teams, `/api/reports/teams?${query(r)}`),
        ]);
      } finally {
        busy.value = false;
      }
    }

    function openMonthly() {
      const month = (filters.range[0] || "").slice(0, 7);
      location.assign(`/reports/monthly.html?${query({ month })}`);
    }

    onMounted(run);
    const rows = (p) => (p.data ? p.data.rows : []);
    return {
      filters, kpis, lines, hours, demandRows, agents, teams, demand, busy, shown, range, kpiQuery, run, loadDemand,
      openMonthly, demands: DEMANDS, agentColumns: AGENT_COLUMNS, teamColumns: TEAM_COLUMNS,
      volumeColumns: VOLUME_COLUMNS,
      byText: computed(() => BY_TEXT[shown.value ? shown.value.by : filters.by]),
      lineRows: computed(() => rows(lines)),
      demandLabel: computed(() => DEMANDS.find((d) => d.key === demand.value).label),
      trend: computed(() => trendOption(kpis.data ? kpis.data.periods : [])),
      satisfaction: computed(() => satisfactionOption(kpis.data ? kpis.data.totals.satisfaction : {})),
      lineChart: computed(() => volumeOption(rows(lines))),
      hourChart: computed(() => hourOption(rows(hours))),
      demandChart: computed(() => (demand.value === "skill" ? volumeOption(rows(demandRows), { horizontal: true })
        : shareOption(rows(demandRows)))),
    };
  },
};

startConsole(Reports, "reports");
