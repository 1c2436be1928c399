// The softphone in the page (/phone/phone.js, the phone part) behind one small adapter: without it, or when the
// agent uses a desk phone, the desk still works and the call rings on that phone.
import { api, ApiError } from "/common/api.js";

export const PHONE_STATES = {
  none: "使用桌面话机", loading: "加载中", offline: "离线", connecting: "注册中", registered: "已注册",
  ringing: "振铃中", talking: "通话中", held: "保持中", reconnecting: "断开，重连中", failed: "断开",
  microphone_denied: "麦克风被拒绝",
};
export const PHONE_OK = ["registered", "ringing", "talking", "held"];

export async function startPhone(user, audioElement, on) {
  let module;
  try {
    module = await import("/phone/phone.js");
  } catch (err) {
    return null;  // no page phone served: the desk phone rings
  }
  const ticket = () => api("GET", "/api/desk/phone");
  let config;
  try {
    config = await ticket();
  } catch (err) {  // this agent's phone is a SIP phone on the desk (the dialplan file says which)
    if (err instanceof ApiError && ["not_a_browser_phone", "no_phone"].includes(err.id)) return null;
    throw err;
  }
  const phone = module.createPhone({
    wsUrl: config.ws_url, uri: config.uri, username: config.username, password: config.password,
    displayName: user.name || config.agent, audioElement, iceServers: config.ice_servers, refreshTicket: ticket,
  });
  for (const name of ["state", "incoming", "ended", "microphone-denied"]) {
    phone.addEventListener(name, (event) => on(name, event.detail, phone));
  }
  await phone.start();
  return phone;
}
