// The API as the pages use it: the session cookie (HttpOnly, set by POST /api/session) plus the CSRF token on
// every unsafe request; errors as ApiError with the API's id, message and fields, and a Chinese text to show.

const CSRF_KEY = "hotline.csrf";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// What an agent reads for the API's error ids (the API's own message is kept for the details).
export const ERROR_TEXT = {
  auth_required: "请先登录",
  auth_expired: "登录已过期，请重新登录",
  auth_invalid: "登录已失效，请重新登录",
  session_expired: "登录已过期，请重新登录",
  login_failed: "用户名或密码错误",
  account_locked: "账户已锁定",
  account_disabled: "账户已停用，请联系管理员",
  auth_throttled: "尝试过于频繁，请稍后再试",
  csrf_failed: "页面已过期，请刷新后重试",
  forbidden: "无权执行此操作",
  agent_busy: "通话中：通话结束后自动就绪",
  agent_not_found: "坐席不存在",
  not_in_wrap_up: "当前不在话后处理",
  not_connected: "当前没有进行中的通话",
  call_not_found: "找不到该通话",
  cannot_transfer: "无法转接",
  cannot_consult: "无法发起咨询",
  cannot_three_way: "无法发起三方通话",
  cannot_leave: "无法退出三方通话",
  cannot_complete: "无法完成转接",
  cannot_cancel: "无法取消咨询",
  no_caller_number: "来电号码未显示，无法标记",
  bad_ticket: "工单填写有误",
  not_a_draft: "工单已提交，不能再修改",
  bad_state: "状态无效",
  bad_json: "请求内容有误",
  bad_param: "参数有误",
  weak_password: "新密码不符合要求",
  password_mismatch: "原密码不正确",
  not_found: "找不到",
  wrong_password: "原密码不正确",
  password_change_required: "请先修改密码",
  origin_refused: "请从热线自己的页面登录",
  no_session: "未登录",
  already_claimed: "该事项已被其他坐席领取",
  not_claimed: "请先领取该事项",
  no_call: "该事项还没有接通的回电",
  number_not_allowed: "该号码不允许外呼",
  dial_rate_exceeded: "外呼过于频繁，请稍后再试",
  not_a_browser_phone: "该坐席使用桌面话机",
  bad_announcement: "播报内容填写有误",
  announcement_ended: "该播报已结束",
  bad_recording: "录音无法使用",
  unsupported_audio: "不支持的录音格式",
  body_too_large: "内容过大",
  synthesis_failed: "语音合成失败，请稍后再试",
};

export class ApiError extends Error {
  constructor(status, id, message, fields, extra) {
    super(message);
    this.status = status;
    this.id = id;
    this.fields = fields || [];
    this.extra = extra || {};
  }

  // What the page shows: the Chinese for the error id, then the API's message.
  get text() {
    const known = ERROR_TEXT[this.id];
    if (known && this.message && known !== this.message) return `${known}（${this.message}）`;
    return known || this.message || `请求失败（${this.status}）`;
  }
}

export function csrfToken() {
  return sessionStorage.getItem(CSRF_KEY) || "";
}

export function keepCsrf(token) {
  if (token) sessionStorage.setItem(CSRF_KEY, token);
  else sessionStorage.removeItem(CSRF_KEY);
}

// One request; the JSON answer, or ApiError. A 401 on a page that needs a session goes to the sign-in page.
// A Blob body (a recording, a file) is sent as it is with its own type; `blob: true` answers with a Blob (audio).
export async function api(method, path, body, { signIn = true, blob = false } = {}) {
  const headers = { Accept: blob ? "*/*" : "application/json" };
  const raw = body instanceof Blob;
  if (body !== undefined) headers["Content-Type"] = raw ? (body.type || "application/octet-stream") : "application/json";
  if (UNSAFE.has(method)) headers["X-CSRF-Token"] = csrfToken();
  let response;
  try {
    response = await fetch(path, { method, headers, credentials: "same-origin",
                                   body: body === undefined || raw ? body : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, "network", "网络连接失败，请检查网络");
  }
  if (blob && response.ok) return await response.blob();
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (response.ok) return data;
  const { error = {}, ...rest } = data && typeof data === "object" ? data : {};  // rest: e.g. an import's bad rows
  const extra = { ...rest, ...error, retryAfter: Number(response.headers.get("Retry-After")) || null };
  if (response.status === 401 && signIn && !["login_failed"].includes(error.id)) goSignIn();
  throw new ApiError(response.status, error.id || String(response.status), error.message || "", error.fields, extra);
}

let leaving = false;  // signing out on purpose: the requests and sockets it ends send nobody anywhere

export function goSignIn() {
  if (leaving) return;
  const here = location.pathname + location.search;
  location.assign(`/login/?next=${encodeURIComponent(here)}`);
}

// The signed-in person ({user, csrf_token}) or null.
export async function session() {
  try {
    const me = await api("GET", "/api/session", undefined, { signIn: false });
    keepCsrf(me.csrf_token);
    return me;
  } catch (err) {
    if (err.status === 401) return null;
    throw err;
  }
}

// Every session of this person ends (other browsers and tabs too).
export async function signOutEverywhere() {
  leaving = true;
  try {
    await api("POST", "/api/session/everywhere", undefined, { signIn: false });
  } finally {
    keepCsrf("");
    location.assign("/login/");
  }
}

export async function signOut() {
  leaving = true;
  try {
    await api("DELETE", "/api/session", undefined, { signIn: false });
  } finally {
    keepCsrf("");
    location.assign("/login/");
  }
}
