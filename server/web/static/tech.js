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
  } else if (b.dataset.approve) {
    const form = b.closest("tr").querySelector(".approve-form");
    const data = await post(b, `/tech/api/enrolments/${encodeURIComponent(b.dataset.approve)}/approve`, formData(form));
    if (data) {
      say(b, fmt(S.approved, { device: data.device.name }));
      await refreshDevices();
    }
  } else if (b.dataset.refuse) {
    const data = await post(b, `/tech/api/enrolments/${encodeURIComponent(b.dataset.refuse)}/refuse`, {});
    if (data) {
      say(b, fmt(S.refused, { code: spaced(data.code) }));
      await refreshDevices();
    }
  } else if (b.dataset.rename) {
    const name = prompt(fmt(S.ask_name, { device: b.dataset.name }), b.dataset.name);
    if (!name || !name.trim()) return;
    const data = await post(b, `/tech/api/devices/${encodeURIComponent(b.dataset.rename)}/rename`, { name: name.trim() });
    if (data) {
      say(b, fmt(S.renamed, { name: data.device.name }));
      await refreshDevices();
    }
  } else if (b.dataset.remove && confirm(S.confirm_remove)) {
    const data = await post(b, `/tech/api/devices/${encodeURIComponent(b.dataset.remove)}/remove`, {});
    if (data) {
      say(b, fmt(S.removed, { device: b.dataset.name }));
      await refreshDevices();
    }
  }
});

// -- devices (issue 13): the codes waiting, the device list; polled, updated in place ------------

