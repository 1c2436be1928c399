// Service-level charts (Apache ECharts): a gauge of the main line's 15-s service level over the last 30 minutes
// and bars per skill (today and 30 minutes) against the target.
import { h, onBeforeUnmount, onMounted, ref, watch } from "vue";
import * as echarts from "echarts";

function gaugeOption(rate, target, big) {
  const value = Math.round((rate ?? 0) * 1000) / 10;
  return {
    series: [{
      type: "gauge", min: 0, max: 100, radius: "92%",
      axisLine: { lineStyle: { width: big ? 22 : 14, color: [[target, "#d9363e"], [Math.min(1, target + 0.1), "#f0a020"], [1, "#2e9e5b"]] } },
      pointer: { width: 5, show: rate !== null }, splitNumber: 5,
      axisLabel: { fontSize: big ? 16 : 11, color: "#6b7785" }, axisTick: { show: false },
      splitLine: { length: big ? 22 : 14, lineStyle: { width: 2, color: "#999" } },
      title: { offsetCenter: [0, "72%"], fontSize: big ? 20 : 13, color: big ? "#9fb3cf" : "#6b7785" },
      detail: { valueAnimation: true, formatter: rate === null ? "暂无" : "{value}%", fontSize: big ? 44 : 26, offsetCenter: [0, "38%"],
                color: rate !== null && rate < target ? "#d9363e" : big ? "#e6edf7" : "#1f2d3d" },
      data: [{ value, name: "近30分钟15秒接通率" }],
    }],
  };
}

function barsOption(skills, target, big) {
  const font = big ? 15 : 12;
  const color = big ? "#c9d6ea" : "#4b5563";
  return {
    grid: { left: 8, right: 16, top: 34, bottom: 4, containLabel: true },
    legend: { data: ["今日", "近30分钟"], top: 0, left: 0, textStyle: { fontSize: font, color } },
    tooltip: { trigger: "axis", valueFormatter: (v) => `${v}%` },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%", fontSize: font, color } },
    yAxis: { type: "category", data: skills.map((s) => s.name), inverse: true, axisLabel: { fontSize: font, color } },
    series: [
      { name: "今日", type: "bar", data: skills.map((s) => Math.round(s.sl_15s_today * 1000) / 10), color: "#5b8ff9",
        markLine: { symbol: "none", data: [{ xAxis: target * 100 }], lineStyle: { color: "#d9363e", type: "dashed" },
                    label: { formatter: "目标 {c}%", fontSize: font, color: "#d9363e", position: "end" } } },
      { name: "近30分钟", type: "bar", data: skills.map((s) => Math.round(s.sl_15s_30min * 1000) / 10), color: "#2e9e5b" },
    ],
  };
}

function chart(build) {
  return {
    props: { data: Object, big: Boolean },
    setup(props) {
      const el = ref(null);
      let instance = null;
      const draw = () => instance && props.data && instance.setOption(build(props.data, props.big), true);
      const resize = () => instance && instance.resize();
      onMounted(() => { instance = echarts.init(el.value); draw(); window.addEventListener("resize", resize); });
      onBeforeUnmount(() => { window.removeEventListener("resize", resize); instance && instance.dispose(); });
      watch(() => [props.data, props.big], () => { draw(); setTimeout(resize, 50); });
      return () => h("div", { ref: el, class: "wb-chart" });
    },
  };
}

export const SlGauge = chart((d, big) => gaugeOption(d.rate, d.target, big));
export const SlBars = chart((d, big) => barsOption(d.skills, d.target, big));
