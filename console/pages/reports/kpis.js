// The report's figures as the pages show them: which KPI cards there are (in the order a centre reads them),
// how each is written (rates as %, times in 秒/分秒, counts with separators), the 环比/同比 change, the rating
// labels and the query string of a report request. Shared by the reports page and the monthly report.

// kind: rate (0..1), secs, count; better: which way is good ("up" | "down"; none for volumes); formula: the key of
// the API's `formulas` that explains the card when it is not the card's own key.
export const KPIS = [
  { key: "offered", title: "来电量", kind: "count" },
  { key: "connection_rate", title: "接通率", kind: "rate", better: "up",
    sub: (k) => `人工接通 ${count(k.answered)} · 自助办结 ${count(k.self_served)}` },
  { key: "answer_rate_15s", title: "15秒接通率", kind: "rate", better: "up",
    sub: (k) => `排队 ${count(k.queued)} · 15秒内接通 ${count(k.answered_15s)}` },
  { key: "abandon_rate", title: "放弃率", kind: "rate", better: "down",
    sub: (k) => `放弃 ${count(k.abandoned)} · 短时放弃 ${count(k.short_abandoned)}` },
  { key: "wait_avg_s", title: "平均等待", kind: "secs", better: "down", sub: (k) => `P95 等待 ${secs(k.wait_p95_s)}` },
  { key: "talk_avg_s", title: "平均通话", kind: "secs" },
  { key: "wrap_up_avg_s", title: "平均话后处理", kind: "secs", better: "down" },
  { key: "satisfaction_rate", title: "满意率", kind: "rate", better: "up",
    sub: (k) => `非常满意及满意 ${count(satisfied(k))} / 评价 ${count(k.rated)}` },
  { key: "rating_coverage", title: "评价率", kind: "rate", better: "up", sub: (k) => `已评价 ${count(k.rated)}` },
  { key: "revisit_coverage", title: "回访率", kind: "rate", better: "up",
    sub: (k) => `已回访 ${count(k.revisits_done)} / 应回访 ${count(k.revisits_due)}` },
  { key: "callbacks_done", title: "回电完成", kind: "count", better: "up", formula: "callbacks_requested",
    sub: (k) => `申请 ${count(k.callbacks_requested)} · 联系上 ${count(k.callbacks_reached)}` },
  { key: "tickets", title: "工单量", kind: "count" },
];

// Keys 1..5 of the post-call rating, as the shipped dialplan's `rating.labels` reads them (key 1 is the best).
export const RATING_LABELS = { 1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意" };

export const BY_TEXT = { day: "日", week: "周", month: "月", total: "合计" };

// 非常满意 and 满意 (keys 1 and 2): what the API's satisfaction_rate counts as satisfied.
export function satisfied(k) {
  const s = (k && k.satisfaction) || {};
  return (s["1"] || 0) + (s["2"] || 0);
}

export function count(v) {
  return v === null || v === undefined ? "—" : Number(v).toLocaleString("zh-CN");
}

// A rate 0..1 as a percentage with one decimal ("95.2%"); "—" when there is nothing to divide.
export function pct(v) {
  return v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;
}

// Seconds as a person reads them: "12.3秒" under a minute, "3分05秒" from a minute on.
export function secs(v) {
  if (v === null || v === undefined) return "—";
  if (v < 60) return `${Number(v).toFixed(1)}秒`;
  const whole = Math.round(v);
  return `${Math.floor(whole / 60)}分${String(whole % 60).padStart(2, "0")}秒`;
}

export function show(kind, v) {
  return { rate: pct, secs, count }[kind](v);
}

// The change from `before` to `now`: rates in 百分点, the rest relative; {text, arrow, tone} or null.
export function change(kpi, now, before) {
  if (now === null || now === undefined || before === null || before === undefined) return null;
  let delta;
  let text;
  if (kpi.kind === "rate") {
    delta = (now - before) * 100;
    text = `${Math.abs(delta).toFixed(1)}个百分点`;
  } else {
    if (!before) return null;
    delta = ((now - before) / before) * 100;
    text = `${Math.abs(delta).toFixed(1)}%`;
  }
  if (Math.abs(delta) < 0.05) return { text: "持平", arrow: "→", tone: "flat", delta: 0 };
  const up = delta > 0;
  const tone = !kpi.better ? "flat" : (up === (kpi.better === "up") ? "good" : "bad");
  return { text, arrow: up ? "↑" : "↓", tone, delta };
}

// The same change in words for the report's prose: "上升1.2个百分点", "下降3.0%", "持平", or "无可比数据".
export function changeWords(kpi, now, before) {
  const c = change(kpi, now, before);
  if (!c) return "无可比数据";
  if (c.tone === "flat" && c.delta === 0) return "持平";
  return `${c.delta > 0 ? (kpi.kind === "rate" ? "上升" : "增长") : "下降"}${c.text}`;
}

export function kpiOf(key) {
  return KPIS.find((k) => k.key === key);
}

// A report request's query string from the filled-in filters only (empty ones are left out).
export function query(params) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") q.set(name, String(value));
  }
  return q.toString();
}

// An export link of one part of the report (the route sends the file with its name).
export function exportHref(report, format, params) {
  return `/api/reports/export?${query({ report, format, ...params })}`;
}

// Dates as the API takes them (local calendar days, YYYY-MM-DD).
export function isoDay(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

// The first and last day of the month "YYYY-MM".
export function monthRange(month) {
  const [y, m] = month.split("-").map(Number);
  return [isoDay(new Date(y, m - 1, 1)), isoDay(new Date(y, m, 0))];
}