const locale = boot.lang === "en" ? "en-GB" : boot.lang; // day before month, 24-hour clock
const timeFmt = new Intl.DateTimeFormat(locale, { timeZone: boot.timezone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const seenFmt = new Intl.DateTimeFormat(locale, {
  timeZone: boot.timezone, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
const when = (iso, f) => (iso ? f.format(new Date(iso)) : "–");
const spaced = (code) => (code && code.length === 6 ? `${code.slice(0, 3)} ${code.slice(3)}` : code || "");

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children);
  return node;
}

function button(text, data, kind = "") {
  const b = el("button", { type: "button", className: `btn small ${kind}`.trim(), textContent: text });
  for (const [k, v] of Object.entries(data)) b.dataset[k] = v;
  return b;
}

function choice(label, name, options) {
  const select = el("select", { name, ariaLabel: label });
  for (const [value, text] of options) select.append(el("option", { value, textContent: text }));
  return select;
}

function approveForm(p) {
  const form = el("div", { className: "approve-form" });
  form.append(el("input", { name: "name", value: p.name || p.device, maxLength: 100, ariaLabel: S.device_name, autocomplete: "off" }));
  if (p.role === "display") {
    const zones = [["", S.all_zones], ...(boot.zones || []).map((z) => [z.id, z.name])];
    form.append(choice(S.zone, "zone", zones));
  } else if (p.role === "kiosk" && (boot.printers || []).length) {
    const printers = boot.printers.map((id) => [id, id]);
    const select = choice(S.printer, "printer", printers);
    if (boot.kiosk_printer) select.value = boot.kiosk_printer;
    form.append(select);
  }
  form.append(button(S.approve, { approve: p.code }, "primary"), button(S.refuse, { refuse: p.code }, "danger"));
  return form;
}

function formData(root) {
  if (root instanceof HTMLFormElement) return Object.fromEntries(new FormData(root).entries());
  const out = {};
  for (const field of root.querySelectorAll("input, select")) out[field.name] = field.value;
  return out;
}

// Rows keyed by code / device id: a row that stays is updated, never rebuilt (a name being typed
// into an approval form survives the poll).
function reconcile(tbody, key, items, make, update) {
  const seen = new Set();
  for (const item of items) {
    const id = String(item[key === "code" ? "code" : "id"]);
    seen.add(id);
    let row = tbody.querySelector(`tr[data-${key}="${CSS.escape(id)}"]`);
    if (!row) {
      row = make(item);
      row.dataset[key] = id;
      tbody.append(row);
    }
    update(row, item);
  }
  for (const row of [...tbody.rows]) if (!seen.has(row.dataset[key])) row.remove();
}

function pendingRow(p) {
  return el("tr", {},
    el("th", { scope: "row" }, el("span", { className: "enrol-code", textContent: spaced(p.code) })),
    el("td", { textContent: S["role_" + p.role] || p.role }),
    el("td", {}, el("strong", { textContent: p.name }), el("br"), el("span", { className: "small", textContent: p.device })),
    el("td", { textContent: p.address }),
    el("td", { "data-cell": "expires" }),
    el("td", {}, approveForm(p)),
  );
}

function deviceRow() {
  return el("tr", {},
    el("th", { scope: "row" }, el("span", { "data-cell": "name" }), el("br"), el("span", { className: "small", "data-cell": "id" })),
    el("td", { "data-cell": "role" }), el("td", { "data-cell": "zone" }), el("td", { "data-cell": "version" }),
    el("td", {}, el("time", { "data-cell": "seen" })), el("td", { "data-cell": "printer" }),
    el("td", { "data-cell": "connected" }), el("td", {}, el("div", { className: "device-actions" })),
  );
}

function fillDevice(row, d) {
  const cell = (name) => row.querySelector(`[data-cell="${name}"]`);
  const name = d.name || d.id;
  cell("name").textContent = name;
  cell("id").textContent = d.address ? `${d.id} · ${d.address}` : d.id;
  cell("role").textContent = S["role_" + d.role] || d.role;
  const zone = (boot.zones || []).find((z) => z.id === d.zone);
  cell("zone").textContent = d.role === "board" || d.role === "display" ? (zone ? zone.name : d.zone || S.all_zones) : "–";
  cell("version").textContent = d.version || "–";
  cell("seen").textContent = when(d.last_seen, seenFmt);
  const printer = cell("printer");
  printer.textContent = (d.printer_state && (S["printer_" + d.printer_state] || d.printer_state)) || (d.role === "kiosk" && d.printer_id) || "–";
  printer.dataset.state = d.printer_state || "none";
  const connected = cell("connected");
  connected.textContent = d.connected ? S.connected : S.not_connected;
  connected.dataset.state = d.connected ? "yes" : "no";
  const actions = row.querySelector(".device-actions");
  const wanted = [button(S.identify, { identify: d.id, name })];
  if (d.enrolled) wanted.push(button(S.rename, { rename: d.id, name }), button(S.remove, { remove: d.id, name }, "danger"));
  const same = actions.children.length === wanted.length && [...actions.children].every((b, i) => b.isEqualNode(wanted[i]));
  if (!same) actions.replaceChildren(...wanted);
}

function showDevices(data) {
  const pending = data.pending || [];
  const devices = data.devices || [];
  reconcile($("pending").tBodies[0], "code", pending, pendingRow, (row, p) => {
    row.querySelector('[data-cell="expires"]').textContent = fmt(S.until, { time: when(p.expires_at, timeFmt) });
  });
  reconcile($("devices").tBodies[0], "device", devices, deviceRow, fillDevice);
  $("pending").hidden = pending.length === 0;
  $("no-pending").hidden = pending.length > 0;
  $("no-pending").textContent = S.no_pending;
  $("devices").hidden = devices.length === 0;
  $("no-devices").hidden = devices.length > 0;
  $("no-devices").textContent = S.no_devices;
}

async function refreshDevices() {
  try {
    const res = await fetch("/tech/api/devices", { headers: { "X-CSRF-Token": csrf }, cache: "no-store" });
    if (res.status === 401) {
      location.assign("/desk/signin?expired=1&next=/tech");
      return;
    }
    if (res.ok) showDevices(await res.json());
  } catch (err) {
    // the service is restarting: the next poll shows the list again
  }
}

showDevices(boot);
setInterval(refreshDevices, 2000);

// -- the site file: reloaded on demand, the outcome (or the file, key and problem) shown ----------

$("reload-site").addEventListener("click", async (e) => {
  const where = e.target;
  try {
    const { status, data } = await postJSON("/tech/api/config/reload", {}, csrf);
    if (status === 401) {
      location.assign("/desk/signin?expired=1&next=/tech");
      return;
    }
    if (status === 422 && data.error) {
      say(where, `${S.not_reloaded} ${data.error.message}`, "error");
      return;
    }
    if (status >= 400) {
      say(where, (data.error && data.error.message) || S.failed, "error");
      return;
    }
    let text = data.changed ? fmt(S.reloaded, { version: data.version }) : S.unchanged;
    if (data.restart && data.restart.length) text += " " + fmt(S.restart, { keys: data.restart.join(", ") });
    say(where, text, data.restart && data.restart.length ? "warn" : "ok");
  } catch (err) {
    say(where, S.failed, "error");
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
    row.querySelector('[data-cell="seen"]').textContent = when(ev.device.last_seen, seenFmt);
  },
  onStatus: (s) => {
    $("live").dataset.state = s;
    $("live").textContent = s === "live" ? S.live : S.reconnecting;
  },
}).start();
