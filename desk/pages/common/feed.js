// The live feed (/api/acd/events) over one websocket, opened again after a drop (1 s, 2 s, 4 s … at most 15 s).
// The session cookie authenticates it; the server shows an agent only their own events.

export class LiveFeed extends EventTarget {
  constructor(path = "/api/acd/events") {
    super();
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
    this.state = "connecting";  // connecting | open | closed
    this._delay = 1000;
    this._stopped = false;
  }

  start() {
    this._stopped = false;
    this._open();
  }

  stop() {
    this._stopped = true;
    if (this._ws) this._ws.close();
  }

  _set(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  _open() {
    this._set("connecting");
    const ws = new WebSocket(this.url);
    this._ws = ws;
    ws.onopen = () => {
      this._delay = 1000;
      this._set("open");
    };
    ws.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch { return; }
      this.dispatchEvent(new CustomEvent("event", { detail: event }));
    };
    ws.onclose = (closed) => {
      this._set("closed");
      if (closed.code === 4401) {  // the session ended (signed out everywhere, or revoked)
        this.dispatchEvent(new CustomEvent("signed-out"));
        return;
      }
      if (this._stopped) return;
      setTimeout(() => this._open(), this._delay);
      this._delay = Math.min(this._delay * 2, 15000);
    };
  }
}
