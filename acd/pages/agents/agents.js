// 坐席管理: supervisors and admins list, add and edit agents (工号, 姓名, 席位, 班组, 技能与等级, 话机类型, 启用),
// add teams and give a phone a new password; engineers and auditors read. A page of the management console
// (/common/console.js: sign-in, the top bar); the API decides who reaches whom (a team supervisor: their team).
import { computed, inject, onMounted, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api, ApiError } from "/common/api.js";
import { startConsole } from "/common/console.js";

const SEATS = { general: "综合席", expert: "专家席", sub_centre: "分中心席" };
const PHONES = { sip: "SIP 话机", webrtc: "网页软电话" };
function problem(err) {
  if (err.status === 403) return "无权操作：" + err.message;
  return err.fields.length ? err.fields.map((f) => `${f.field}：${f.message}`).join("；") : err.text;
}

const AgentForm = {
  props: ["agent", "teams", "skills", "ownTeam"],
  emits: ["saved", "cancel"],
  template: `
  <el-form label-width="96px" data-test="agent-form">
    <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" style="margin-bottom: 12px"
              data-test="form-error"/>
    <el-form-item label="工号"><el-input v-model="form.id" :disabled="!!agent" name="id" placeholder="3–8 位数字"
                  maxlength="8"/></el-form-item>
    <el-form-item label="姓名"><el-input v-model="form.name" name="name" maxlength="32"/></el-form-item>
    <el-form-item label="席位">
      <el-radio-group v-model="form.seat">
        <el-radio-button v-for="(label, seat) in seats" :key="seat" :value="seat">{{ label }}</el-radio-button>
      </el-radio-group>
    </el-form-item>
    <el-form-item label="班组">
      <el-select v-model="form.team" placeholder="无班组" clearable :disabled="!!ownTeam" data-test="team">
        <el-option v-for="t in teams" :key="t.name" :label="t.name" :value="t.name"/>
      </el-select>
    </el-form-item>
    <el-form-item label="技能与等级">
      <div style="width: 100%">
        <div class="skill-row" v-for="(row, i) in form.skills" :key="i">
          <el-select v-model="row.skill" placeholder="技能" style="width: 200px" :data-test="'skill-' + i">
            <el-option v-for="s in skills" :key="s.id" :label="s.label" :value="s.id"/>
          </el-select>
          <el-input-number v-model="row.level" :min="1" :max="5" :data-test="'level-' + i"/>
          <span class="muted">级</span>
          <el-button link type="danger" @click="form.skills.splice(i, 1)">删除</el-button>
        </div>
        <el-button size="small" @click="form.skills.push({ skill: '', level: 3 })" data-test="add-skill">添加技能</el-button>
      </div>
    </el-form-item>
    <el-form-item label="话机类型">
      <el-radio-group v-model="form.phone">
        <el-radio v-for="(label, kind) in phones" :key="kind" :value="kind">{{ label }}</el-radio>
      </el-radio-group>
    </el-form-item>
    <el-form-item label="启用"><el-switch v-model="form.active"/></el-form-item>
    <el-form-item>
      <el-button type="primary" :loading="busy" @click="save" data-test="save">保存</el-button>
      <el-button @click="$emit('cancel')">取消</el-button>
    </el-form-item>
  </el-form>`,
  setup(props, { emit }) {
    const a = props.agent;
    const form = reactive({
      id: a?.id || "", name: a?.name || "", seat: a?.seat || "general", team: a ? a.team : props.ownTeam || null,
      skills: a ? Object.entries(a.skills).map(([skill, level]) => ({ skill, level })) : [{ skill: "general", level: 3 }],
      phone: a?.phone || "sip", active: a ? a.active : true,
    });
    const error = ref("");
    const busy = ref(false);
    async function save() {
      busy.value = true;
      error.value = "";
      const body = { name: form.name, seat: form.seat, team: form.team || null, phone: form.phone, active: form.active,
                     skills: Object.fromEntries(form.skills.filter((r) => r.skill).map((r) => [r.skill, r.level])) };
      try {
        const saved = a ? await api("PATCH", `/api/directory/agents/${a.id}`, body)
                        : await api("POST", "/api/directory/agents", { id: form.id, ...body });
        emit("saved", saved);
      } catch (err) {
        error.value = err.status === 409 ? `工号 ${form.id} 已存在` : problem(err);
      } finally {
        busy.value = false;
      }
    }
    return { form, error, busy, save, seats: SEATS, phones: PHONES };
  },
};

