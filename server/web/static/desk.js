// The desk page: current ticket, the six actions with keyboard shortcuts, the queues the
// counter serves, reception tickets and device-fault banners — all live over the event socket.
import { Live, fmt, postJSON, randomKey, readBoot } from "./live.js";

const boot = readBoot();
const S = boot.strings;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const counterId = boot.counter ? boot.counter.id : null;
const $ = (id) => document.getElementById(id);

let state = null; // latest snapshot
let stateSeq = -1;
let busy = false;
// The browser's clock may differ from the server's: ages are measured on the server's clock.
const clockSkewS = boot.server_now ? Date.now() / 1000 - boot.server_now : 0;
// Printer states that are not a fault worth a banner on every desk.
const QUIET = ["ok", "unknown"];
const faults = new Map(boot.faults.map((f) => [f.id, f]));

// ---- rendering ------------------------------------------------------------------------

function myCounter() {
  if (!state || !counterId) return null;
  return (state.counters || []).find((c) => c.id === counterId) || null;
}

function depLabel(id) {
  return boot.departments[id] ? boot.departments[id].label : id;
}

function timeOf(iso) {
  const d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleTimeString(boot.lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: boot.timezone });
}

function renderCounter() {
  const c = myCounter();
  if (!counterId) return;
  const ticket = c ? c.ticket : null;
  $("now-number").textContent = ticket ? ticket.number : "–";
  if (ticket) {
    const call = (state.calls || []).find((k) => k.counter.id === counterId && k.number === ticket.number);
    const parts = [depLabel(ticket.department)];
    if (call && call.at) parts.push(fmt(S.called_at, { time: timeOf(call.at) }));
    $("now-detail").textContent = parts.join(" · ");
  } else {
    $("now-detail").textContent = S.nobody_current;
  }
  const paused = c && c.state === "paused";
  $("counter-state").textContent = paused ? S.paused_state : S.open_state;
  $("counter-state").dataset.state = paused ? "paused" : "open";
  $("pause-label").textContent = paused ? S.open : S.pause;
  $("btn-pause").dataset.action = paused ? "open" : "pause";
  document.body.dataset.counterState = paused ? "paused" : "open";
  document.body.dataset.hasTicket = ticket ? "yes" : "no";
  setBusy(busy);
}

function renderQueues() {
  const list = $("queues");
  if (!list || !state) return;
  const c = myCounter();
  const ids = c ? c.departments : boot.counter.departments;
  const targetS = boot.wait_target_min * 60;
  list.replaceChildren();
  for (const id of ids) {
    const dep = (state.departments || []).find((d) => d.id === id);
    const li = document.createElement("li");
    li.className = "queue";
    li.dataset.department = id;
    const waiting = dep ? dep.waiting : 0;
    let oldestS = null;
    if (dep && dep.oldest_waiting_at) {
      oldestS = Math.max(0, (Date.now() - Date.parse(dep.oldest_waiting_at)) / 1000 - clockSkewS);
    }
    let level = "ok";
    if (waiting > 0 && oldestS !== null) {
      if (oldestS >= targetS) level = "over";
      else if (oldestS >= (2 * targetS) / 3) level = "near";
    }
    li.dataset.level = level;
    const name = document.createElement("span");
    name.className = "qname";
    name.textContent = depLabel(id) + (dep && dep.open === false ? ` (${S.closed})` : "");
    const count = document.createElement("span");
    count.className = "qcount";
    count.textContent = fmt(S.waiting_n, { n: waiting });
    const age = document.createElement("span");
    age.className = "qage";
    if (waiting > 0 && oldestS !== null) {
      age.textContent = fmt(S.oldest_min, { min: Math.floor(oldestS / 60) });
    } else if (waiting > 0 && dep.estimated_wait_s != null) {
      age.textContent = fmt(S.estimate_min, { min: Math.round(dep.estimated_wait_s / 60) });
    } else {
      age.textContent = S.nobody_waiting;
    }
    const badge = document.createElement("span");
    badge.className = "qbadge";
    badge.textContent = level === "over" ? S.over_target : level === "near" ? S.near_target : "";
    li.append(name, count, age, badge);
    list.append(li);
  }
}

function renderFaults() {
  const box = $("faults");
  box.replaceChildren();
  for (const f of faults.values()) {
    const p = document.createElement("p");
    p.className = "fault";
    p.textContent = fmt(S.device_fault, { device: f.name || f.id, problem: S["printer_" + f.printer] || f.printer });
    box.append(p);
  }
}

function render() {
  renderCounter();
  renderQueues();
}

function say(text, kind = "info") {
  const el = $("message");
  if (!el) return;
  el.textContent = text;
  el.dataset.kind = kind;
}

