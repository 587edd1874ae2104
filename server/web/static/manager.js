// The manager's live view: queues (who passes the wait target, and when), counters (open or
// paused, current ticket, idle time), the site's and each department's open/close for today,
// the boards' message line, and the silent alarm. Refreshed from /manager/api/live whenever the
// event socket says something changed, and every 15 s (waits grow without events).
import { pageAlarms } from "./alarms.js";
import { Live, fmt, postJSON, readBoot } from "./live.js";

const boot = readBoot();
const S = boot.strings;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
let live = boot.live;

const alarms = pageAlarms(boot, csrf);

function timeOf(iso) {
  const d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleTimeString(boot.lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: boot.timezone });
}

// A table row named by ``dataset[key] = id`` whose header cell says ``text``.
function headedRow(key, id, text) {
  const row = document.createElement("tr");
  row.dataset[key] = id;
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = text;
  row.append(th);
  return row;
}

const minutes = (s) => fmt(S.min, { min: Math.floor(s / 60) });

function cell(row, text, cls) {
  const td = document.createElement("td");
  if (cls) td.className = cls;
  if (text instanceof Node) td.append(text);
  else td.textContent = text;
  row.append(td);
  return td;
}

// Only the levers that change something: close what is open, open what is closed, and back to
// the opening hours once a manager has set it by hand.
function levers(open, override) {
  const out = [];
  if (override !== null && override !== undefined) out.push(["hours", S.back_to_hours, false]);
  if (open) out.push(["close", S.close_now, true]);
  else out.push(["open", S.open_now, false]);
  return out;
}

function switchButtons(kind, id, name, open, override) {
  const box = document.createElement("span");
  box.className = "switch";
  for (const [how, label, danger] of levers(open, override)) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = danger ? "btn small danger" : "btn small";
    b.textContent = label;
    b.dataset[kind] = id;
    b.dataset.how = how;
    b.setAttribute("aria-label", `${label}: ${name}`);
    b.addEventListener("click", () => switchDepartment(id, how, name));
    box.append(b);
  }
  return box;
}

function render() {
  const site = live.site;
  const state = $("site-state");
  state.dataset.open = String(site.open);
  state.textContent = (site.open ? S.open : S.closed) + (site.override !== null && site.override !== undefined ? ` (${S.by_hand})` : "");
  $("site-at").textContent = timeOf(live.at);
  const wanted = levers(site.open, site.override).map(([how]) => how);
  document.querySelectorAll("[data-site]").forEach((b) => {
    b.hidden = !wanted.includes(b.dataset.site);
  });

  const deps = $("departments").querySelector("tbody");
  deps.replaceChildren();
  for (const d of live.departments) {
    const row = headedRow("department", d.id, `${d.prefix} · ${boot.departments[d.id] || d.id}`);
    const st = cell(row, (d.open ? S.open : S.closed) + (d.override !== null ? ` (${S.by_hand})` : ""));
    st.className = "state";
    st.dataset.open = String(d.open);
    cell(row, String(d.waiting), "num");
    cell(row, d.longest_wait_s === null ? S.nobody_waiting : minutes(d.longest_wait_s), "num");
    cell(row, minutes(d.estimated_wait_s), "num");
    const risk = document.createElement("ul");
    risk.className = "risk";
    if (!d.at_risk.length) {
      const li = document.createElement("li");
      li.textContent = d.waiting ? S.none_at_risk : "–";
      risk.append(li);
    }
    for (const t of d.at_risk) {
      const li = document.createElement("li");
      li.dataset.over = String(t.over);
      li.dataset.number = t.number;
      li.textContent = t.over
        ? fmt(S.over_since, { number: t.number, time: timeOf(t.passes_at), min: Math.floor(t.waited_s / 60) })
        : fmt(S.will_pass, { number: t.number, time: timeOf(t.passes_at), call: timeOf(t.expected_call_at) });
      risk.append(li);
    }
    cell(row, risk);
    if (boot.can_switch) cell(row, switchButtons("department", d.id, boot.departments[d.id] || d.id, d.open, d.override));
    deps.append(row);
  }

  const counters = $("counters").querySelector("tbody");
  counters.replaceChildren();
  for (const c of live.counters) {
    const row = headedRow("counter", c.id, boot.counter_names[c.id] || c.name);
    const st = cell(row, c.state === "paused" ? S.paused : S.counter_open);
    st.className = "state";
    st.dataset.open = String(c.state !== "paused");
    const t = c.ticket;
    cell(row, t ? fmt(t.status === "serving" ? S.serving : S.called, { number: t.number, time: timeOf(t.since) }) : "–");
    cell(row, t ? (boot.languages[t.lang] || t.lang) : "–");
    cell(row, t ? "–" : c.idle_s === null ? S.not_used : fmt(S.idle_for, { min: Math.floor(c.idle_s / 60) }), "num");
    counters.append(row);
  }

  const lines = $("lines");
  lines.replaceChildren();
  if (!live.messages.length) {
    const li = document.createElement("li");
    li.textContent = S.no_lines;
    lines.append(li);
  }
  for (const m of live.messages) {
    const li = document.createElement("li");
    li.textContent = m[boot.lang] || Object.entries(m).filter(([k]) => k !== "until").map(([, v]) => v)[0] || "";
    lines.append(li);
  }
}

function say(id, text, kind = "ok") {
  const el = $(id);
  if (!el) return;
  el.textContent = text;
  el.dataset.kind = kind;
}

async function post(url, body, where) {
  try {
    const { status, data } = await postJSON(url, body, csrf);
    if (status === 401) {
      location.assign("/desk/signin?expired=1&next=/manager");
      return null;
    }
    if (status >= 400) {
      say(where, (data.error && data.error.message) || S.failed, "error");
      return null;
    }
    say(where, data.message || "");
    if (data.live) {
      live = data.live;
      render();
    }
    return data;
  } catch (err) {
    say(where, S.failed, "error");
    return null;
  }
}

async function switchDepartment(id, how, name) {
  if (how === "close" && !confirm(fmt(S.confirm_close_dep, { department: name }))) return;
  await post(`/manager/api/departments/${encodeURIComponent(id)}/${how}`, {}, "msg-site");
}

document.querySelectorAll("[data-site]").forEach((b) => {
  b.addEventListener("click", async () => {
    if (b.dataset.site === "close" && !confirm(S.confirm_close_site)) return;
    await post(`/manager/api/site/${b.dataset.site}`, {}, "msg-site");
  });
});

let timer = null;
function refresh() {
  if (timer) return;
  timer = setTimeout(async () => {
    timer = null;
    try {
      const res = await fetch("/manager/api/live", { cache: "no-store", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });
      if (res.status === 401) location.assign("/desk/signin?expired=1&next=/manager");
      if (res.ok) {
        live = await res.json();
        render();
      }
    } catch (err) {
      /* the socket reconnects and we try again */
    }
  }, 150);
}

new Live({
  onSnapshot: () => {
    alarms.reset();
    refresh();
  },
  onEvent: (ev) => {
    if (ev.type.startsWith("alarm.")) alarms.handle(ev);
    else refresh();
  },
  onStatus: (s) => {
    $("live").dataset.state = s;
    $("live").textContent = s === "live" ? S.live : s === "connecting" ? S.connecting : S.reconnecting;
  },
}).start();

alarms.reset(live.alarms || []);
render();
setInterval(refresh, 15000);
