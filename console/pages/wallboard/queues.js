// The lines' and skills' figures: 排队数, 最长等待, 15秒接通率 (今日 / 近30分钟), 放弃数, with each formula on hover.
import { clock, percent } from "./live.js";

export const FORMULAS = {
  waiting: "此刻在队列中等待坐席的来电数",
  longest: "此刻等待最久的来电已等待的时间",
  sl: "15秒内接通数 ÷ 已有结果的排队来电数（不含转预约回电、留言；不含仍在等待且未满15秒者）；来自话单",
  abandoned: "今日排队后未接通即挂断的来电数",
  offered: "今日进入排队的来电数（不含转预约回电、留言）",
};

export const QueueCards = {
  props: { rows: Array, kind: String, target: Number, waitLimit: Number, elapsed: Number },
  setup(props) {
    const slClass = (rate, decided) => (decided > 0 && rate < props.target ? "bad" : "");
    const waitOf = (row) => (row.waiting ? row.longest_wait_s + props.elapsed : 0);
    return { clock, percent, slClass, waitOf, FORMULAS };
  },
  template: `
  <div class="wb-queues">
    <div v-for="row in rows" :key="row[kind]" class="wb-queue" :class="{ busy: row.waiting > 0 }"
         :data-test="kind + '-' + row[kind]">
      <div class="wb-queue-head">
        <span class="wb-queue-name">{{ row.name }}</span>
        <span v-if="kind === 'line'" class="wb-queue-key hl-mono">{{ row.line }}</span>
      </div>
      <div class="wb-figures">
        <div class="wb-figure" :title="FORMULAS.waiting">
          <div class="wb-value" :class="{ warn: row.waiting > 0 }" data-test="waiting">{{ row.waiting }}</div>
          <div class="wb-label">排队数</div>
        </div>
        <div class="wb-figure" :title="FORMULAS.longest">
          <div class="wb-value hl-mono" :class="{ bad: waitOf(row) > waitLimit }" data-test="longest">{{ clock(waitOf(row)) }}</div>
          <div class="wb-label">最长等待</div>
        </div>
        <div class="wb-figure" :title="FORMULAS.sl">
          <div class="wb-value" :class="slClass(row.sl_15s_today, row.offered_today)" data-test="sl-today">{{ percent(row.sl_15s_today) }}</div>
          <div class="wb-label">今日15秒率</div>
        </div>
        <div class="wb-figure" :title="FORMULAS.sl">
          <div class="wb-value" :class="slClass(row.sl_15s_30min, row.decided_30min)" data-test="sl-30min">{{ percent(row.sl_15s_30min) }}</div>
          <div class="wb-label">近30分钟</div>
        </div>
        <div class="wb-figure" :title="FORMULAS.abandoned">
          <div class="wb-value" data-test="abandoned">{{ row.abandoned_today }}</div>
          <div class="wb-label">放弃数</div>
        </div>
        <div class="wb-figure" :title="FORMULAS.offered">
          <div class="wb-value muted" data-test="offered">{{ row.answered_today }}/{{ row.offered_today }}</div>
          <div class="wb-label">接通/呼入</div>
        </div>
      </div>
    </div>
  </div>`,
};

// Every line in one dense table: the main number and the lines with callers today (or waiting now); the others
// on request (a merged centre has dozens of numbers).
export const LineTable = {
  props: { rows: Array, target: Number, waitLimit: Number, elapsed: Number, all: Boolean },
  setup(props) {
    const active = (row, i) => i === 0 || row.waiting > 0 || row.offered_today > 0;
    const waitOf = (row) => (row.waiting ? row.longest_wait_s + props.elapsed : 0);
    const slClass = (rate, decided) => (decided > 0 && rate < props.target ? "bad" : "");
    return { active, waitOf, slClass, clock, percent, FORMULAS };
  },
  template: `
  <table class="wb-lines">
    <thead><tr>
      <th>号码</th><th class="name">名称</th><th :title="FORMULAS.waiting">排队数</th><th :title="FORMULAS.longest">最长等待</th>
      <th :title="FORMULAS.sl">15秒接通率·今日</th><th :title="FORMULAS.sl">近30分钟</th>
      <th :title="FORMULAS.abandoned">放弃数</th><th :title="FORMULAS.offered">接通/呼入</th>
    </tr></thead>
    <tbody>
      <template v-for="(row, i) in rows" :key="row.line">
        <tr v-if="all || active(row, i)" :class="{ busy: row.waiting > 0 }" :data-test="'line-' + row.line">
          <td class="hl-mono key">{{ row.line }}</td><td class="name">{{ row.name }}</td>
          <td :class="{ warn: row.waiting > 0 }" data-test="waiting">{{ row.waiting }}</td>
          <td class="hl-mono" :class="{ bad: waitOf(row) > waitLimit }" data-test="longest">{{ clock(waitOf(row)) }}</td>
          <td :class="slClass(row.sl_15s_today, row.offered_today)" data-test="sl-today">{{ percent(row.sl_15s_today) }}</td>
          <td :class="slClass(row.sl_15s_30min, row.decided_30min)" data-test="sl-30min">{{ percent(row.sl_15s_30min) }}</td>
          <td data-test="abandoned">{{ row.abandoned_today }}</td>
          <td class="muted" data-test="offered">{{ row.answered_today }}/{{ row.offered_today }}</td>
        </tr>
      </template>
    </tbody>
  </table>`,
};
