// 热点播报: supervisors publish a short announcement (typed, or recorded from the microphone) that callers of the
// chosen lines hear right after the greeting for the hours set; it takes effect on the next call. The list shows
// what plays now and the whole log (who published what, when, for which lines); 结束播报 stops one at once.
import { computed, inject, onBeforeUnmount, onMounted, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api } from "/common/api.js";
import { startConsole } from "/common/console.js";

const MAX_CHARS = 300;
const MAX_RECORD_S = 60;
const LONG_S = 20;  // longer than this, callers wait noticeably before the queue: the page says so
const STATES = { scheduled: ["待播", "info"], playing: ["播报中", "success"], ended: ["已结束", "danger"] };
const FIELDS = { title: "标题", text: "播报内容", lines: "线路", starts_at: "生效时段", ends_at: "生效时段",
                 recording: "录音", entry_id: "知识条目" };
const pad = (n) => String(n).padStart(2, "0");

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function endOfToday() {
  const d = new Date();
  d.setHours(23, 59, 59, 0);
  return d;
}

function daysFromNow(days) {
  return [new Date(), new Date(Date.now() + days * 86400000)];
}

// Today until midnight; within the last hour of the day, the next 24 hours.
function defaultWindow() {
  const end = endOfToday();
  return end - Date.now() > 3600000 ? [new Date(), end] : daysFromNow(1);
}

function problem(err) {
  if (err.fields && err.fields.length) {
    return err.fields.map((f) => `${FIELDS[f.field.replace(/^body\./, "")] || f.field}：${f.message}`).join("；");
  }
  return err.text || err.message;
}

// The microphone: MediaRecorder (WebM/Opus in Chromium), at most a minute, played back before it is used.
function useRecorder() {
  const rec = reactive({ state: "idle", seconds: 0, blob: null, url: "", error: "" });
  let recorder = null;
  let stream = null;
  let timer = null;
  let started = 0;

  function clear() {
    if (rec.url) URL.revokeObjectURL(rec.url);
    Object.assign(rec, { state: "idle", seconds: 0, blob: null, url: "", error: "" });
  }

  async function start() {
    clear();
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      rec.error = "无法使用麦克风：" + (err.message || err.name);
      return;
    }
    const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm"]
      .find((t) => window.MediaRecorder && MediaRecorder.isTypeSupported(t)) || "";
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    const chunks = [];
    recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
    recorder.onstop = () => {
      stream.getTracks().forEach((t) => t.stop());
      clearInterval(timer);
      rec.blob = new Blob(chunks, { type: recorder.mimeType || type || "audio/webm" });
      rec.url = URL.createObjectURL(rec.blob);
      rec.state = "recorded";
    };
    started = Date.now();
    recorder.start(250);
    rec.state = "recording";
    timer = setInterval(() => {
      rec.seconds = Math.round((Date.now() - started) / 100) / 10;
      if (rec.seconds >= MAX_RECORD_S) stop();
    }, 200);
  }

  function stop() {
    if (recorder && recorder.state === "recording") recorder.stop();
  }

  return { rec, start, stop, clear };
}