const Directory = {
  components: { AgentForm },
  template: `
  <div>
    <main class="main">
      <div class="toolbar">
        <el-input v-model="search" placeholder="按工号或姓名查找" clearable style="width: 220px" data-test="search"/>
        <el-select v-model="teamFilter" placeholder="全部班组" clearable style="width: 160px">
          <el-option v-for="t in teams" :key="t.name" :label="t.name + '（' + t.agents + ' 人）'" :value="t.name"/>
        </el-select>
        <el-checkbox v-model="showInactive">显示已停用</el-checkbox>
        <span class="grow"></span>
        <el-button v-if="canTeams" @click="addTeam" data-test="add-team">新增班组</el-button>
        <el-button v-if="canEdit" type="primary" @click="edit(null)" data-test="add-agent">新增坐席</el-button>
      </div>
      <el-table :data="shown" stripe border v-loading="loading" empty-text="暂无坐席" data-test="agents">
        <el-table-column prop="id" label="工号" width="100" sortable/>
        <el-table-column prop="name" label="姓名" width="120"/>
        <el-table-column label="席位" width="110"><template #default="{ row }">{{ seats[row.seat] }}</template></el-table-column>
        <el-table-column label="班组" width="110"><template #default="{ row }">{{ row.team || '—' }}</template></el-table-column>
        <el-table-column label="技能与等级" min-width="220">
          <template #default="{ row }"><div class="skills">
            <el-tag v-for="(level, skill) in row.skills" :key="skill" :type="level >= 4 ? 'success' : 'info'">
              {{ skillLabel(skill) }} · {{ level }} 级</el-tag>
          </div></template>
        </el-table-column>
        <el-table-column label="话机类型" width="120"><template #default="{ row }">{{ phones[row.phone] }}</template></el-table-column>
        <el-table-column label="启用" width="80">
          <template #default="{ row }">
            <el-switch :model-value="row.active" :disabled="!canEdit" @change="(on) => setActive(row, on)"
                       :data-test="'active-' + row.id"/>
          </template>
        </el-table-column>
        <el-table-column v-if="canEdit" label="操作" width="190">
          <template #default="{ row }">
            <el-button link type="primary" @click="edit(row)" :data-test="'edit-' + row.id">编辑</el-button>
            <el-button link type="warning" @click="rotate(row)" :data-test="'secret-' + row.id">重置话机密码</el-button>
          </template>
        </el-table-column>
      </el-table>
      <div class="muted" style="margin-top: 8px">共 {{ shown.length }} 名坐席；修改在一秒内同步到话务平台，进行中的通话不受影响。</div>
    </main>
    <el-dialog v-model="editing" :title="current ? '编辑坐席 ' + current.id : '新增坐席'" width="620px" destroy-on-close>
      <agent-form :agent="current" :teams="teams" :skills="skills" :own-team="ownTeam"
                  @saved="saved" @cancel="editing = false"/>
    </el-dialog>
    <el-dialog v-model="secretShown" title="新的话机密码" width="460px">
      <p>坐席 {{ secret.agent }} 的 SIP 话机：用户名 <b>{{ secret.username }}</b></p>
      <div class="secret" data-test="secret">{{ secret.secret }}</div>
      <p class="muted">密码仅显示这一次，请交给坐席本人配置话机；旧密码即刻失效。</p>
    </el-dialog>
  </div>`,
  setup() {
    const user = inject("me");
    const agents = ref([]);
    const teams = ref([]);
    const skills = ref([]);
    const loading = ref(false);
    const search = ref("");
    const teamFilter = ref("");
    const showInactive = ref(false);
    const editing = ref(false);
    const current = ref(null);
    const secretShown = ref(false);
    const secret = reactive({ agent: "", username: "", secret: "" });
    const role = user.role;
    const canEdit = role === "supervisor" || role === "admin";
    const canTeams = canEdit;
    const ownTeam = role === "supervisor" ? user.team : null;

    const shown = computed(() => agents.value.filter((a) =>
      (showInactive.value || a.active) && (!teamFilter.value || a.team === teamFilter.value)
      && (!search.value || a.id.includes(search.value) || a.name.includes(search.value))));

    async function load() {
      loading.value = true;
      try {
        agents.value = (await api("GET", "/api/directory/agents")).agents;
        skills.value = (await api("GET", "/api/directory/skills")).skills;
        if (role !== "agent") teams.value = (await api("GET", "/api/directory/teams")).teams;
      } catch (err) {
        ElMessage.error(problem(err));
      } finally {
        loading.value = false;
      }
    }
    const skillLabel = (id) => skills.value.find((s) => s.id === id)?.label || id;

    function edit(agent) {
      current.value = agent;
      editing.value = true;
    }
    async function saved(agent) {
      editing.value = false;
      ElMessage.success(`已保存坐席 ${agent.id} ${agent.name}`);
      await load();
    }
    async function setActive(agent, on) {
      try {
        if (on) {
          await api("PATCH", `/api/directory/agents/${agent.id}`, { active: true });
        } else {
          await ElMessageBox.confirm(`停用后坐席 ${agent.id} ${agent.name} 将被签出，不再接到来电。`, "停用坐席",
                                     { confirmButtonText: "停用", cancelButtonText: "取消", type: "warning" });
          await api("POST", `/api/directory/agents/${agent.id}/deactivate`);
        }
        ElMessage.success(on ? "已启用" : "已停用");
        await load();
      } catch (err) {
        if (err instanceof ApiError) ElMessage.error(problem(err));
      }
    }
    async function rotate(agent) {
      try {
        await ElMessageBox.confirm(`为坐席 ${agent.id} 生成新的话机密码？旧密码将失效。`, "重置话机密码",
                                   { confirmButtonText: "生成", cancelButtonText: "取消", type: "warning" });
        Object.assign(secret, await api("POST", `/api/directory/agents/${agent.id}/phone-secret`));
        secretShown.value = true;
      } catch (err) {
        if (err instanceof ApiError) ElMessage.error(problem(err));
      }
    }
    async function addTeam() {
      try {
        const { value } = await ElMessageBox.prompt("班组名称", "新增班组",
                                                    { confirmButtonText: "新增", cancelButtonText: "取消" });
        await api("POST", "/api/directory/teams", { name: value || "" });
        ElMessage.success(`已新增班组 ${value}`);
        await load();
      } catch (err) {
        if (err instanceof ApiError) ElMessage.error(err.status === 409 ? "该班组已存在" : problem(err));
      }
    }
    onMounted(load);
    return { agents, teams, skills, loading, search, teamFilter, showInactive, shown, editing, current, secretShown,
             secret, canEdit, canTeams, ownTeam, skillLabel, edit, saved, setActive, rotate, addTeam,
             seats: SEATS, phones: PHONES };
  },
};

startConsole(Directory, "agents");
