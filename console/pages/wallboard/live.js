// The board kept live: the snapshot (GET /api/wallboard) read again at most DEBOUNCE_MS after any event on the
// live feed (/api/acd/events: a caller queued, an agent changed state…), and every REFRESH_MS anyway; between
// reads the times in state and the waits count up every second in the page.
import { nextTick, reactive } from "vue";
import { api } from "/common/api.js";
import { LiveFeed } from "/common/feed.js";

const DEBOUNCE_MS = 80;
const REFRESH_MS = 5000;

export function liveBoard() {
  const live = reactive({ board: null, readAt: 0, now: Date.now(), error: "", feed: "connecting" });
  let timer = null;
  let reading = null;
  let again = false;
  // What the page drew and when (for the tests and the bench: event in Redis → visible here).
  const drawn = (window.hlWallboard = window.hlWallboard || { draws: [] });

  // cause: "event" (something on the live feed), "refresh" (the REFRESH_MS timer) or "open".
  async function read(cause = "refresh") {
    if (reading) { again = again === "event" ? again : cause; return reading; }
    reading = (async () => {
      const asked = Date.now();
      try {
        const board = await api("GET", "/api/wallboard");
        const got = Date.now();
        live.board = board;
        live.readAt = Date.now();
        live.error = "";
        await nextTick();
        const dom = Date.now();
        requestAnimationFrame(() => {
          drawn.draws.push({ at: Date.now(), cause, asked, got, dom, waiting: board.waiting,
                             lines: Object.fromEntries(board.lines.map((l) => [l.line, l.waiting])),
                             states: Object.fromEntries(board.agents.map((a) => [a.agent, a.state])) });
          if (drawn.draws.length > 2000) drawn.draws.splice(0, 1000);
        });
      } catch (err) {
        live.error = err.text || String(err);
      } finally {
        reading = null;
        if (again) { const next = again; again = false; read(next); }
      }
    })();
    return reading;
  }

  function soon() {
    if (timer) return;
    timer = setTimeout(() => { timer = null; read("event"); }, DEBOUNCE_MS);
  }

  const feed = new LiveFeed();
  feed.addEventListener("event", soon);
  feed.addEventListener("state", (e) => { live.feed = e.detail; if (e.detail === "open") soon(); });
  feed.addEventListener("signed-out", () => location.assign("/login/?next=/wallboard/"));
  feed.start();
  read("open");
  setInterval(() => read("refresh"), REFRESH_MS);
  setInterval(() => { live.now = Date.now(); }, 1000);
  return { live, read };
}

// Seconds as 分:秒 (or 时:分:秒).
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const two = (n) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  return h ? `${h}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}` : `${two(Math.floor(s / 60))}:${two(s % 60)}`;
}

export function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${Math.round(rate * 1000) / 10}%`;
}
