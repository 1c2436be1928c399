// The agent's softphone in the page: SIP over the service's /sip websocket (one origin), WebRTC audio
// (DTLS-SRTP, G.711) with the hotline's Asterisk. One UserAgent per page; no polling.
//
//   const phone = createPhone({ wsUrl, uri, username, password, displayName, audioElement, refreshTicket })
//   phone.start() / stop() / answer() / hangup() / mute(on) / hold(on) / sendDtmf(key) / call(number)
//   phone.devices() / useMicrophone(deviceId) / checkMicrophone() / inboundAudio() / phone.state
//   events: "state" {state, reason}, "incoming" {from, displayName, headers}, "ended" {reason},
//           "microphone-denied" {reason}
//
// Hold is a re-INVITE with a=sendonly (Asterisk plays music on hold to the citizen), the microphone also muted;
// DTMF is RFC 4733 (the RTP sender's insertDTMF), which the agents' endpoints expect (dtmf_mode=rfc4733).
// A dropped websocket or a failed registration reconnects with a fresh one-time ticket (`refreshTicket`, an async
// function giving /api/desk/phone's answer) after 1, 2, 5, 10, 10 … seconds; when it throws an error with
// `permanent` or an HTTP `status` of 401/403/404/409 (signed out, not a browser phone) the phone is "failed".

import { Inviter, Registerer, RegistererState, SessionState, UserAgent, Web } from "sip.js";

export const STATES = ["offline", "connecting", "registered", "ringing", "talking", "held", "reconnecting", "failed"];
const BACKOFF_S = [1, 2, 5, 10];
const REGISTER_EXPIRES_S = 120;

function absoluteWs(url) {
  const u = new URL(url, window.location.href);
  if (u.protocol === "http:") u.protocol = "ws:";
  if (u.protocol === "https:") u.protocol = "wss:";
  return u.toString();
}

function xHeaders(request) {
  const out = {};
  for (const name of Object.keys(request.headers || {})) {
    if (/^x-/i.test(name)) out[name] = request.getHeader(name);
  }
  return out;
}

class Phone extends EventTarget {
  constructor(options) {
    super();
    this.options = { ...options };
    this.state = "offline";
    this._ua = null;
    this._registerer = null;
    this._session = null;
    this._attempt = 0;
    this._retryTimer = null;
    this._stopping = false;
    this._micId = options.microphoneId || "";
    this._held = false;
    this._muted = false;
  }

