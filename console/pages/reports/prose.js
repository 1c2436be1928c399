// The monthly report's paragraphs: the month's figures written out as a city report words them, each with its
// 环比 (against last month) and 同比 (against the same month last year).
import { RATING_LABELS, changeWords, count, kpiOf, pct, secs } from "./kpis.js";

// "环比上升1.2个百分点、同比下降0.4个百分点" for one KPI of the report.
function compared(report, key) {
  const kpi = kpiOf(key) || { key, kind: "count" };
  const now = report.totals[key];
  return `环比${changeWords(kpi, now, (report.previous || {})[key])}、` +
         `同比${changeWords(kpi, now, (report.last_year || {})[key])}`;
}

// "A（12件，占40.0%）、B（…）" for the first `n` rows by `key`.
function leaders(rows, key, n, unit) {
  const used = (rows || []).filter((r) => r[key] > 0).sort((a, b) => b[key] - a[key]);
  const all = used.reduce((sum, r) => sum + r[key], 0);
  return used.slice(0, n).map((r) => `${r.label || r.key}（${count(r[key])}${unit}，占${pct(r[key] / all)}）`).join("、");
}

function overview(r, month) {
  const t = r.totals;
  return `${month}，热线共受理来电${count(t.offered)}个，${compared(r, "offered")}。其中人工接通${count(t.answered)}个、` +
    `自助服务办结${count(t.self_served)}个，接通率为${pct(t.connection_rate)}，${compared(r, "connection_rate")}；` +
    `进入排队${count(t.queued)}个，15秒内接通${count(t.answered_15s)}个，15秒接通率为${pct(t.answer_rate_15s)}，` +
    `${compared(r, "answer_rate_15s")}；来电者放弃${count(t.abandoned)}个（其中短时放弃${count(t.short_abandoned)}个），` +
    `放弃率为${pct(t.abandon_rate)}，${compared(r, "abandon_rate")}；平均等待${secs(t.wait_avg_s)}，` +
    `95%的来电者等待不超过${secs(t.wait_p95_s)}。全月形成工单${count(t.tickets)}件，${compared(r, "tickets")}。`;
}

function quality(r) {
  const t = r.totals;
  const levels = Object.entries(RATING_LABELS)
    .map(([key, label]) => `${label}${count((t.satisfaction || {})[key] || 0)}人次`).join("、");
  return `本月平均通话时长${secs(t.talk_avg_s)}，平均话后处理时长${secs(t.wrap_up_avg_s)}。` +
    `来电者参与满意度评价${count(t.rated)}人次，评价率为${pct(t.rating_coverage)}，${compared(r, "rating_coverage")}；` +
    `其中${levels}，满意率为${pct(t.satisfaction_rate)}，${compared(r, "satisfaction_rate")}。` +
    `应回访${count(t.revisits_due)}件，已回访${count(t.revisits_done)}件，回访率为${pct(t.revisit_coverage)}。` +
    `来电者申请回电${count(t.callbacks_requested)}个，已回电${count(t.callbacks_done)}个，其中联系上` +
    `${count(t.callbacks_reached)}个。`;
}

function demands(r) {
  const parts = [];
  const types = leaders(r.request_types, "tickets", 3, "件");
  if (types) parts.push(`按诉求类型，以${types}为主`);
  const categories = leaders(r.categories, "tickets", 3, "件");
  if (categories) parts.push(`按诉求分类，前三位为${categories}`);
  const regions = leaders(r.regions, "tickets", 3, "件");
  if (regions) parts.push(`按区域，工单较多的是${regions}`);
  const lines = leaders(r.lines, "offered", 3, "个");
  if (lines) parts.push(`各热线号码中，来电量居前的是${lines}`);
  return parts.length ? `本月${parts.join("；")}。` : "本月没有形成工单，也没有来电记录。";
}

function people(r, agents) {
  const teams = (r.teams || []).filter((t) => t.answered > 0).sort((a, b) => b.answered - a.answered);
  const who = (agents || []).filter((a) => a.answered > 0);
  const parts = [`本月共有${count((r.teams || []).length)}个班组`];
  if (teams.length) parts.push(`接通量最多的班组是${teams[0].team}（${count(teams[0].answered)}个）`);
  if (who.length) {
    parts.push(`${count(who.length)}名坐席有接通记录，接通量最多的是${who[0].name || who[0].agent}` +
               `（工号${who[0].agent}，${count(who[0].answered)}个）`);
  }
  return `${parts.join("，")}。`;
}

export function monthlyProse(report, month, agents) {
  return { overview: overview(report, month), quality: quality(report), demands: demands(report),
           people: people(report, agents) };
}
