// 服务用语: the standards' phrases beside the call (the greeting of the day first, the closing that invites the
// rating), and the words never to say.
import { computed, ref } from "vue";
import { desk } from "./store.js";

export const PhrasePanel = {
  template: `
  <el-card class="phrases" shadow="never" data-test="phrases">
    <template #header><div class="card-head"><span>服务用语</span><span class="hl-muted small">依据 000 附录D · 002 附录A · 003 附录B</span></div></template>
    <el-skeleton v-if="!data" :rows="6"/>
    <template v-else>
      <el-collapse v-model="open">
        <el-collapse-item v-for="g in data.groups" :key="g.name" :title="g.name" :name="g.name">
          <div v-for="p in g.phrases" :key="p.title" class="phrase" :class="{ key: p.greeting || p.closing }">
            <div class="phrase-title">{{ p.title }} <span class="hl-muted small">{{ p.source }}</span></div>
            <div class="phrase-text" :data-test="p.greeting ? 'phrase-greeting' : p.closing ? 'phrase-closing' : null">{{ p.text }}</div>
          </div>
        </el-collapse-item>
      </el-collapse>
      <div class="forbidden"><span>服务禁语：</span><el-tag v-for="w in data.forbidden" :key="w" type="danger" size="small" effect="plain">{{ w }}</el-tag></div>
    </template>
  </el-card>`,
  setup() {
    const data = computed(() => desk.reference.phrases);
    const open = ref(["开头", "结束"]);
    return { data, open };
  },
};
