// The desk's one state: who is signed in, the agent's ACD state, the call on the desk and its screen pop, the
// live feed and the phone. Every change the page makes goes through the API; the feed says what happened.
import { markRaw, nextTick, reactive } from "vue";
import { ElMessage } from "element-plus";
import { api, ApiError } from "/common/api.js";

export const STATE_LABELS = { ready: "就绪", paused: "小休", offered: "振铃", on_call: "通话中", wrap_up: "话后处理",
                              signed_out: "未签入" };
export const PAUSE_REASONS = ["用餐", "培训", "会议", "其他"];
const LAST_CALL = "hotline.desk.call.";

export const desk = reactive({
  user: null,
  agent: null,
  agentState: { state: "signed_out", reason: "", wrapUntil: 0 },
  feed: "connecting",
  phone: null,
  phoneState: "loading",
  incoming: null,  // the page phone's ringing call {from, displayName, headers}
  muted: false,
  held: false,
  microphones: [],
  microphone: "",
  call: null,  // {id, state: ringing|talking|ended, pop, popError, consult, threeWay, answered}
  ticketCall: null,  // the call id the tickets tab writes for
  recent: [],  // calls on this desk since sign-in: [{id, caller, at}]
  reference: { phrases: null, targets: null, form: null },
  timings: [],  // offer → caller visible, per call (the bench reads window.hotlineDesk)
  now: Date.now(),
  tab: "tickets",
  aside: "knowledge",  // the right column's tab: 知识库 or 服务用语
  callbackChanges: 0,  // bumped by the feed's callback events: the work list reloads
});

// A refused action as a toast with the API's reason; true when it went through.
export async function act(what, method, path, body) {
  try {
    return (await api(method, path, body)) ?? true;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    ElMessage({ type: "error", message: `${what}失败：${err.text}`, duration: 5000, showClose: true });
    return null;
  }
}

export async function loadReference() {
  const [phrases, targets, form] = await Promise.all([
    api("GET", "/api/desk/phrases"), api("GET", "/api/desk/transfer-targets"), api("GET", "/api/desk/ticket-form")]);
  Object.assign(desk.reference, { phrases, targets, form });
}

let changes = 0;  // local state changes: a refresh that started before one is stale when it answers

export async function refreshAgent() {
  const started = changes;
  const { agents } = await api("GET", "/api/agents");
  if (started !== changes) return;
  const mine = agents.find((a) => a.agent === desk.agent);
  if (!mine) return;
  desk.agentState.state = mine.state;
  desk.agentState.reason = mine.reason || "";
  desk.agentState.wrapUntil = Number(mine.wrap_until) || 0;
  if (mine.call && ["offered", "on_call", "wrap_up"].includes(mine.state) && (!desk.call || desk.call.id !== mine.call)) {
    openCall(mine.call, mine.state === "offered" ? "ringing" : mine.state === "on_call" ? "talking" : "ended");
  }
}

export async function setState(state, reason = "") {
  const done = await act(state === "ready" ? "就绪" : state === "paused" ? "小休" : "签出", "POST",
                         `/api/agents/${desk.agent}/state`, { state, reason });
  if (done) {
    changes += 1;
    Object.assign(desk.agentState, { state, reason });
  }
  return done;
}

export async function extendWrapUp(seconds = 60) {
  const done = await act("延长话后处理", "POST", `/api/agents/${desk.agent}/wrap-up`, { extend_s: seconds });
  if (done) {
    changes += 1;
    desk.agentState.wrapUntil = Date.now() + done.left_s * 1000;
  }
}

