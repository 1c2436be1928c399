// 统计: the knowledge base's figures for a period (/api/knowledge/figures) — entries by department and state with
// each department's freshness (past review date, days from a policy change to the update), searches that found
// nothing, the most used entries, and the direct-answer rate (answered from the knowledge base) by agent and line.
import { computed, markRaw, nextTick, onBeforeUnmount, onMounted, ref, watch } from "vue";
import * as echarts from "echarts";
import { ElMessage } from "element-plus";
import { api } from "/common/api.js";
import { problem, STATES } from "./kb.js";

const ORDER = ["published", "checked", "draft", "expired", "withdrawn"];
const COLOURS = { published: "#67c23a", checked: "#e6a23c", draft: "#909399", expired: "#f56c6c", withdrawn: "#b88230" };
const FONT = "Noto Sans CJK SC, sans-serif";

// One ECharts chart that follows its option.
export const Chart = {
  props: { option: Object, height: { type: Number, default: 280 } },
  template: `<div ref="el" class="chart" :style="{ height: height + 'px' }"></div>`,
  setup(props) {
    const el = ref(null);
    let chart = null;
    const resize = () => chart && chart.resize();
    onMounted(async () => {
      await nextTick();
      chart = markRaw(echarts.init(el.value, null, { renderer: "canvas" }));
      chart.setOption({ textStyle: { fontFamily: FONT }, ...props.option });
      window.addEventListener("resize", resize);
    });
    watch(() => props.option, (option) => chart && chart.setOption({ textStyle: { fontFamily: FONT }, ...option }, true));
    onBeforeUnmount(() => {
      window.removeEventListener("resize", resize);
      if (chart) chart.dispose();
    });
    return { el };
  },
};

