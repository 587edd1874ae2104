// The event socket (PROTOCOL.md): a snapshot first, then one event per change with seq +1.
// A signed-in page's socket carries its session cookie, so staff pages also get the silent
// alarm's alarm.* messages (outside the seq order: handled before the gap check).
// Reconnects with backoff capped at 2 s; a gap in seq means something was missed, so the
// socket is dropped and the fresh snapshot of the next connection puts the page right.

export class Live {
  constructor({ onSnapshot, onEvent, onStatus }) {
    this.onSnapshot = onSnapshot;
    this.onEvent = onEvent;
    this.onStatus = onStatus || (() => {});
    this.seq = null;
    this.backoff = 250;
    this.ws = null;
    this.stopped = false;
  }

  start() {
    this.connect();
    // A laptop waking from sleep may keep a dead socket: check when the tab becomes visible.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && (!this.ws || this.ws.readyState > 1)) this.connect();
    });
  }

  connect() {
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let ws;
    try {
      ws = new WebSocket(`${scheme}://${location.host}/api/v1/events`);
    } catch (err) {
      this.retry();
      return;
    }
    this.ws = ws;
    this.onStatus("connecting");
    ws.onopen = () => {
      this.backoff = 250;
    };
    ws.onmessage = (msg) => {
      let data;
      try {
        data = JSON.parse(msg.data);
      } catch (err) {
        return;
      }
      // The staff channel (alarm.*) is outside the site-wide seq order: never a gap, never "seen".
      if (typeof data.type === "string" && data.type.startsWith("alarm.")) {
        this.onEvent(data);
        return;
      }
      if (data.type === "snapshot") {
        this.seq = data.seq;
        this.onStatus("live");
        this.onSnapshot(data.state || {}, data.seq);
        return;
      }
      if (typeof data.seq === "number" && this.seq !== null) {
        if (data.seq <= this.seq) return; // already seen
        if (data.seq !== this.seq + 1) {
          ws.close(); // missed something: the next snapshot is the truth
          return;
        }
      }
      if (typeof data.seq === "number") this.seq = data.seq;
      this.onEvent(data);
    };
    ws.onclose = () => {
      if (this.ws === ws) {
        this.ws = null;
        this.retry();
      }
    };
    ws.onerror = () => ws.close();
  }

  retry() {
    if (this.stopped) return;
    this.onStatus("reconnecting");
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, 2000);
    setTimeout(() => this.connect(), wait);
  }
}

// A random key for each click (crypto.randomUUID needs a secure context; a desk on the LAN
// over plain http is not one, getRandomValues works everywhere).
export function randomKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function readBoot() {
  const el = document.getElementById("boot");
  return el ? JSON.parse(el.textContent) : {};
}

// "%(name)s" placeholders, the same syntax as the Python side.
export function fmt(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, k) => (k in values ? String(values[k]) : ""));
}

export async function postJSON(url, body, csrf) {
  const res = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  let data = {};
  try {
    data = await res.json();
  } catch (err) {
    data = {};
  }
  return { status: res.status, data };
}