function setBusy(value) {
  busy = value;
  document.querySelectorAll("[data-action], [data-issue]").forEach((b) => {
    b.disabled = value;
  });
  document.body.dataset.busy = value ? "yes" : "no";
}

// ---- state ----------------------------------------------------------------------------

function acceptState(snapshot, seq) {
  const s = typeof seq === "number" ? seq : snapshot.seq;
  if (typeof s === "number" && s < stateSeq) return;
  stateSeq = typeof s === "number" ? s : stateSeq;
  state = snapshot;
  render();
}

let refreshTimer = null;
function refreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    try {
      const res = await fetch("/api/v1/state", { cache: "no-store" });
      if (res.ok) acceptState(await res.json());
    } catch (err) {
      /* the socket will reconnect and bring a snapshot */
    }
  }, 60);
}

function printerWord(value) {
  if (typeof value === "string") return value;
  return value && typeof value === "object" ? value.state || value.status || null : null;
}

function deviceStatus(ev) {
  const dev = ev.device || {};
  if (!dev.id) return;
  const printer = printerWord(dev.printer !== undefined ? dev.printer : (dev.status || {}).printer);
  if (printer && !QUIET.includes(printer)) {
    faults.set(dev.id, { id: dev.id, name: dev.name || dev.id, printer });
  } else {
    faults.delete(dev.id);
  }
  renderFaults();
}

const live = new Live({
  onSnapshot: (snapshot, seq) => acceptState(snapshot, seq),
  onEvent: (ev) => {
    if (ev.type === "device.status") deviceStatus(ev);
    else refreshSoon();
  },
  onStatus: (s) => {
    const el = $("live");
    el.dataset.state = s;
    el.textContent = s === "live" ? S.live : s === "connecting" ? S.connecting : S.reconnecting;
  },
});

// ---- actions --------------------------------------------------------------------------

async function send(url, body) {
  setBusy(true);
  try {
    const { status, data } = await postJSON(url, { ...body, key: randomKey() }, csrf);
    if (status === 401) {
      location.assign("/desk/signin?expired=1");
      return null;
    }
    if (status >= 400) {
      say((data.error && data.error.message) || S.failed, "error");
      if (data.state) acceptState(data.state);
      return null;
    }
    if (data.state) acceptState(data.state);
    return data;
  } catch (err) {
    say(S.offline, "error");
    return null;
  } finally {
    setBusy(false);
  }
}

async function act(action, extra = {}) {
  if (busy || !counterId) return;
  const c = myCounter();
  const expect = c && c.ticket ? c.ticket.id : null;
  const data = await send(`/desk/api/counters/${encodeURIComponent(counterId)}/${action}`, { expect, ...extra });
  if (data) say(data.message || "", "ok");
}

function openTransfer() {
  const c = myCounter();
  if (busy || !c || !c.ticket) {
    say(S.no_current, "error");
    return;
  }
  const dialog = $("transfer-dialog");
  dialog.querySelectorAll("[data-transfer]").forEach((b) => {
    b.hidden = b.dataset.transfer === c.ticket.department;
  });
  dialog.returnValue = "";
  dialog.showModal();
}

$("transfer-dialog").addEventListener("close", () => {
  const value = $("transfer-dialog").returnValue;
  if (value && value !== "cancel") act("transfer", { department: value });
});

document.querySelectorAll("[data-action]").forEach((b) => {
  b.addEventListener("click", () => {
    if (b.dataset.action === "transfer") openTransfer();
    else act(b.dataset.action);
  });
});

document.querySelectorAll("[data-issue]").forEach((b) => {
  b.addEventListener("click", async () => {
    if (busy) return;
    const data = await send("/desk/api/tickets", { department: b.dataset.issue });
    if (data && data.ticket) {
      const t = data.ticket;
      const el = $("issued");
      el.replaceChildren();
      const num = document.createElement("span");
      num.className = "issued-number";
      num.textContent = t.number;
      const txt = document.createElement("span");
      txt.textContent = data.message;
      el.append(num, txt);
    }
  });
});

const KEYS = { n: "next", r: "recall", x: "no-show", d: "done", t: "transfer", p: "pause" };
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
  const tag = (e.target && e.target.tagName) || "";
  if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) || $("transfer-dialog").open) return;
  const action = KEYS[e.key.toLowerCase()];
  if (!action || !counterId) return;
  e.preventDefault();
  if (action === "transfer") openTransfer();
  else if (action === "pause") act($("btn-pause").dataset.action);
  else act(action);
});

renderFaults();
if (boot.state) acceptState(boot.state);
setInterval(renderQueues, 15000); // the oldest wait grows without any event
live.start();
