// Call control through the ACD's routes: 转接 (blind, to a skill / expert / sub-centre), 咨询 (hold, talk, 完成转接
// or 取消), 三方通话 and 退出三方, one key for 110 / 119 / 120 / 122, 静默来电转交, 紧急标记, 挂断.
import { computed, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { act, desk } from "./store.js";

const callPath = (what) => `/api/calls/${encodeURIComponent(desk.call.id)}/${what}`;
const dialog = reactive({ open: false, kind: "transfer", skill: "", partyKind: "agent", agent: "", number: "" });

// Opens the 转接 / 咨询 / 三方通话 dialog, optionally with a target chosen (the knowledge panel's expert buttons).
export function openControl(kind, preset = {}) {
  Object.assign(dialog, { open: true, kind, skill: "", partyKind: "agent", agent: "", number: "" }, preset);
}

// Blind transfer of the call on the desk to a skill; true when it went.
export async function transferTo(skill) {
  const id = desk.call.id;
  if (!(await act("转接", "POST", callPath("transfer"), { skill }))) return false;
  ElMessage.success("已转接，来电人优先排队");
  if (desk.call && desk.call.id === id) desk.call.state = "ended";
  return true;
}

// Consult (kind "consult") or three-way ("three_way") with a seat {agent} or a number {number}; true when it went.
export async function callIn(kind, party, label) {
  const consult = kind === "consult";
  if (!(await act(consult ? "咨询" : "三方通话", "POST", callPath(consult ? "consult" : "three-way"), party))) return false;
  ElMessage.success(consult ? "来电人已保持，正在呼叫咨询对象" : "正在呼叫第三方");
  if (consult) desk.call.consult = label;
  else desk.call.threeWay = label;
  return true;
}

export const CallControl = {
  template: `
  <el-card class="control" shadow="never" data-test="call-control">
    <template #header><div class="card-head"><span>通话控制</span>
      <el-tag v-if="call && call.consult" type="warning" effect="dark">咨询中：{{ call.consult }}</el-tag>
      <el-tag v-if="call && call.threeWay" type="warning" effect="dark">三方通话：{{ call.threeWay }}</el-tag></div></template>
    <div class="control-row">
      <el-button type="primary" :disabled="!talking || !!call.consult" @click="open('transfer')" data-test="transfer">转接</el-button>
      <el-button :disabled="!talking || !!call.consult || !!call.threeWay" @click="open('consult')" data-test="consult">咨询</el-button>
      <el-button :disabled="!talking || !!call.consult || !!call.threeWay" @click="open('three_way')" data-test="three-way">三方通话</el-button>
      <el-button v-if="desk.phone" type="danger" :disabled="!talking" @click="hangup" data-test="hangup">挂断</el-button>
    </div>
    <div v-if="call && call.consult" class="control-row">
      <el-button type="success" @click="endConsult('complete')" data-test="consult-complete">完成转接</el-button>
      <el-button @click="endConsult('cancel')" data-test="consult-cancel">取消咨询</el-button>
    </div>
    <div v-if="call && call.threeWay" class="control-row">
      <el-button type="warning" @click="leave" data-test="leave">退出三方</el-button>
    </div>
    <div class="section">一键转接（联动）</div>
    <div class="control-row linkage">
      <el-button v-for="l in linkage" :key="l.number" type="danger" plain :disabled="!talking" @click="toLinkage(l)"
                 :data-test="'linkage-' + l.number">{{ l.label }}</el-button>
    </div>
    <div class="control-row">
      <el-button :disabled="!talking" @click="silent" data-test="silent">静默来电转交</el-button>
      <el-button type="danger" plain :disabled="!call || !call.pop" @click="flagEmergency" data-test="flag-emergency">紧急标记</el-button>
    </div>

    <el-dialog v-model="dialog.open" :title="dialogTitle" width="520px" append-to-body>
      <el-form label-width="90px">
        <el-form-item v-if="dialog.kind === 'transfer'" label="转接到">
          <el-select v-model="dialog.skill" filterable placeholder="选择技能组 / 专家 / 分中心" style="width: 100%" data-test="transfer-skill">
            <el-option-group v-for="g in skillGroups" :key="g.label" :label="g.label">
              <el-option v-for="s in g.options" :key="s.id" :label="s.label + (s.department ? ' · ' + s.department : '')" :value="s.id"/>
            </el-option-group>
          </el-select>
        </el-form-item>
        <template v-else>
          <el-form-item label="对象">
            <el-radio-group v-model="dialog.partyKind">
              <el-radio-button value="agent">中心坐席</el-radio-button>
              <el-radio-button value="number">外部号码</el-radio-button>
            </el-radio-group>
          </el-form-item>
          <el-form-item v-if="dialog.partyKind === 'agent'" label="坐席">
            <el-select v-model="dialog.agent" filterable placeholder="专家坐席 / 分中心坐席" style="width: 100%" data-test="party-agent">
              <el-option v-for="s in seats" :key="s.agent" :label="s.name + ' ' + s.agent + ' · ' + s.seat_label" :value="s.agent"/>
            </el-select>
          </el-form-item>
          <el-form-item v-else label="号码">
            <el-select v-model="dialog.number" filterable allow-create placeholder="承办单位值班电话或输入号码" style="width: 100%" data-test="party-number">
              <el-option v-for="u in units" :key="u.number" :label="u.name + ' ' + u.number" :value="u.number"/>
            </el-select>
          </el-form-item>
        </template>
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">取消</el-button>
        <el-button type="primary" @click="confirm" data-test="dialog-confirm">确定</el-button>
      </template>
    </el-dialog>
  </el-card>`,
  setup() {
    const call = computed(() => desk.call);
    const talking = computed(() => !!desk.call && desk.call.state === "talking");
    const targets = computed(() => desk.reference.targets || { skills: [], seats: [], units: [], linkage: [] });
    const linkage = computed(() => targets.value.linkage);
    const seats = computed(() => targets.value.seats);
    const units = computed(() => targets.value.units);
    const skillGroups = computed(() => ["general", "expert", "sub_centre"].map((seat) => {
      const options = targets.value.skills.filter((s) => s.seat === seat);
      return { label: options.length ? options[0].seat_label : seat, options };
    }).filter((g) => g.options.length));
    const titles = { transfer: "转接（盲转）", consult: "咨询后转接", three_way: "三方通话" };
    const dialogTitle = computed(() => titles[dialog.kind]);
    const path = callPath;
    const open = (kind) => openControl(kind);
    async function confirm() {
      if (dialog.kind === "transfer") {
        if (!dialog.skill) return ElMessage.warning("请选择转接目标");
        await transferTo(dialog.skill);
      } else {
        const party = dialog.partyKind === "agent" ? { agent: dialog.agent } : { number: String(dialog.number).trim() };
        if (!party.agent && !party.number) return ElMessage.warning("请选择或输入对象");
        const seat = seats.value.find((s) => s.agent === party.agent);
        await callIn(dialog.kind, party, seat ? `${seat.name} ${seat.agent}` : party.number);
      }
      dialog.open = false;
    }
    async function endConsult(how) {
      const done = await act(how === "complete" ? "完成转接" : "取消咨询", "POST", path(`consult/${how}`));
      if (!done) return;
      if (how === "complete") {
        ElMessage.success(`已转给 ${done.transferred_to}`);
        desk.call.state = "ended";
      } else {
        ElMessage.success("已回到来电人");
      }
      desk.call.consult = null;
    }
    async function leave() {
      if (await act("退出三方", "POST", path("leave"))) {
        ElMessage.success("已退出，来电人与第三方继续通话");
        desk.call.threeWay = null;
        desk.call.state = "ended";
      }
    }
    async function toLinkage(l) {
      try {
        await ElMessageBox.confirm(`确定将来电一键转接至 ${l.label}？`, "联动转接", { type: "warning",
          confirmButtonText: "转接", cancelButtonText: "取消" });
      } catch { return; }
      if (await act("联动转接", "POST", path("transfer"), { linkage: l.number })) {
        ElMessage.success(`已转接 ${l.label}`);
        desk.call.state = "ended";
      }
    }
    async function silent() {
      if (await act("静默来电转交", "POST", path("silent"))) {
        ElMessage.success("已转交静默来电处理");
        desk.call.state = "ended";
      }
    }
    async function flagEmergency() {
      let note;
      try {
        ({ value: note } = await ElMessageBox.prompt("紧急情况说明（该来电人之后的来电将优先接入）", "紧急标记",
          { confirmButtonText: "标记", cancelButtonText: "取消", inputPlaceholder: "例如：燃气泄漏", inputValidator:
            (v) => (v || "").length <= 200 || "最多 200 字" }));
      } catch { return; }
      const done = await act("紧急标记", "POST", path("flag-emergency"), { note: note || "" });
      if (done) {
        const until = new Date(done.flagged_until).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
        ElMessage.success(`已标记，有效至 ${until}：该来电人再次来电将优先接入`);
      }
    }
    async function hangup() {
      try { await desk.phone.hangup(); } catch (err) { ElMessage.error(`挂断失败：${err.message || err}`); }
    }
    return { desk, call, talking, linkage, seats, units, skillGroups, dialog, dialogTitle, open, confirm, endConsult,
             leave, toLinkage, silent, flagEmergency, hangup };
  },
};
