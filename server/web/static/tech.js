// The technician page: each form and button is a fetch with the CSRF header; the answer
// updates the page in place (a token's secret is shown once, never stored by the page).
import { Alarms } from "./alarms.js";
import { Live, fmt, postJSON, readBoot } from "./live.js";

const boot = readBoot();
const S = boot.strings;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);

// Each section has its own status line, so the answer appears where the technician looks.
function say(where, text, kind = "ok") {
  const el = where.closest("section").querySelector(".message");
  el.textContent = text;
  el.dataset.kind = kind;
}

async function post(where, url, body) {
  try {
    const { status, data } = await postJSON(url, body, csrf);
    if (status === 401) {
      location.assign("/desk/signin?expired=1&next=/tech");
      return null;
    }
    if (status >= 400) {
      say(where, (data.error && data.error.message) || S.failed, "error");
      return null;
    }
    say(where, "");
    return data;
  } catch (err) {
    say(where, S.failed, "error");
    return null;
  }
}

function formData(form) {
  return Object.fromEntries(new FormData(form).entries());
}

$("user-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = await post(e.target, "/tech/api/users", formData(e.target));
  if (data) location.reload();
});

$("token-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = await post(e.target, "/tech/api/tokens", formData(e.target));
  if (!data) return;
  const box = $("new-token");
  box.replaceChildren();
  const p = document.createElement("p");
  p.textContent = S.token_made;
  const code = document.createElement("code");
  code.id = "token-secret";
  code.textContent = data.token;
  box.append(p, code);
  box.hidden = false;
  const row = document.createElement("tr");
  const i = data.info;
  row.dataset.token = i.id;
  const name = document.createElement("th");
  name.scope = "row";
  name.textContent = i.name;
  row.append(name);
  for (const text of [i.role, i.counter || "–", "–", S.active]) {
    const td = document.createElement("td");
    td.textContent = text;
    row.append(td);
  }
  row.lastChild.dataset.cell = "status";
  const actions = document.createElement("td");
  const revoke = document.createElement("button");
  revoke.className = "btn small danger";
  revoke.dataset.revoke = i.id;
  revoke.textContent = S.revoke;
  actions.append(revoke);
  row.append(actions);
  $("tokens").querySelector("tbody").append(row);
  e.target.reset();
});

document.addEventListener("click", async (e) => {
  const b = e.target.closest("button");
  if (!b) return;
  if (b.dataset.revoke && confirm(S.confirm_revoke)) {
    const data = await post(b, `/tech/api/tokens/${b.dataset.revoke}/revoke`, {});
    if (data) {
      b.closest("tr").querySelector('[data-cell="status"]').textContent = S.revoked;
      b.remove();
    }
  } else if (b.dataset.disable && confirm(S.confirm_disable)) {
    const data = await post(b, `/tech/api/users/${encodeURIComponent(b.dataset.disable)}/disable`, {});
    if (data) {
      b.closest("tr").querySelector('[data-cell="status"]').textContent = S.disabled;
      b.remove();
    }
  } else if (b.dataset.identify) {
    const data = await post(b, `/tech/api/devices/${encodeURIComponent(b.dataset.identify)}/identify`, {});
    if (data) say(b, fmt(S.identify_sent, { device: b.dataset.name }));
  }
});

$("reset-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = await post(e.target, "/tech/api/reset", formData(e.target));
  if (data) {
    say(e.target, fmt(S.reset_done, { n: data.voided }));
    e.target.reset();
  }
});

// The silent alarm: shown here at once, with the counter's name and a tone.
const alarms = new Alarms({
  box: $("alarms"),
  strings: S,
  names: boot.counter_names,
  timezone: boot.timezone,
  lang: boot.lang,
  csrf,
  canClear: boot.can_clear_alarms,
});
alarms.reset(boot.alarms || []);

new Live({
  onSnapshot: () => alarms.reset(), // the standing alarms follow the snapshot again
  onEvent: (ev) => {
    if (ev.type.startsWith("alarm.")) {
      alarms.handle(ev);
      return;
    }
    if (ev.type !== "device.status" || !ev.device) return;
    const row = document.querySelector(`tr[data-device="${CSS.escape(ev.device.id)}"]`);
    if (!row) return; // a new device: shown on the next load
    const printer = ev.device.printer;
    const state = typeof printer === "string" ? printer : printer && (printer.state || printer.status);
    const cell = row.querySelector('[data-cell="printer"]');
    cell.textContent = (state && (S["printer_" + state] || state)) || "–";
    cell.dataset.state = state || "none";
    row.querySelector('[data-cell="seen"]').textContent = (ev.device.last_seen || "").slice(0, 19).replace("T", " ");
  },
  onStatus: (s) => {
    $("live").dataset.state = s;
    $("live").textContent = s === "live" ? S.live : S.reconnecting;
  },
}).start();
