// 知识库管理: the knowledge base's console page. Departments' editors draft and import their department's entries;
// the hotline's knowledge staff (supervisors) check (not their own) and publish them, and work through the gaps
// agents reported (查无记录); auditors read; everyone here sees the figures (统计). A page of the management console
// (/common/console.js: sign-in, the top bar); the API decides who reaches what.
import { computed, inject, onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { api } from "/common/api.js";
import { startConsole } from "/common/console.js";
import { EDITORS, EntryDrawer, labelOf } from "./entry.js";
import { Figures } from "./figures.js";
import { GapList } from "./gaps.js";
import { ImportDialog } from "./import.js";
import { day, daysUntil, moment, problem, STATES } from "./kb.js";

const PAGE = 50;

const KnowledgePage = {
  components: { EntryDrawer, ImportDialog, GapList, Figures },
  template: `
  <div class="kb-page">
    <el-tabs v-model="tab" class="kb-tabs">
      <el-tab-pane label="知识条目" name="entries">
        <div class="toolbar">
          <el-select v-model="filters.state" placeholder="全部状态" clearable style="width: 130px" @change="reload" data-test="filter-state">
            <el-option v-for="(s, key) in states" :key="key" :label="s.label" :value="key"/>
          </el-select>
          <el-select v-model="filters.department" placeholder="全部部门" clearable filterable style="width: 220px"
                     :disabled="me.role === 'editor'" @change="reload" data-test="filter-department">
            <el-option v-for="d in departments" :key="d" :label="d" :value="d"/>
          </el-select>
          <el-input v-model="filters.q" placeholder="标题、问法或关键词" clearable style="width: 220px" @change="reload" data-test="filter-q"/>
          <el-checkbox v-model="filters.expiring" @change="reload" data-test="filter-expiring">即将到期（14 天内复核或失效）</el-checkbox>
          <span class="grow"></span>
          <template v-if="canEdit">
            <el-button @click="importing = true" data-test="import">批量导入</el-button>
            <el-button type="primary" @click="openNew()" data-test="new-entry">新建条目</el-button>
          </template>
        </div>
        <el-table :data="entries" stripe border v-loading="loading" empty-text="暂无知识条目" data-test="entries"
                  @row-click="(row) => open(row.id)" row-class-name="clickable">
          <el-table-column prop="id" label="编号" width="80"/>
          <el-table-column label="标题" min-width="220"><template #default="{ row }">
            <span class="entry-title">{{ row.title }}</span>
            <div class="hl-muted small">{{ (row.questions || [])[0] }}</div></template></el-table-column>
          <el-table-column prop="department" label="部门" width="170"/>
          <el-table-column label="分类" width="170"><template #default="{ row }">{{ categoryOf(row) }}</template></el-table-column>
          <el-table-column label="状态" width="90"><template #default="{ row }">
            <el-tag :type="(states[row.state] || {}).type" :data-test="'state-' + row.id">{{ (states[row.state] || {}).label || row.state }}</el-tag></template></el-table-column>
          <el-table-column label="失效日期" width="110"><template #default="{ row }">
            <span :class="{ bad: soon(row.valid_until) }">{{ row.valid_until ? day(row.valid_until) : '长期' }}</span></template></el-table-column>
          <el-table-column label="复核日期" width="110"><template #default="{ row }">
            <span :class="{ bad: soon(row.review_by) }">{{ day(row.review_by) }}</span></template></el-table-column>
          <el-table-column label="编写 / 校核" width="150"><template #default="{ row }">{{ row.author || '—' }} / {{ row.checked_by || '—' }}</template></el-table-column>
          <el-table-column label="发布时间" width="150"><template #default="{ row }">{{ moment(row.published_at) }}</template></el-table-column>
        </el-table>
        <div class="list-foot">
          <span class="hl-muted small">已显示 {{ entries.length }} 条{{ next ? '' : '，已全部显示' }}</span>
          <el-button v-if="next" size="small" @click="more" data-test="more">加载更多</el-button>
        </div>
      </el-tab-pane>
      <el-tab-pane label="查无记录" name="gaps" lazy><gap-list @draft="fromGap"/></el-tab-pane>
      <el-tab-pane label="统计" name="figures" lazy><figures/></el-tab-pane>
    </el-tabs>
    <entry-drawer v-if="drawer.open" :key="drawer.key" :entry-id="drawer.id" :fresh="drawer.fresh" :categories="categories"
                  :departments="departments" @changed="changed" @close="drawer.open = false"/>
    <import-dialog v-if="importing" :department="me.role === 'editor' ? me.team : ''" @imported="imported" @close="importing = false"/>
  </div>`,
  setup() {
    const me = inject("me");
    const tab = ref("entries");
    const entries = ref([]);
    const next = ref(null);
    const loading = ref(false);
    const importing = ref(false);
    const categories = ref([]);
    const known = ref([]);  // departments from the figures and the dialplan's lines
    const filters = reactive({ state: "", department: me.role === "editor" ? me.team : "", q: "", expiring: false });
    const drawer = reactive({ open: false, id: null, fresh: null, key: 0 });
    const canEdit = EDITORS.includes(me.role);
    const departments = computed(() => [...new Set([...(me.role === "editor" && me.team ? [me.team] : []),
                                                    ...known.value, ...entries.value.map((e) => e.department)])].filter(Boolean));

    function query(before) {
      const params = new URLSearchParams({ limit: String(PAGE) });
      for (const key of ["state", "department", "q"]) if (filters[key]) params.set(key, filters[key]);
      if (filters.expiring) params.set("expiring", "1");
      if (before) params.set("before", before);
      return `/api/knowledge/entries?${params}`;
    }
    async function fetchPage(before) {
      loading.value = true;
      try {
        const page = await api("GET", query(before));
        entries.value = before ? [...entries.value, ...page.entries] : page.entries;
        next.value = page.next || null;
      } catch (err) {
        ElMessage.error(problem(err));
      } finally {
        loading.value = false;
      }
    }
    const reload = () => fetchPage(null);
    const more = () => fetchPage(next.value);

    // The category tree and the departments for the pickers.
    async function reference() {
      const [tree, figures] = await Promise.allSettled([api("GET", "/api/knowledge/categories"),
                                                         api("GET", "/api/knowledge/figures")]);
      if (tree.status === "fulfilled") categories.value = tree.value.categories;
      if (figures.status === "fulfilled") known.value = figures.value.by_department.map((d) => d.department);
    }
    const categoryOf = (row) => row.category_label || labelOf(categories.value, row.category) || row.category || "—";
    const soon = (date) => { const d = daysUntil(date); return d !== null && d <= 14; };

    function open(id) {
      Object.assign(drawer, { open: true, id, fresh: null, key: drawer.key + 1 });
    }
    function openNew(fresh = null) {
      Object.assign(drawer, { open: true, id: null, fresh, key: drawer.key + 1 });
    }
    function fromGap(gap) {
      tab.value = "entries";
      openNew({ questions: [gap.question], department: me.role === "editor" ? me.team : gap.department || "" });
    }
    async function changed(entry) {
      if (!drawer.id && entry && entry.id) open(entry.id);  // a new draft: shown as it was saved
      await reload();
    }
    async function imported() {
      importing.value = false;
      filters.state = "draft";
      await reload();
    }
    onMounted(() => {
      reload();
      reference();
      const linked = Number(new URLSearchParams(location.search).get("entry"));  // /knowledge/?entry=N (announcements)
      if (linked > 0) open(linked);
    });
    return { me, tab, entries, next, loading, importing, categories, departments, filters, drawer, canEdit,
             states: STATES, day, moment, reload, more, categoryOf, soon, open, openNew, fromGap, changed, imported };
  },
};

startConsole(KnowledgePage, "knowledge");
