// 批量导入: a department's entries from one CSV or XLSX file, checked as a whole by the API — every bad row is
// listed (row, column, what is wrong) and nothing is imported until the file is right; a good file becomes drafts.
import { ref } from "vue";
import { ElMessage } from "element-plus";
import { api, ApiError } from "/common/api.js";
import { problem } from "./kb.js";

export const COLUMNS = ["标题", "问题", "答复口径", "部门", "分类", "区域", "关键词", "生效日期", "失效日期", "来源"];
const TYPES = { csv: "text/csv", xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" };

// A template to fill in: the columns and one example row (UTF-8 with BOM, so spreadsheet programs read Chinese).
function template(department) {
  const example = ["住房公积金提取办理", "公积金怎么取出来；离职了公积金能提取吗", "凭身份证和银行卡……", department || "市住房公积金中心",
                   "", "全市", "公积金，提取", "2026-01-01", "2027-12-31", "《住房公积金提取管理办法》"];
  const line = (cells) => cells.map((c) => `"${String(c).replace(/"/g, '""')}"`).join(",");
  return new Blob(["\ufeff" + [line(COLUMNS), line(example)].join("\r\n") + "\r\n"], { type: "text/csv" });
}

export const ImportDialog = {
  props: { department: String },
  emits: ["imported", "close"],
  template: `
  <el-dialog :model-value="true" @close="$emit('close')" title="批量导入知识条目" width="760px" data-test="import-dialog">
    <p class="hl-muted small">CSV（UTF-8）或 Excel（.xlsx）文件，首行为列名：{{ columns.join('、') }}。“问题”可写多个问法，用分号或换行分开。
      整个文件检查通过才会导入，导入后为草稿，须校核、发布。<a :href="templateUrl" download="知识条目导入模板.csv" data-test="import-template">下载模板</a></p>
    <div class="import-pick">
      <input type="file" accept=".csv,.xlsx" @change="picked" data-test="import-file"/>
      <el-button type="primary" :disabled="!file" :loading="busy" @click="send" data-test="import-send">检查并导入</el-button>
    </div>
    <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" class="form-error"/>
    <template v-if="rows.length">
      <el-alert type="error" :closable="false" show-icon data-test="import-refused"
                :title="'文件有 ' + rows.length + ' 处问题，未导入任何条目。请修改后重新上传。'"/>
      <el-table :data="rows" size="small" border max-height="360" data-test="import-rows" class="import-rows">
        <el-table-column prop="row" label="行" width="70"/>
        <el-table-column label="列" width="120"><template #default="{ row }">{{ row.field || '—' }}</template></el-table-column>
        <el-table-column prop="message" label="问题"/>
      </el-table>
    </template>
  </el-dialog>`,
  setup(props, { emit }) {
    const file = ref(null);
    const busy = ref(false);
    const rows = ref([]);
    const error = ref("");
    const templateUrl = URL.createObjectURL(template(props.department));

    function picked(event) {
      file.value = event.target.files[0] || null;
      rows.value = [];
      error.value = "";
    }
    async function send() {
      const chosen = file.value;
      const kind = chosen.name.toLowerCase().endsWith(".xlsx") ? "xlsx" : "csv";
      busy.value = true;
      rows.value = [];
      error.value = "";
      try {
        const done = await api("POST", "/api/knowledge/import", new Blob([chosen], { type: TYPES[kind] }));
        ElMessage.success(`已导入 ${done.imported} 条草稿`);
        emit("imported", done);
      } catch (err) {
        if (err instanceof ApiError && err.status === 422 && Array.isArray(err.extra.rows)) rows.value = err.extra.rows;
        else error.value = problem(err);
      } finally {
        busy.value = false;
      }
    }
    return { columns: COLUMNS, file, busy, rows, error, templateUrl, picked, send };
  },
};
