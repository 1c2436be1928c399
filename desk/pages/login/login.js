// 统一身份登录: user name and password; a locked account says for how long; a forced password change before
// the desk. Agents go to /desk/, engineers to /engineer/, the others to the console's /wallboard/ (or the page
// that sent them here).
import { createApp, reactive, ref } from "vue";
import ElementPlus, { ElMessage } from "element-plus";
import zhCn from "element-plus/zh-cn";
import { api, ApiError, keepCsrf, session } from "/common/api.js";
import { homeOf } from "/common/console.js";

const MIN_PASSWORD = 10;

function nextPage(user) {
  const asked = new URLSearchParams(location.search).get("next") || "";
  if (asked.startsWith("/") && !asked.startsWith("//") && !asked.startsWith("/login")) return asked;
  return homeOf(user && user.role);
}

export function lockedText(err) {
  const seconds = err.extra.retry_after_s || err.extra.retryAfter || (err.extra.locked_until
    ? (Date.parse(err.extra.locked_until) - Date.now()) / 1000 : 0);
  const minutes = Math.max(1, Math.ceil((seconds || 60) / 60));
  return `账户已锁定，请 ${minutes} 分钟后再试`;
}

const Login = {
  template: `
  <div class="login-page">
    <header class="login-top"><div class="hl-brand"><span class="hl-emblem">12345</span>12345政务服务便民热线</div></header>
    <main class="login-main">
      <el-card class="login-card" shadow="always">
        <template v-if="!changing">
          <h2>统一身份登录</h2>
          <div class="sub hl-muted">坐席、班长与管理人员请使用本人账号登录</div>
          <el-alert v-if="error" class="login-error" :title="error" type="error" show-icon :closable="false" data-test="login-error"/>
          <el-form ref="form" :model="login" :rules="rules" label-position="top" @submit.prevent="signIn">
            <el-form-item label="用户名" prop="username">
              <el-input v-model="login.username" name="username" autocomplete="username" placeholder="请输入用户名" size="large"/>
            </el-form-item>
            <el-form-item label="密码" prop="password">
              <el-input v-model="login.password" name="password" type="password" show-password autocomplete="current-password"
                        placeholder="请输入密码" size="large" @keyup.enter="signIn"/>
            </el-form-item>
            <el-button type="primary" size="large" native-type="submit" :loading="busy" data-test="sign-in">登录</el-button>
          </el-form>
        </template>
        <template v-else>
          <h2>修改密码</h2>
          <div class="sub hl-muted">首次登录或密码已重置，请先设置新密码</div>
          <el-alert v-if="error" class="login-error" :title="error" type="error" show-icon :closable="false"/>
          <el-form ref="change" :model="pw" :rules="pwRules" label-position="top" @submit.prevent="changePassword">
            <el-form-item label="原密码" prop="old"><el-input v-model="pw.old" type="password" show-password name="old"/></el-form-item>
            <el-form-item label="新密码" prop="new"><el-input v-model="pw.new" type="password" show-password name="new"
                          :placeholder="'至少 ' + minPassword + ' 位'"/></el-form-item>
            <el-form-item label="确认新密码" prop="again"><el-input v-model="pw.again" type="password" show-password name="again"/></el-form-item>
            <el-button type="primary" size="large" native-type="submit" :loading="busy" data-test="change-password">确认修改</el-button>
          </el-form>
        </template>
      </el-card>
    </main>
    <footer class="login-foot">通话与操作全程记录 · 请勿将账号借给他人使用</footer>
  </div>`,
  setup() {
    const login = reactive({ username: "", password: "" });
    const pw = reactive({ old: "", new: "", again: "" });
    const error = ref("");
    const busy = ref(false);
    const changing = ref(false);
    const form = ref(null);
    const change = ref(null);
    let user = null;
    const rules = {
      username: [{ required: true, message: "请输入用户名", trigger: "blur" }],
      password: [{ required: true, message: "请输入密码", trigger: "blur" }],
    };
    const pwRules = {
      old: [{ required: true, message: "请输入原密码", trigger: "blur" }],
      new: [{ required: true, min: MIN_PASSWORD, message: `新密码至少 ${MIN_PASSWORD} 位`, trigger: "blur" }],
      again: [{ validator: (_, value, done) => done(value === pw.new ? undefined : new Error("两次输入的新密码不一致")),
                trigger: "blur" }],
    };

    async function signIn() {
      error.value = "";
      if (!(await form.value.validate().catch(() => false))) return;
      busy.value = true;
      try {
        const signed = await api("POST", "/api/session", { username: login.username.trim(), password: login.password },
                                 { signIn: false });
        keepCsrf(signed.csrf_token);
        user = signed.user;
        if (signed.must_change_password) {
          pw.old = login.password;
          changing.value = true;
          return;
        }
        location.assign(nextPage(user));
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        error.value = err.id === "account_locked" ? lockedText(err)
          : err.id === "login_failed" ? "用户名或密码错误" : err.text;
        login.password = "";
      } finally {
        busy.value = false;
      }
    }

    async function changePassword() {
      error.value = "";
      if (!(await change.value.validate().catch(() => false))) return;
      busy.value = true;
      try {
        const done = await api("POST", "/api/session/password", { old: pw.old, new: pw.new }, { signIn: false });
        if (done && done.csrf_token) keepCsrf(done.csrf_token);
        ElMessage.success("密码已修改");
        location.assign(nextPage(user));
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        error.value = err.text;
      } finally {
        busy.value = false;
      }
    }

    session().then((me) => {  // already signed in (another tab): straight on, or to the password change
      if (!me) return;
      if (!me.must_change_password) location.assign(nextPage(me.user));
      user = me.user;
      changing.value = true;
    }).catch(() => {});
    return { login, pw, error, busy, changing, form, change, rules, pwRules, signIn, changePassword,
             minPassword: MIN_PASSWORD };
  },
};

createApp(Login).use(ElementPlus, { locale: zhCn }).mount("#app");
