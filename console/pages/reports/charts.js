// The report's charts: one Vue component around Apache ECharts (served from /vendor/echarts), and the options
// of each chart built from the API's answers (trend per period, volumes, the five rating levels, by hour).
import { h, onBeforeUnmount, onMounted, ref, watch } from "vue";
import * as echarts from "echarts";
import { RATING_LABELS } from "./kpis.js";

const FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
const COLOURS = ["#1f5fbf", "#e6a23c", "#2e9e6b", "#c8102e", "#7b61c4", "#3aa6c9", "#8a8f99"];

// <e-chart :option="…" height="300px" renderer="canvas|svg"/>: draws, follows its box's size, redraws on change;
// a chart with nothing to show (an option made by `empty`) says so in its data-blank attribute.
export const EChart = {
  name: "EChart",
  props: { option: { type: Object, required: true }, height: { type: String, default: "300px" },
           renderer: { type: String, default: "canvas" } },
  setup(props) {
    const box = ref(null);
    let chart = null;
    let watcher = null;
    const blank = ref(false);
    const draw = ({ blank: nothing, ...option }) => {
      blank.value = Boolean(nothing);
      if (chart) chart.setOption({ animation: false, color: COLOURS, textStyle: { fontFamily: FONT }, ...option }, true);
    };
    onMounted(() => {
      chart = echarts.init(box.value, null, { renderer: props.renderer });
      draw(props.option);
      watcher = new ResizeObserver(() => chart && chart.resize());
      watcher.observe(box.value);
    });
    watch(() => props.option, draw);
    onBeforeUnmount(() => {
      if (watcher) watcher.disconnect();
      if (chart) chart.dispose();
      chart = null;
    });
    return () => h("div", { ref: box, class: "hl-chart", style: { height: props.height },
                            "data-blank": blank.value ? "true" : undefined });
  },
};

const percentAxis = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } };
const asPercent = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);
const empty = (text) => ({ blank: true, title: { text, left: "center", top: "middle", textStyle: { color: "#909399", fontSize: 14,
                                                                                      fontWeight: "normal" } } });

// 接通率 / 15秒接通率 / 满意率 per period as lines (%), with the calls offered as bars behind them.
export function trendOption(periods) {
  if (!periods || !periods.length) return empty("所选时段没有数据");
  const line = (name, key) => ({ name, type: "line", yAxisIndex: 0, smooth: false, connectNulls: true,
                                 data: periods.map((p) => asPercent(p[key])) });
  return {
    tooltip: { trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "—" : String(v)) },
    legend: { top: 0 },
    grid: { left: 48, right: 56, top: 36, bottom: 28 },
    xAxis: { type: "category", data: periods.map((p) => p.period) },
    yAxis: [{ ...percentAxis, name: "%" }, { type: "value", name: "来电量", minInterval: 1, splitLine: { show: false } }],
    series: [
      { name: "来电量", type: "bar", yAxisIndex: 1, barMaxWidth: 24, itemStyle: { color: "#c9d6ea" },
        data: periods.map((p) => p.offered) },
      line("接通率", "connection_rate"), line("15秒接通率", "answer_rate_15s"), line("满意率", "satisfaction_rate"),
    ],
  };
}

// Calls offered / answered / abandoned per row of a volume dimension (bars; horizontal when the labels are long).
export function volumeOption(rows, { horizontal = false, top = 12 } = {}) {
  if (!rows || !rows.length) return empty("所选时段没有数据");
  const shown = [...rows].sort((a, b) => b.offered - a.offered).slice(0, top);
  const labels = shown.map((r) => r.label || r.key);
  const series = [["来电量", "offered"], ["接通", "answered"], ["放弃", "abandoned"]].map(([name, key]) => ({
    name, type: "bar", barMaxWidth: 18, data: shown.map((r) => r[key]),
  }));
  const categories = { type: "category", data: labels, axisLabel: { interval: 0, width: 110, overflow: "truncate" } };
  const values = { type: "value", minInterval: 1 };
  if (horizontal) {
    categories.inverse = true;
    return { tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 120, right: 24, top: 32, bottom: 24 },
             xAxis: values, yAxis: categories, series };
  }
  categories.axisLabel = { interval: 0, rotate: labels.length > 6 ? 30 : 0 };
  return { tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 48, right: 16, top: 32, bottom: 56 },
           xAxis: categories, yAxis: values, series };
}

// Tickets per row (request types, categories, regions; calls offered when no row has tickets): a ring of shares.
export function shareOption(rows, top = 8) {
  const key = (rows || []).some((r) => r.tickets > 0) ? "tickets" : "offered";
  const used = (rows || []).filter((r) => r[key] > 0).sort((a, b) => b[key] - a[key]);
  if (!used.length) return empty("所选时段没有数据");
  const data = used.slice(0, top).map((r) => ({ name: r.label || r.key, value: r[key] }));
  const rest = used.slice(top).reduce((n, r) => n + r[key], 0);
  if (rest) data.push({ name: "其他", value: rest });
  return {
    tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
    legend: { type: "scroll", orient: "vertical", right: 8, top: "middle" },
    series: [{ type: "pie", radius: ["38%", "66%"], center: ["36%", "52%"], data,
               label: { formatter: "{d}%" } }],
  };
}

// The five rating levels as a pie (1 非常满意 … 5 非常不满意).
export function satisfactionOption(satisfaction) {
  const data = Object.entries(RATING_LABELS).map(([key, name]) => {
    const value = (satisfaction || {})[key] || 0;
    return value ? { name, value } : { name, value, label: { show: false }, labelLine: { show: false } };
  });
  if (!data.some((d) => d.value)) return empty("所选时段没有评价");
  return {
    color: ["#2e9e6b", "#67c23a", "#e6a23c", "#f56c6c", "#c8102e"],
    tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
    legend: { orient: "vertical", right: 8, top: "middle" },
    series: [{ type: "pie", radius: "66%", center: ["38%", "52%"], data, label: { formatter: "{b}\n{d}%" } }],
  };
}

// Calls by hour of day (0–23): offered and abandoned as bars, the 15-s answer rate as a line.
export function hourOption(rows) {
  const byHour = new Map((rows || []).map((r) => [Number(r.key), r]));
  const hours = Array.from({ length: 24 }, (_, i) => i);
  if (!byHour.size) return empty("所选时段没有数据");
  const pick = (key) => hours.map((i) => (byHour.get(i) ? byHour.get(i)[key] : 0));
  return {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 48, right: 56, top: 36, bottom: 28 },
    xAxis: { type: "category", data: hours.map((i) => `${i}时`) },
    yAxis: [{ type: "value", name: "来电量", minInterval: 1 }, { ...percentAxis, name: "%", splitLine: { show: false } }],
    series: [
      { name: "来电量", type: "bar", data: pick("offered"), barMaxWidth: 16 },
      { name: "放弃", type: "bar", data: pick("abandoned"), barMaxWidth: 16 },
      { name: "15秒接通率", type: "line", yAxisIndex: 1, connectNulls: true,
        data: hours.map((i) => (byHour.get(i) ? asPercent(byHour.get(i).answer_rate_15s) : null)) },
    ],
  };
}