const Page = {
  template: `
  <el-result v-if="refused" icon="warning" title="无权使用热点播报" data-test="refused"
             sub-title="热点播报由班长和管理员发布；如需使用，请联系管理员。"/>
  <div v-else class="ann-grid" :class="{ 'ann-read-only': !publisher }">
    <el-card v-if="publisher" shadow="never" data-test="publish-form">
      <template #header><div class="ann-card-title"><span>发布热点播报</span>
        <span class="ann-hint">来电在问候语之后、排队之前听到，按任意键可跳过</span></div></template>
      <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" style="margin-bottom: 12px"
                data-test="form-error"/>
      <el-form label-width="84px" @submit.prevent>
        <el-form-item label="标题">
          <el-input v-model="form.title" maxlength="40" placeholder="如：东城区停水（不填则取播报内容开头）"
                    data-test="title"/>
        </el-form-item>
        <el-form-item label="播报内容" required>
          <el-input v-model="form.text" type="textarea" :rows="4" :maxlength="MAX_CHARS" show-word-limit
                    placeholder="来电者听到的内容；没有录音时自动合成语音" data-test="text"/>
        </el-form-item>
        <el-form-item label="线路">
          <div style="width: 100%">
            <div class="ann-lines" data-test="lines">
              <el-checkbox-group v-model="form.lines">
                <el-checkbox v-for="l in lines" :key="l.number" :value="l.number" :data-test="'line-' + l.number">
                  {{ l.number }}<span class="ann-line-name">{{ l.name }}</span>
                </el-checkbox>
              </el-checkbox-group>
            </div>
            <div class="ann-hint">不选则全部线路播放。已选：{{ form.lines.length ? form.lines.join("、") : "全部线路" }}</div>
          </div>
        </el-form-item>
        <el-form-item label="知识条目">
          <el-input-number v-model="form.entry_id" :min="1" :controls="false" placeholder="条目编号（可不填）"
                           data-test="entry-id" style="width: 180px"/>
          <div class="ann-hint">填写已发布的知识库条目编号：本线路等待中的来电人按3时先听到这一条（条目须标记“电话播报”）。</div>
        </el-form-item>
        <el-form-item label="生效时段" required>
          <div class="ann-block" data-test="window">
            <el-date-picker v-model="form.window" type="datetimerange" :shortcuts="shortcuts" range-separator="至"
                            start-placeholder="开始时间" end-placeholder="结束时间" format="YYYY-MM-DD HH:mm"
                            style="width: 100%"/>
            <div class="ann-hint">最长 30 天；到时自动停止，也可随时结束播报。</div>
          </div>
        </el-form-item>
        <el-form-item label="录音">
          <div class="ann-block">
          <div class="ann-recorder" data-test="recorder">
            <el-button v-if="rec.state !== 'recording'" @click="recorder.start" data-test="record">
              {{ rec.state === "recorded" ? "重新录音" : "开始录音" }}</el-button>
            <template v-else>
              <span class="ann-rec-dot"></span><span data-test="rec-seconds">录音中 {{ rec.seconds.toFixed(1) }} 秒</span>
              <el-button type="danger" @click="recorder.stop" data-test="stop">停止</el-button>
            </template>
            <template v-if="rec.state === 'recorded'">
              <audio :src="rec.url" controls data-test="rec-playback"></audio>
              <el-button link type="danger" @click="recorder.clear" data-test="drop-recording">删除录音</el-button>
            </template>
          </div>
          <div class="ann-hint" v-if="rec.error" style="color: #f56c6c">{{ rec.error }}</div>
          <div class="ann-hint" v-else>{{ rec.state === "recorded"
            ? "发布时以此录音代替合成语音（播报内容作为文字记录）" : "可选：用麦克风录一段（不超过 60 秒）代替合成语音" }}</div>
          </div>
        </el-form-item>
        <el-form-item>
          <div class="ann-actions">
            <el-button @click="listenDraft" :loading="previewing" :disabled="!form.text.trim() && !rec.blob"
                       data-test="preview">试听</el-button>
            <el-button type="primary" @click="publish" :loading="busy" data-test="publish">发布</el-button>
          </div>
        </el-form-item>
      </el-form>
    </el-card>

    <el-card shadow="never">
      <el-tabs v-model="tab">
        <el-tab-pane :label="'当前播报（' + current.length + '）'" name="current">
          <el-alert v-if="longNow" type="warning" :closable="false" show-icon style="margin-bottom: 8px"
                    :title="'12345 来电在排队前要先听约 ' + longNow + ' 秒播报：内容宜简短'" data-test="long-warning"/>
          <el-table :data="current" data-test="current" empty-text="当前没有播报" size="small">
            <el-table-column label="状态" width="80"><template #default="{ row }">
              <el-tag :type="STATES[row.state][1]" size="small" :data-test="'state-' + row.id">{{ STATES[row.state][0] }}</el-tag>
            </template></el-table-column>
            <el-table-column label="标题 / 内容" min-width="200"><template #default="{ row }">
              <div :data-test="'row-' + row.id"><b>{{ row.title }}</b>
                <el-tag size="small" effect="plain" style="margin-left: 6px">{{ row.audio === "recorded" ? "录音" : "合成" }}
                  {{ row.seconds.toFixed(1) }} 秒</el-tag></div>
              <div class="ann-text">{{ row.text }}</div>
              <div v-if="row.entry_id" class="ann-hint" :data-test="'entry-' + row.id">
                关联知识条目 <a :href="'/knowledge/?entry=' + row.entry_id" target="_blank">#{{ row.entry_id }}</a></div>
            </template></el-table-column>
            <el-table-column label="线路" min-width="110"><template #default="{ row }">{{ lineText(row) }}</template></el-table-column>
            <el-table-column label="时段" min-width="150"><template #default="{ row }">
              {{ when(row.starts_at) }}<br>至 {{ when(row.ends_at) }}</template></el-table-column>
            <el-table-column label="发布人" prop="created_by" width="100"/>
            <el-table-column label="操作" width="150"><template #default="{ row }">
              <el-button link type="primary" @click="listen(row)" :data-test="'listen-' + row.id">试听</el-button>
              <el-button v-if="publisher" link type="danger" @click="end(row)" :data-test="'end-' + row.id">结束播报</el-button>
            </template></el-table-column>
          </el-table>
        </el-tab-pane>
        <el-tab-pane label="历史记录" name="history">
          <el-table :data="all" data-test="history" empty-text="还没有发布过播报" size="small">
            <el-table-column label="编号" prop="id" width="60"/>
            <el-table-column label="状态" width="80"><template #default="{ row }">
              <el-tag :type="STATES[row.state][1]" size="small">{{ STATES[row.state][0] }}</el-tag></template></el-table-column>
            <el-table-column label="标题" prop="title" min-width="120"/>
            <el-table-column label="线路" min-width="100"><template #default="{ row }">{{ lineText(row) }}</template></el-table-column>
            <el-table-column label="时段" min-width="150"><template #default="{ row }">
              {{ when(row.starts_at) }}<br>至 {{ when(row.ends_at) }}</template></el-table-column>
            <el-table-column label="发布人" prop="created_by" width="90"/>
            <el-table-column label="结束" min-width="120"><template #default="{ row }">
              <span v-if="row.ended_by">{{ row.ended_by }}<br>{{ when(row.ended_at) }}</span>
              <span v-else-if="row.state === 'ended'">到期</span></template></el-table-column>
            <el-table-column label="" width="60"><template #default="{ row }">
              <el-button link type="primary" @click="listen(row)">试听</el-button></template></el-table-column>
          </el-table>
        </el-tab-pane>
      </el-tabs>
    </el-card>
    <audio ref="player" data-test="player" style="display: none"></audio>
  </div>`,
  setup() {
    const me = inject("me");
    const publisher = ["supervisor", "admin"].includes(me.role);  // auditors read the log; the API decides again
    const refused = ref(!publisher && me.role !== "auditor");
    const lines = ref([]);
    const all = ref([]);
    const tab = ref("current");
    const error = ref("");
    const busy = ref(false);
    const previewing = ref(false);
    const player = ref(null);
    const form = reactive({ title: "", text: "", lines: [], window: defaultWindow(), entry_id: null });
    const recorder = useRecorder();
    const names = computed(() => Object.fromEntries(lines.value.map((l) => [l.number, l.name])));
    const current = computed(() => all.value.filter((a) => a.state !== "ended"));
    const longNow = computed(() => {
      const total = current.value.filter((a) => a.state === "playing" && (!a.lines.length || a.lines.includes("12345")))
        .slice(0, 3).reduce((s, a) => s + a.seconds, 0);
      return total > LONG_S ? Math.round(total) : 0;
    });
    const shortcuts = [
      { text: "今天", value: () => [new Date(), endOfToday()] },
      { text: "3天", value: () => daysFromNow(3) },
      { text: "7天", value: () => daysFromNow(7) },
    ];
    let refresher = null;

    async function load() {
      if (refused.value) return;
      try {
        const data = await api("GET", "/api/announcements");
        all.value = data.announcements;
        lines.value = data.lines;
      } catch (err) {
        if (err.status === 403) refused.value = true;
        else ElMessage.error("读取播报失败：" + problem(err));
      }
    }

    function lineText(row) {
      return row.lines.length ? row.lines.map((n) => `${n} ${names.value[n] || ""}`.trim()).join("、") : "全部线路";
    }

    function play(url) {
      player.value.src = url;
      player.value.play().catch(() => {});
    }

    async function listenDraft() {
      if (recorder.rec.blob) return play(recorder.rec.url);
      previewing.value = true;
      try {
        const wav = await api("POST", "/api/announcements/preview", { text: form.text }, { blob: true });
        play(URL.createObjectURL(wav));
      } catch (err) {
        error.value = problem(err);
      } finally {
        previewing.value = false;
      }
    }

    function listen(row) {
      play(`/api/announcements/${row.id}/audio?t=${row.seconds}-${row.changes.length}`);
    }

    async function publish() {
      error.value = "";
      if (!form.text.trim()) return (error.value = "播报内容：请填写来电者听到的内容");
      if (!form.window || form.window.length !== 2) return (error.value = "生效时段：请选择开始和结束时间");
      if (recorder.rec.state === "recording") return (error.value = "录音：请先停止录音");
      busy.value = true;
      try {
        let made = await api("POST", "/api/announcements", {
          title: form.title.trim(), text: form.text.trim(), lines: form.lines,
          starts_at: new Date(form.window[0]).toISOString(), ends_at: new Date(form.window[1]).toISOString(),
          entry_id: form.entry_id || null,
        });
        if (recorder.rec.blob) made = await api("PUT", `/api/announcements/${made.id}/recording`, recorder.rec.blob);
        ElMessage.success(`已发布「${made.title}」，下一通来电起${made.state === "playing" ? "播放" : "按时段播放"}`);
        Object.assign(form, { title: "", text: "", lines: [], window: defaultWindow(), entry_id: null });
        recorder.clear();
        tab.value = "current";
        await load();
      } catch (err) {
        error.value = problem(err);
        await load();  // published without its recording: the list shows it (re-record by publishing again)
      } finally {
        busy.value = false;
      }
    }

    async function end(row) {
      try {
        await ElMessageBox.confirm(`结束播报「${row.title}」？下一通来电起不再播放。`, "结束播报",
          { confirmButtonText: "结束播报", cancelButtonText: "取消", type: "warning" });
      } catch {
        return;
      }
      try {
        await api("POST", `/api/announcements/${row.id}/end`);
        ElMessage.success(`已结束「${row.title}」`);
      } catch (err) {
        ElMessage.error(problem(err));
      }
      await load();
    }

    onMounted(() => {
      load();
      refresher = setInterval(load, 15000);
    });
    onBeforeUnmount(() => {
      clearInterval(refresher);
      recorder.stop();
    });
    return { me, publisher, refused, lines, all, current, tab, form, error, busy, previewing, player, shortcuts, longNow,
             rec: recorder.rec, recorder, listenDraft, listen, publish, end, lineText, when, STATES, MAX_CHARS };
  },
};

startConsole(Page, "announcements");