function bars(labels, series, { percent = false, horizontal = true } = {}) {
  const category = { type: "category", data: labels, axisLabel: { width: 150, overflow: "truncate" } };
  const value = { type: "value", minInterval: 1, ...(percent ? { max: 100, axisLabel: { formatter: "{value}%" } } : {}) };
  return {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: series.length > 1 ? { top: 0 } : undefined,
    grid: { left: 8, right: 48, top: series.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
    xAxis: horizontal ? value : category, yAxis: horizontal ? { ...category, inverse: true } : value,
    series: series.map((s) => ({ barMaxWidth: 26, ...s })),
  };
}

const rate = (row) => Math.round(1000 * (row.rate ?? (row.calls ? row.direct / row.calls : 0))) / 10;

export const Figures = {
  components: { Chart },
  template: `
  <div data-test="figures">
    <div class="toolbar">
      <el-date-picker v-model="range" type="daterange" value-format="YYYY-MM-DD" range-separator="至"
                      start-placeholder="开始日期" end-placeholder="结束日期" @change="load" style="max-width: 300px"
                      data-test="figures-range"/>
      <el-button @click="load">刷新</el-button>
      <span class="grow"></span>
      <el-tag v-if="data" type="danger" effect="plain" size="large" data-test="gaps-open">待处理查无 {{ data.gaps_open }} 条</el-tag>
    </div>
    <div v-if="data" class="figure-grid" v-loading="loading">
      <el-card shadow="never" class="wide">
        <template #header>各部门条目与更新情况</template>
        <chart :option="byDepartment" :height="Math.max(140, data.by_department.length * 34 + 70)"/>
        <el-table :data="data.by_department" size="small" border data-test="figures-departments">
          <el-table-column prop="department" label="部门" min-width="180"/>
          <el-table-column v-for="s in order" :key="s" :label="states[s].label" width="80"><template #default="{ row }">{{ row[s] || 0 }}</template></el-table-column>
          <el-table-column label="逾期未复核" width="100"><template #default="{ row }"><span :class="{ bad: row.past_review }">{{ row.past_review || 0 }}</span></template></el-table-column>
          <el-table-column label="政策变更至更新（天）" width="160"><template #default="{ row }">{{ row.update_days_avg ?? '—' }}</template></el-table-column>
        </el-table>
      </el-card>
      <el-card shadow="never">
        <template #header>直接答复率 · 按坐席</template>
        <chart v-if="data.direct_answer.by_agent.length" :option="byAgent" :height="chartHeight(data.direct_answer.by_agent)"/>
        <el-empty v-else description="本期暂无来电" :image-size="60"/>
        <el-table :data="data.direct_answer.by_agent" size="small" data-test="figures-agents">
          <el-table-column label="坐席"><template #default="{ row }">{{ row.name ? row.name + ' ' : '' }}{{ row.agent }}</template></el-table-column>
          <el-table-column prop="calls" label="来电" width="70"/>
          <el-table-column prop="direct" label="直接答复" width="90"/>
          <el-table-column label="答复率" width="90"><template #default="{ row }">{{ rate(row) }}%</template></el-table-column>
        </el-table>
      </el-card>
      <el-card shadow="never">
        <template #header>直接答复率 · 按热线</template>
        <chart v-if="data.direct_answer.by_line.length" :option="byLine" :height="chartHeight(data.direct_answer.by_line)"/>
        <el-empty v-else description="本期暂无来电" :image-size="60"/>
      </el-card>
      <el-card shadow="never">
        <template #header>最常用条目</template>
        <chart v-if="data.most_used.length" :option="mostUsed" :height="chartHeight(data.most_used)"/>
        <el-empty v-else description="本期暂无使用记录" :image-size="60"/>
      </el-card>
      <el-card shadow="never">
        <template #header>检索无结果的问题</template>
        <el-table :data="data.no_result_searches" size="small" max-height="300" empty-text="本期没有无结果的检索" data-test="figures-no-result">
          <el-table-column prop="q" label="检索内容"/>
          <el-table-column prop="count" label="次数" width="80"/>
        </el-table>
      </el-card>
    </div>
    <div v-else v-loading="true" style="height: 240px"></div>
  </div>`,
  setup() {
    const data = ref(null);
    const loading = ref(false);
    const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
    const monthAgo = new Date(Date.now() - 29 * 86400000).toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
    const range = ref([monthAgo, today]);

    async function load() {
      loading.value = true;
      const [from, to] = range.value || [];
      const params = new URLSearchParams();
      if (from) params.set("from", from);
      if (to) params.set("to", to);
      try {
        data.value = await api("GET", `/api/knowledge/figures?${params}`);
      } catch (err) {
        ElMessage.error(problem(err));
      } finally {
        loading.value = false;
      }
    }
    const byDepartment = computed(() => {
      const rows = data.value.by_department;
      return bars(rows.map((r) => r.department), ORDER.map((s) => ({
        name: STATES[s].label, type: "bar", stack: "state", itemStyle: { color: COLOURS[s] },
        data: rows.map((r) => r[s] || 0) })));
    });
    const rateSeries = (rows, label) => bars(rows.map(label), [{
      name: "直接答复率", type: "bar", itemStyle: { color: "#1f5fbf" }, label: { show: true, position: "right", formatter: "{c}%" },
      data: rows.map(rate) }], { percent: true });
    const byAgent = computed(() => rateSeries(data.value.direct_answer.by_agent, (r) => (r.name ? `${r.name} ` : "") + r.agent));
    const byLine = computed(() => rateSeries(data.value.direct_answer.by_line, (r) => r.label || r.line || r.number));
    const mostUsed = computed(() => bars(data.value.most_used.map((r) => r.title), [{
      name: "使用次数", type: "bar", itemStyle: { color: "#67c23a" }, label: { show: true, position: "right" },
      data: data.value.most_used.map((r) => r.uses) }]));
    const chartHeight = (rows) => Math.min(420, Math.max(120, rows.length * 32 + 50));
    onMounted(load);
    return { chartHeight, data, loading, range, order: ORDER, states: STATES, byDepartment, byAgent, byLine, mostUsed, rate, load };
  },
};
