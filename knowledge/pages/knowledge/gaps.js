// 查无记录: what agents asked in calls and the knowledge base could not answer (知识库查无), for the knowledge staff
// to fill — write an entry from the question, then close the gap with it (or with a note).
import { inject, onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { api } from "/common/api.js";
import { CHECKERS, EDITORS } from "./entry.js";
import { moment, problem } from "./kb.js";

export const GapList = {
  emits: ["draft"],
  template: `
  <div data-test="gaps">
    <div class="toolbar">
      <el-radio-group v-model="state" @change="load" data-test="gap-state">
        <el-radio-button value="open">待处理</el-radio-button>
        <el-radio-button value="closed">已处理</el-radio-button>
      </el-radio-group>
      <span class="grow"></span>
      <el-button @click="load">刷新</el-button>
    </div>
    <el-table :data="gaps" stripe border v-loading="loading" empty-text="暂无查无记录" data-test="gap-table">
      <el-table-column label="登记时间" width="150"><template #default="{ row }">{{ moment(row.created_at || row.at) }}</template></el-table-column>
      <el-table-column prop="question" label="市民问题" min-width="240"/>
      <el-table-column label="坐席" width="110"><template #default="{ row }">{{ row.agent_name || row.agent || row.by || '—' }}</template></el-table-column>
      <el-table-column label="来电线路" width="150"><template #default="{ row }">{{ row.department || row.line || '—' }}</template></el-table-column>
      <el-table-column label="通话编号" width="150"><template #default="{ row }"><span class="hl-mono small">{{ row.call_id }}</span></template></el-table-column>
      <el-table-column v-if="state === 'closed'" label="处理" min-width="160">
        <template #default="{ row }">{{ row.entry_id ? '已补充条目 ' + row.entry_id : (row.note || '已处理') }}</template></el-table-column>
      <el-table-column v-if="state === 'open' && (canDraft || canClose)" label="操作" width="200">
        <template #default="{ row }">
          <el-button v-if="canDraft" link type="primary" @click="$emit('draft', row)" :data-test="'gap-draft-' + row.id">据此新建条目</el-button>
          <el-button v-if="canClose" link type="success" @click="closing(row)" :data-test="'gap-close-' + row.id">关闭</el-button>
        </template>
      </el-table-column>
    </el-table>
    <el-dialog v-model="close.open" title="关闭查无记录" width="480px" append-to-body>
      <el-form label-width="96px">
        <el-form-item label="市民问题">{{ close.gap && close.gap.question }}</el-form-item>
        <el-form-item label="补充的条目"><el-input v-model="close.entry" placeholder="条目编号（可不填）" data-test="gap-entry"/></el-form-item>
        <el-form-item label="说明"><el-input v-model="close.note" placeholder="如：已补充；或：不属于知识库范围" data-test="gap-note"/></el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="close.open = false">取消</el-button>
        <el-button type="primary" @click="confirm" data-test="gap-confirm">关闭记录</el-button>
      </template>
    </el-dialog>
  </div>`,
  setup() {
    const me = inject("me");
    const state = ref("open");
    const gaps = ref([]);
    const loading = ref(false);
    const close = reactive({ open: false, gap: null, entry: "", note: "" });

    async function load() {
      loading.value = true;
      try {
        gaps.value = (await api("GET", `/api/knowledge/gaps?state=${state.value}`)).gaps;
      } catch (err) {
        ElMessage.error(problem(err));
      } finally {
        loading.value = false;
      }
    }
    function closing(gap) {
      Object.assign(close, { open: true, gap, entry: "", note: "" });
    }
    async function confirm() {
      const entry = close.entry.trim();
      const body = entry ? { entry_id: Number(entry) || entry } : {};
      if (close.note.trim()) body.note = close.note.trim();
      if (!entry && !body.note) return ElMessage.warning("请填写补充的条目编号或说明");
      try {
        await api("POST", `/api/knowledge/gaps/${close.gap.id}/close`, body);
        close.open = false;
        ElMessage.success("已关闭");
        await load();
      } catch (err) {
        ElMessage.error(problem(err));
      }
    }
    onMounted(load);
    return { state, gaps, loading, close, canDraft: EDITORS.includes(me.role), canClose: CHECKERS.includes(me.role),
             moment, load, closing, confirm };
  },
};
