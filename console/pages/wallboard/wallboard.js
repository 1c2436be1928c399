// 实时监控: the live wallboard for supervisors (their team) and for the wall screen (大屏: bigger type, no bar;
// F11 for the browser's full screen, or the 大屏 button). Lines and skills, the service-level charts, the agents
// grid with the supervisor's actions, callbacks due, revisit campaigns and the alerts; live over the ACD's feed.
import { computed, inject, onBeforeUnmount, onMounted, ref } from "vue";
import { startConsole } from "/common/console.js";
import { AgentGrid, STATE_TEXT, spyPhone } from "./agents.js";
import { SlBars, SlGauge } from "./chart.js";
import { clock, liveBoard, percent } from "./live.js";
import { LineTable, QueueCards } from "./queues.js";

const Wallboard = {
  components: { AgentGrid, LineTable, QueueCards, SlBars, SlGauge },
  setup() {
    const me = inject("me");
    const { live, read } = liveBoard();
    const wall = ref(new URLSearchParams(location.search).get("wall") === "1");
    const allLines = ref(false);
    const spy = spyPhone(me);
    const canAct = ["supervisor", "admin"].includes(me.role);
    const board = computed(() => live.board);
    const elapsed = computed(() => (live.readAt ? Math.max(0, (live.now - live.readAt) / 1000) : 0));
    const thresholds = computed(() => board.value?.thresholds || { sl_target: 0.8, wait_alert_s: 60, pause_alert_s: 900 });
    const main = computed(() => board.value?.lines[0]);
    const gauge = computed(() => main.value && { rate: main.value.decided_30min ? main.value.sl_15s_30min : null,
                                                 target: thresholds.value.sl_target });
    const bars = computed(() => board.value && { skills: board.value.skills, target: thresholds.value.sl_target });
    const stateCounts = computed(() => Object.entries(board.value?.states || {}).map(([k, n]) => ({ key: k, n })));
    const critical = computed(() => (board.value?.alerts || []).filter((a) => a.level === "critical").length);

    function setWall(on) {
      wall.value = on;
      document.body.classList.toggle("hl-wall", on);
      const url = new URL(location.href);
      if (on) url.searchParams.set("wall", "1"); else url.searchParams.delete("wall");
      history.replaceState(null, "", url);
      if (on && document.documentElement.requestFullscreen && !document.fullscreenElement) {
        document.documentElement.requestFullscreen().catch(() => {});
      } else if (!on && document.fullscreenElement) {
        document.exitFullscreen().catch(() => {});
      }
    }
    const onKey = (e) => { if (e.key === "Escape" && wall.value) setWall(false); };
    onMounted(() => { document.body.classList.toggle("hl-wall", wall.value); window.addEventListener("keydown", onKey); });
    onBeforeUnmount(() => window.removeEventListener("keydown", onKey));
    return { live, read, board, wall, allLines, setWall, spy, canAct, elapsed, thresholds, gauge, bars, stateCounts, critical,
             STATE_TEXT, clock, percent, me };
  },
  template: `
  <div class="wb" :class="{ wall }">
    <div class="wb-toolbar">
      <h1>实时监控<span v-if="me.team && me.role === 'supervisor'" class="wb-team"> · {{ me.team }}</span></h1>
      <span class="wb-feed" :class="live.feed" data-test="feed">{{ live.feed === "open" ? "实时" : "连接中…" }}</span>
      <span class="hl-muted" v-if="board">更新于 {{ new Date(board.at).toLocaleTimeString("zh-CN", { hour12: false }) }}</span>
      <span class="wb-grow"></span>
      <template v-if="canAct && !wall">
        <span v-if="spy.own" class="hl-muted" data-test="spy-phone">监听话机 {{ spy.phone.value }}</span>
        <el-select v-else :model-value="spy.chosen.value" @update:model-value="spy.choose" placeholder="选择监听话机"
                   size="small" style="width: 170px" data-test="spy-phone">
          <el-option v-for="p in board?.supervisor_phones || []" :key="p.phone" :value="p.phone"
                     :label="p.phone + ' ' + p.name"/>
        </el-select>
      </template>
      <el-button size="small" @click="setWall(!wall)" data-test="wall">{{ wall ? "退出大屏" : "大屏" }}</el-button>
    </div>
    <el-alert v-if="live.error" :title="live.error" type="error" show-icon :closable="false" data-test="error"/>
    <div v-if="!board" class="wb-loading" v-loading="true"></div>
    <template v-else>
      <section class="wb-top">
        <div class="wb-panel wb-totals">
          <div class="wb-total" data-test="total-waiting"><b :class="{ warn: board.waiting }">{{ board.waiting }}</b><span>排队总数</span></div>
          <div v-for="s in stateCounts" :key="s.key" class="wb-total" :class="'s-' + s.key" :data-test="'count-' + s.key">
            <b>{{ s.n }}</b><span>{{ STATE_TEXT[s.key] }}</span>
          </div>
        </div>
        <div class="wb-panel wb-gauge"><sl-gauge v-if="gauge" :data="gauge" :big="wall"/></div>
        <div class="wb-panel wb-bars"><h3>各技能组15秒接通率</h3><sl-bars :data="bars" :big="wall"/></div>
        <div class="wb-panel wb-alerts" data-test="alerts">
          <h3>告警 <el-tag v-if="board.alerts.length" :type="critical ? 'danger' : 'warning'" size="small" effect="dark">{{ board.alerts.length }}</el-tag></h3>
          <div v-if="!board.alerts.length" class="hl-muted wb-none">运行正常，无告警</div>
          <div v-for="a in board.alerts" :key="a.kind + a.subject" class="wb-alert" :class="a.level"
               :data-test="'alert-' + a.kind">{{ a.text }}</div>
        </div>
      </section>
      <section class="wb-middle">
        <div class="wb-panel">
          <h3>热线号码
            <el-checkbox v-if="!wall" v-model="allLines" size="small" data-test="all-lines">显示全部号码（{{ board.lines.length }}）</el-checkbox>
          </h3>
          <line-table :rows="board.lines" :all="allLines && !wall" :target="thresholds.sl_target" :wait-limit="thresholds.wait_alert_s" :elapsed="elapsed"/>
        </div>
        <div>
          <h2>技能组</h2>
          <queue-cards :rows="board.skills" kind="skill" :target="thresholds.sl_target" :wait-limit="thresholds.wait_alert_s" :elapsed="elapsed"/>
        </div>
      </section>
      <section class="wb-bottom">
        <div class="wb-panel wb-agents-panel">
          <h3>坐席状态（{{ board.agents.length }} 人）</h3>
          <agent-grid :agents="board.agents" :elapsed="elapsed" :phone="spy.phone.value" :pause-limit="thresholds.pause_alert_s"
                      :can-act="canAct && !wall" @changed="read"/>
        </div>
        <div class="wb-side">
          <div class="wb-panel" data-test="callbacks">
            <h3>预约回电与留言</h3>
            <div class="wb-figures">
              <div class="wb-figure"><div class="wb-value" data-test="callbacks-due">{{ board.callbacks.due }}</div><div class="wb-label">待回电</div></div>
              <div class="wb-figure"><div class="wb-value" data-test="messages-due">{{ board.callbacks.voice_messages_due }}</div><div class="wb-label">待处理留言</div></div>
              <div class="wb-figure"><div class="wb-value" :class="{ bad: board.callbacks.overdue }" data-test="overdue">{{ board.callbacks.overdue }}</div><div class="wb-label">已超时</div></div>
            </div>
          </div>
          <div class="wb-panel" data-test="revisits">
            <h3>回访进度</h3>
            <div v-if="!board.revisits.length" class="hl-muted wb-none">没有进行中的回访任务</div>
            <div v-for="c in board.revisits" :key="c.campaign" class="wb-campaign">
              <div class="wb-campaign-head"><span>{{ c.name }}<el-tag v-if="c.state === 'paused'" size="small" type="info">已暂停</el-tag></span>
                <span class="hl-muted">{{ c.done }}/{{ c.total }} · 接通率 {{ percent(c.reached_rate) }}</span></div>
              <el-progress :percentage="c.total ? Math.round(c.done / c.total * 100) : 0" :stroke-width="10"/>
            </div>
          </div>
        </div>
      </section>
    </template>
  </div>`,
};

startConsole(Wallboard, "wallboard");