  _set(state, reason = "") {
    if (this.state === state && !reason) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, reason } }));
  }

  get inCall() {
    return this._session !== null;
  }

  // -- connection and registration ------------------------------------------------------------------

  async start() {
    this._stopping = false;
    clearTimeout(this._retryTimer);
    this._set(this._attempt ? "reconnecting" : "connecting");
    await this._dispose();
    const o = this.options;
    const uri = UserAgent.makeURI(o.uri);
    if (!uri) throw new Error(`not a SIP URI: ${o.uri}`);
    this._domain = uri.host;
    let ua = null;
    ua = new UserAgent({
      uri,
      displayName: o.displayName || o.username,
      authorizationUsername: o.username,
      authorizationPassword: o.password,
      contactName: o.username, // the relay lets this phone answer requests addressed to its own number only
      transportOptions: { server: absoluteWs(o.wsUrl), connectionTimeout: 5, keepAliveInterval: 25 },
      sessionDescriptionHandlerFactoryOptions: {
        iceGatheringTimeout: 500,
        peerConnectionConfiguration: { iceServers: o.iceServers || [] },
      },
      logBuiltinEnabled: false,
      logLevel: "error",
      noAnswerTimeout: 120,
      delegate: {
        onInvite: (invitation) => this._incoming(invitation),
        onDisconnect: (error) => {
          if (error) console.warn("phone: websocket closed", error.message || error);
          if (ua === this._ua) this._dropped("与服务器的连接断开");
        },
      },
    });
    this._ua = ua;
    try {
      await ua.start();
    } catch (error) {
      console.warn("phone: could not connect", error.message || error);
      this._dropped("无法连接服务器");
      return;
    }
    if (ua !== this._ua) return;
    const registerer = new Registerer(ua, { expires: REGISTER_EXPIRES_S });
    this._registerer = registerer;
    registerer.stateChange.addListener((s) => {
      if (registerer !== this._registerer) return;
      if (s === RegistererState.Registered) {
        this._attempt = 0;
        if (!this.inCall) this._set("registered");
      } else if (s === RegistererState.Unregistered && !this._stopping && this.state === "registered") {
        this._dropped("注册失效");
      }
    });
    await registerer.register({
      requestDelegate: {
        onReject: (response) => this._dropped(`注册被拒绝 (${response.message.statusCode})`),
      },
    }).catch((error) => {
      console.warn("phone: REGISTER failed", error.message || error);
      this._dropped("注册失败");
    });
  }

  async stop() {
    this._stopping = true;
    clearTimeout(this._retryTimer);
    if (this._session) await this.hangup().catch(() => {});
    if (this._registerer) await this._registerer.unregister().catch(() => {});
    await this._dispose();
    this._attempt = 0;
    this._set("offline");
  }

  async _dispose() {
    const ua = this._ua;
    this._ua = null;
    this._registerer = null;
    if (ua) await ua.stop().catch(() => {});
  }

  _dropped(reason) {
    if (this._stopping || this._retryTimer) return;
    if (this._session) this._endSession("连接中断");
    const wait = BACKOFF_S[Math.min(this._attempt, BACKOFF_S.length - 1)];
    this._attempt += 1;
    this._set("reconnecting", reason);
    this._dispose();
    this._retryTimer = setTimeout(() => this._reconnect(), wait * 1000);
  }

  async _reconnect() {
    this._retryTimer = null;
    if (this._stopping) return;
    if (!this.options.refreshTicket) {
      this._set("failed", "没有新的连接票据");
      return;
    }
    try {
      const fresh = await this.options.refreshTicket();
      Object.assign(this.options, {
        wsUrl: fresh.ws_url || fresh.wsUrl || this.options.wsUrl,
        password: fresh.password || this.options.password,
        uri: fresh.uri || this.options.uri,
        iceServers: fresh.ice_servers || fresh.iceServers || this.options.iceServers,
      });
    } catch (error) {
      // refused for good (signed out, not a browser phone): no more tries; anything else (network) is retried
      if (error && (error.permanent || [401, 403, 404, 409].includes(error.status))) {
        this._set("failed", String(error.message || error));
        return;
      }
      console.warn("phone: no fresh ticket", error.message || error);
      this._dropped("获取连接票据失败");
      return;
    }
    await this.start();
  }

  // -- calls --------------------------------------------------------------------------------------------

  _constraints() {
    return { audio: this._micId ? { deviceId: { exact: this._micId } } : true, video: false };
  }

  _incoming(invitation) {
    if (this._session) {
      invitation.reject({ statusCode: 486 }).catch(() => {});
      return;
    }
    this._track(invitation);
    this._set("ringing", "来电");
    const who = invitation.remoteIdentity;
    this.dispatchEvent(new CustomEvent("incoming", {
      detail: { from: who.uri.user, displayName: who.displayName || "", headers: xHeaders(invitation.request) },
    }));
  }

  _track(session) {
    this._session = session;
    this._held = false;
    this._muted = false;
    session.stateChange.addListener((s) => {
      if (session !== this._session) return;
      if (s === SessionState.Established) {
        this._attachAudio(session);
        this._set("talking");
      } else if (s === SessionState.Terminated) {
        this._endSession("通话结束");
      }
    });
  }

  _attachAudio(session) {
    const handler = session.sessionDescriptionHandler;
    const element = this.options.audioElement;
    if (!handler || !element) return;
    element.srcObject = handler.remoteMediaStream;
    element.play().catch(() => {});
  }

  _endSession(reason) {
    const element = this.options.audioElement;
    if (element) element.srcObject = null;
    this._session = null;
    this._held = false;
    this._muted = false;
    this.dispatchEvent(new CustomEvent("ended", { detail: { reason } }));
    const registered = this._registerer && this._registerer.state === RegistererState.Registered;
    if (this.state !== "reconnecting") this._set(registered ? "registered" : "connecting");
  }

  async checkMicrophone() {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(this._constraints());
      stream.getTracks().forEach((t) => t.stop());
      return true;
    } catch (error) {
      this.dispatchEvent(new CustomEvent("microphone-denied", { detail: { reason: error.name || String(error) } }));
      return false;
    }
  }

  async answer() {
    const session = this._session;
    if (!session || session.state !== SessionState.Initial || !session.accept) return false;
    if (!(await this.checkMicrophone())) {
      await session.reject({ statusCode: 480 }).catch(() => {});
      return false;
    }
    await session.accept({ sessionDescriptionHandlerOptions: { constraints: this._constraints() } });
    return true;
  }

  async hangup() {
    const session = this._session;
    if (!session) return;
    if (session.state === SessionState.Established) await session.bye();
    else if (session.state === SessionState.Initial || session.state === SessionState.Establishing) {
      if (session.reject) await session.reject();
      else await session.cancel();
    }
  }

  async call(number) {
    if (!this._ua || this._session) return false;
    const target = UserAgent.makeURI(`sip:${number}@${this._domain}`);
    if (!target) return false;
    const inviter = new Inviter(this._ua, target, {
      sessionDescriptionHandlerOptions: { constraints: this._constraints() },
    });
    this._track(inviter);
    this._set("ringing", "呼出");
    await inviter.invite().catch((error) => this._endSession(`呼叫失败: ${error.message || error}`));
    return true;
  }

  _senders() {
    const pc = this._peer();
    return pc ? pc.getSenders().filter((s) => s.track && s.track.kind === "audio") : [];
  }

  _peer() {
    const handler = this._session && this._session.sessionDescriptionHandler;
    return handler ? handler.peerConnection : undefined;
  }

  mute(on) {
    this._muted = Boolean(on);
    this._senders().forEach((s) => { s.track.enabled = !this._muted && !this._held; });
    return this._muted;
  }

  async hold(on) {
    const session = this._session;
    if (!session || session.state !== SessionState.Established || Boolean(on) === this._held) return this._held;
    const modifiers = on ? [Web.holdModifier] : [];
    await new Promise((resolve, reject) => {
      session.invite({
        sessionDescriptionHandlerModifiers: modifiers,
        requestDelegate: { onAccept: () => resolve(), onReject: (r) => reject(new Error(`re-INVITE ${r.message.statusCode}`)) },
      }).catch(reject);
    });
    this._held = Boolean(on);
    this._senders().forEach((s) => { s.track.enabled = !this._muted && !this._held; });
    this._set(this._held ? "held" : "talking");
    return this._held;
  }

  sendDtmf(key) {
    if (!/^[0-9*#A-D]$/.test(String(key))) return false;
    const sender = this._senders()[0];
    if (!sender || !sender.dtmf) return false;
    sender.dtmf.insertDTMF(String(key), 120, 70);
    return true;
  }

  // -- devices and audio ----------------------------------------------------------------------------------

  async devices() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return all.filter((d) => d.kind === "audioinput").map((d) => ({ deviceId: d.deviceId, label: d.label }));
  }

  async useMicrophone(deviceId) {
    this._micId = deviceId || "";
    const sender = this._senders()[0];
    if (!sender) return;
    const stream = await navigator.mediaDevices.getUserMedia(this._constraints());
    const track = stream.getAudioTracks()[0];
    track.enabled = !this._muted && !this._held;
    const old = sender.track;
    await sender.replaceTrack(track);
    if (old) old.stop();
  }

  async inboundAudio() {
    const pc = this._peer();
    if (!pc) return null;
    const stats = await pc.getStats();
    for (const report of stats.values()) {
      if (report.type === "inbound-rtp" && report.kind === "audio") {
        return {
          packetsReceived: report.packetsReceived || 0,
          bytesReceived: report.bytesReceived || 0,
          audioLevel: report.audioLevel || 0,
          totalAudioEnergy: report.totalAudioEnergy || 0,
        };
      }
    }
    return null;
  }
}

export function createPhone(options) {
  return new Phone(options);
}
