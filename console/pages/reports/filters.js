// The reports' filter bar: 日期范围 (with 今日/昨日/本周/本月/上月), 统计粒度, 热线号码, 技能组, 班组, 坐席 and the
// short-abandon threshold. The choices come from the directory (skills, teams, agents) and the lines that had
// calls; a team supervisor starts on their own team (the API refuses other teams).
import { onMounted, reactive, watch } from "vue";
import { api } from "/common/api.js";
import { isoDay } from "./kpis.js";

function daysAgo(n) {
  const d = new Date();
  d.setDate(d.getDate() - n);
  return d;
}

function monday() {
  const d = new Date();
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  return d;
}

export const SHORTCUTS = [
  { text: "今日", value: () => [new Date(), new Date()] },
  { text: "昨日", value: () => [daysAgo(1), daysAgo(1)] },
  { text: "本周", value: () => [monday(), new Date()] },
  { text: "本月", value: () => { const d = new Date(); return [new Date(d.getFullYear(), d.getMonth(), 1), d]; } },
  { text: "上月", value: () => { const d = new Date();
                                 return [new Date(d.getFullYear(), d.getMonth() - 1, 1),
                                         new Date(d.getFullYear(), d.getMonth(), 0)]; } },
];

// The filters a page starts with: this month by day; a team supervisor's own team.
export function startingFilters(me) {
  const today = new Date();
  return {
    range: [isoDay(new Date(today.getFullYear(), today.getMonth(), 1)), isoDay(today)], by: "day",
    line: "", skill: "", team: me.role === "supervisor" && me.team ? me.team : "", agent: "", short_abandon_s: null,
  };
}

// The kpis request's parameters for the filters.
export function kpiParams(f) {
  return { from: f.range[0], to: f.range[1], by: f.by, line: f.line, skill: f.skill, team: f.team,
           agent: f.agent, short_abandon_s: f.short_abandon_s };
}

export const FilterBar = {
  props: { filters: { type: Object, required: true }, lines: { type: Array, default: () => [] },
           busy: Boolean },
  emits: ["run", "monthly"],
  template: `
  <el-form :inline="true" class="filter-bar" data-test="filters" @submit.prevent="$emit('run')">
    <el-form-item label="日期范围">
      <el-date-picker v-model="filters.range" type="daterange" value-format="YYYY-MM-DD" :shortcuts="shortcuts"
                      range-separator="至" start-placeholder="开始日期" end-placeholder="结束日期"
                      :clearable="false" style="width: 250px" data-test="range"/>
    </el-form-item>
    <el-form-item label="统计粒度">
      <el-radio-group v-model="filters.by" data-test="by">
        <el-radio-button value="day">日</el-radio-button>
        <el-radio-button value="week">周</el-radio-button>
        <el-radio-button value="month">月</el-radio-button>
      </el-radio-group>
    </el-form-item>
    <el-form-item label="热线号码">
      <el-select v-model="filters.line" clearable filterable placeholder="全部" style="width: 150px" data-test="line">
        <el-option v-for="l in lineOptions" :key="l.key" :label="l.label" :value="l.key"/>
      </el-select>
    </el-form-item>
    <el-form-item label="技能组">
      <el-select v-model="filters.skill" clearable placeholder="全部" style="width: 130px" data-test="skill">
        <el-option v-for="s in options.skills" :key="s.id" :label="s.label" :value="s.id"/>
      </el-select>
    </el-form-item>
    <el-form-item label="班组">
      <el-select v-model="filters.team" clearable placeholder="全部" style="width: 110px" data-test="team">
        <el-option v-for="t in options.teams" :key="t.name" :label="t.name" :value="t.name"/>
      </el-select>
    </el-form-item>
    <el-form-item label="坐席">
      <el-select v-model="filters.agent" clearable filterable placeholder="全部" style="width: 140px" data-test="agent">
        <el-option v-for="a in agentOptions" :key="a.id" :label="a.id + ' ' + a.name" :value="a.id"/>
      </el-select>
    </el-form-item>
    <el-form-item label="短时放弃(秒)">
      <el-input-number v-model="filters.short_abandon_s" :min="0" :max="60" controls-position="right"
                       placeholder="默认5" style="width: 100px" data-test="short-abandon"/>
    </el-form-item>
    <el-form-item>
      <el-button type="primary" native-type="submit" :loading="busy" data-test="run">查询</el-button>
      <el-button @click="$emit('monthly')" data-test="open-monthly">月度报告</el-button>
    </el-form-item>
  </el-form>`,
  setup(props) {
    const options = reactive({ skills: [], teams: [], agents: [] });
    onMounted(async () => {
      const [skills, teams, agents] = await Promise.allSettled([
        api("GET", "/api/directory/skills"), api("GET", "/api/directory/teams"), api("GET", "/api/directory/agents"),
      ]);
      if (skills.status === "fulfilled") options.skills = skills.value.skills || [];
      if (teams.status === "fulfilled") options.teams = teams.value.teams || [];
      if (agents.status === "fulfilled") options.agents = agents.value.agents || [];
    });
    watch(() => props.filters.team, () => {
      const agent = options.agents.find((a) => a.id === props.filters.agent);
      if (agent && props.filters.team && agent.team !== props.filters.team) props.filters.agent = "";
    });
    return { options, shortcuts: SHORTCUTS };
  },
  computed: {
    agentOptions() {
      return this.options.agents.filter((a) => !this.filters.team || a.team === this.filters.team);
    },
    lineOptions() {
      const known = this.lines.map((l) => ({ key: l.key, label: l.label && l.label !== l.key ? `${l.key} ${l.label}` : l.key }));
      if (this.filters.line && !known.some((l) => l.key === this.filters.line)) known.push({ key: this.filters.line, label: this.filters.line });
      return known;
    },
  },
};
