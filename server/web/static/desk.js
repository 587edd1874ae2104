// The desk page: current ticket (called, then serving once the visitor arrived, with the
// visitor's language), the actions with keyboard shortcuts, calling a number out of turn, parked
// tickets, the queues the counter serves, reception tickets, device-fault banners and the silent
// alarm — all live over the event socket.
import { pageAlarms } from "./alarms.js";
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
let parked = boot.parked || [];
const alarms = pageAlarms(boot, csrf, { ownCounter: counterId, onSay: (text, kind) => say(text, kind) });

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
  const status = ticket ? ticket.status : "none";
  $("now-number").textContent = ticket ? ticket.number : "–";
  const title = $("now-title");
  title.dataset.status = status;
  title.textContent = status === "serving" ? S.title_serving : status === "called" ? S.title_called : S.title_none;
  const langEl = $("now-lang");
  langEl.hidden = !ticket;
  langEl.textContent = ticket ? fmt(S.visitor_language, { language: (boot.languages || {})[ticket.lang] || ticket.lang }) : "";
  if (ticket) langEl.lang = ticket.lang;
  const statusEl = $("now-status");
  statusEl.dataset.status = status;
  if (ticket) {
    const calledAt = ticket.called_at || ((state.calls || []).find((k) => k.counter.id === counterId && k.number === ticket.number) || {}).at;
    const parts = [depLabel(ticket.department)];
    if (ticket.appointment) parts.push(fmt(S.booked_at, { time: timeOf(ticket.appointment.start) }));
    if (calledAt) parts.push(fmt(S.called_at, { time: timeOf(calledAt) }));
    $("now-detail").textContent = parts.join(" · ");
    statusEl.textContent = status === "called" ? S.status_called : status === "serving" && ticket.serving_at ? fmt(S.status_serving, { time: timeOf(ticket.serving_at) }) : "";
  } else {
    $("now-detail").textContent = S.nobody_current;
    statusEl.textContent = "";
  }
  const paused = c && c.state === "paused";
  $("counter-state").textContent = paused ? S.paused_state : S.open_state;
  $("counter-state").dataset.state = paused ? "paused" : "open";
  $("pause-label").textContent = paused ? S.open : S.pause;
  $("btn-pause").dataset.action = paused ? "open" : "pause";
  document.body.dataset.counterState = paused ? "paused" : "open";
  document.body.dataset.hasTicket = ticket ? "yes" : "no";
  document.body.dataset.ticketStatus = status;
  setBusy(busy);
}

function renderParked() {
  const list = $("parked");
  if (!list) return;
  list.replaceChildren();
  if (!parked.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = S.parked_none;
    list.append(li);
    return;
  }
  for (const t of parked) {
    const li = document.createElement("li");
    li.dataset.ticket = t.id;
    const num = document.createElement("span");
    num.className = "pnum";
    num.textContent = t.number;
    const info = document.createElement("span");
    info.className = "pinfo";
    const who = t.counter && t.counter.id !== counterId ? ` · ${(boot.counter_names || {})[t.counter.id] || t.counter.name}` : "";
    const booked = t.appointment ? " · " + fmt(S.booked_at, { time: timeOf(t.appointment.start) }) : "";
    info.textContent = depLabel(t.department) + booked + " · " + ((boot.languages || {})[t.lang] || t.lang) + who;
    const b = document.createElement("button");
    b.className = "btn small";
    b.type = "button";
    b.dataset.callTicket = t.id;
    b.textContent = S.call_back;
    b.setAttribute("aria-label", fmt(S.call_this, { number: t.number }));
    b.addEventListener("click", () => act("call", { ticket: t.id }));
    li.append(num, info, b);
    list.append(li);
  }
  setBusy(busy);
}

let parkedTimer = null;
function refreshParked() {
  if (!counterId || parkedTimer) return;
  parkedTimer = setTimeout(async () => {
    parkedTimer = null;
    try {
      const res = await fetch(`/desk/api/counters/${encodeURIComponent(counterId)}/parked`, {
        cache: "no-store",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf },
      });
      if (res.ok) {
        parked = (await res.json()).parked || [];
        renderParked();
      }
    } catch (err) {
      /* the next event tries again */
    }
  }, 80);
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
  const c = myCounter();
  const status = c && c.ticket ? c.ticket.status : "none";
  document.querySelectorAll("[data-action], [data-issue], [data-call-ticket]").forEach((b) => {
    b.disabled = value || (b.dataset.action === "serve" && status !== "called");
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
  onSnapshot: (snapshot, seq) => {
    alarms.reset(); // the standing alarms follow the snapshot again
    acceptState(snapshot, seq);
    refreshParked();
  },
  onEvent: (ev) => {
    if (ev.type.startsWith("alarm.")) alarms.handle(ev);
    else if (ev.type === "device.status") deviceStatus(ev);
    else {
      refreshSoon();
      if (["ticket.parked", "ticket.called", "ticket.void", "site.changed"].includes(ev.type)) refreshParked();
    }
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
  if (data && (action === "park" || action === "call")) refreshParked();
  return data;
}

// The silent alarm: never held back by a request in flight, never a sound at this desk.
async function raiseAlarm() {
  if (!counterId) return;
  try {
    const { status, data } = await postJSON(`/desk/api/counters/${encodeURIComponent(counterId)}/alarm`, {}, csrf);
    if (status === 401) {
      location.assign("/desk/signin?expired=1");
      return;
    }
    if (status < 400 && data.alarm) {
      alarms.handle({ type: "alarm.raised", alarm: data.alarm });
      say(S.alarm_sent, "ok");
    } else {
      say((data.error && data.error.message) || S.failed, "error");
    }
  } catch (err) {
    say(S.offline, "error");
  }
}
if ($("btn-alarm")) $("btn-alarm").addEventListener("click", raiseAlarm);

if ($("call-form")) {
  $("call-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("call-number");
    const wanted = input.value.trim();
    if (!wanted) {
      say(S.type_number, "error");
      input.focus();
      return;
    }
    const data = await act("call", { ticket: wanted });
    if (data) {
      input.value = "";
      input.blur();
    }
  });
  $("call-number").addEventListener("keydown", (e) => {
    if (e.key === "Escape") e.target.blur();
  });
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
  if (b.dataset.action === "call") return; // the call form's own submit button
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

const KEYS = { n: "next", a: "serve", r: "recall", x: "no-show", d: "done", t: "transfer", l: "park", p: "pause", c: "call" };
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey && e.altKey && !e.metaKey && e.code === "KeyA") {
    e.preventDefault(); // the silent alarm's chord works from anywhere on the page
    if (!e.repeat) raiseAlarm();
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
  const tag = (e.target && e.target.tagName) || "";
  if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) || $("transfer-dialog").open) return;
  const action = KEYS[e.key.toLowerCase()];
  if (!action || !counterId) return;
  e.preventDefault();
  if (action === "transfer") openTransfer();
  else if (action === "pause") act($("btn-pause").dataset.action);
  else if (action === "call") $("call-number").focus();
  else if (action === "serve" && $("btn-serve").disabled) return;
  else act(action);
});

renderFaults();
alarms.reset(boot.alarms || []);
renderParked();
if (boot.state) acceptState(boot.state);
setInterval(renderQueues, 15000); // the oldest wait grows without any event
live.start();