// A call comes onto the desk (offered, rung on the page phone, found after a reload, or a callback): its pop is
// fetched at once. `offer`: the feed's offered event (when the ACD offered it, the caller's number and flags),
// shown at once while the full pop loads.
export function openCall(id, state, offer) {
  if (!(desk.call && desk.call.id === id)) {
    desk.call = { id, state, pop: null, quick: null, popError: "", consult: null, threeWay: null, offeredAt: 0,
                  openedAt: Date.now(), fedAt: 0, shownAt: 0, fullAt: 0 };
    desk.ticketCall = id;
    localStorage.setItem(LAST_CALL + desk.agent, id);
    loadPop(id);
  } else if (state === "ringing" || state === "talking") {
    desk.call.state = state;
  }
  if (offer) {
    Object.assign(desk.call, { offeredAt: offer.at_ms, fedAt: Date.now() });
    if (offer.caller) showQuick({ caller: offer.caller, flags: (offer.flags || "").split(",").filter(Boolean),
                                  watch: !!offer.watch, waited_ms: offer.waited_ms });
  }
  noteTiming();
}

// The caller's number and flags before the full pop has come (from the offer, or the ringing phone's caller ID).
export function showQuick(quick) {
  const call = desk.call;
  if (!call || call.pop || call.quick) return;
  call.quick = quick;
  shown(call);
}

async function shown(call) {
  await nextTick();  // on screen
  if (!call.shownAt) call.shownAt = Date.now();
  noteTiming();
}

function noteTiming() {
  const call = desk.call;
  if (!call || !call.offeredAt || !call.shownAt || !call.fullAt || desk.timings.some((t) => t.call === call.id)) return;
  // pop_ms: offer → the caller's number on screen; full_ms: → the whole pop (line, history); feed_ms: → the
  // feed's event here; opened_ms: → the call opened on the desk (by the feed or, sooner, the page phone's ringing)
  desk.timings.push({ call: call.id, offered_ms: call.offeredAt, shown_ms: call.shownAt,
                      pop_ms: call.shownAt - call.offeredAt, full_ms: call.fullAt - call.offeredAt,
                      feed_ms: call.fedAt - call.offeredAt, opened_ms: call.openedAt - call.offeredAt });
}

export async function loadPop(id) {
  try {
    const pop = await api("GET", `/api/desk/pop/${encodeURIComponent(id)}`);
    const call = desk.call;
    if (call && call.id === id) {
      call.pop = pop;
      await nextTick();
      call.fullAt = Date.now();
      await shown(call);
    }
    if (!desk.recent.some((c) => c.id === id)) desk.recent.unshift({ id, caller: pop.caller, at: pop.started_at });
    desk.recent.splice(10);
  } catch (err) {
    if (desk.call && desk.call.id === id) desk.call.popError = err instanceof ApiError ? err.text : String(err);
  }
}

export function forgetLastCall() {
  localStorage.removeItem(LAST_CALL + desk.agent);
}

export function lastCall() {
  return localStorage.getItem(LAST_CALL + desk.agent);
}

// What the feed says, for this agent only (the server sends no one else's).
export function onFeedEvent(event) {
  const mine = event.agent === desk.agent;
  const current = desk.call && desk.call.id === event.call;
  switch (event.event) {
    case "offered":  // the ACD reserved the agent for this call: no separate agent event comes
      if (mine) {
        desk.agentState.state = "offered";
        openCall(event.call, "ringing", event);
      }
      break;
    case "connected":
      if (mine) {
        desk.agentState.state = "on_call";
        if (!current) openCall(event.call, "talking");
        else desk.call.state = "talking";
      }
      break;
    case "ended":
      if (current) desk.call.state = "ended";
      break;
    case "requeued":
    case "abandoned":
      if (current && desk.call.state === "ringing") {
        ElMessage({ type: "warning", message: event.event === "abandoned" ? "来电人已挂机" : "来电未接听，已退回队列" });
        desk.call.state = "missed";
      }
      break;
    case "agent":
      if (mine) {
        desk.agentState.state = event.state;
        desk.agentState.reason = event.reason || "";
        if (event.state === "wrap_up") refreshAgent().catch(() => {});
        if (event.state === "ready" && desk.call && ["ringing", "missed"].includes(desk.call.state)) desk.call = null;
      }
      break;
    default:
      if (String(event.event).startsWith("callback")) desk.callbackChanges += 1;
      break;
  }
}

export function rememberPhone(phone) {
  desk.phone = phone ? markRaw(phone) : null;
}

window.hotlineDesk = desk;  // tests and the bench read the timings
