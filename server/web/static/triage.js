// Reception triage (issue 15): book a time for a walk-in and show its code as a QR code, and print
// its slip at a connected kiosk ("Print at kiosk"); list the day's booked visits with the time to
// their start, and warn when a checked-in visit whose time has come is still waiting. Its own
// module: the desk page's script is desk.js.
import { fmt, postJSON, randomKey } from "./live.js";

const T = JSON.parse(document.getElementById("triage-boot").textContent);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
const names = new Map(T.departments.map((d) => [d.id, d.label]));
const clock = (iso) => iso.slice(11, 16); // the service sends the site's own offset
let booked = null; // the reference of the visit just booked (its slip can be printed)

function say(text, kind = "error") {
  const box = $("triage-message");
  box.textContent = text;
  box.dataset.kind = kind;
  box.hidden = !text;
}

async function book(event) {
  event.preventDefault();
  const form = event.target;
  const body = { key: randomKey(), department: form.department.value, time: form.time.value };
  const { status, data } = await postJSON("/desk/api/appointments", body, csrf);
  if (status !== 201) {
    say((data.error && data.error.message) || T.failed);
    return;
  }
  say("");
  $("triage-label").textContent = data.label;
  $("triage-qr").innerHTML = data.qr_svg; // drawn by the service (server/web/triage.py)
  $("triage-reference").textContent = data.appointment.reference.replace(/(....)(....)/, "$1 $2");
  $("triage-result").hidden = false;
  booked = data.appointment.reference;
  await kiosks();
  refresh();
}

function fill(select, items, chosen) {
  const keep = select.value || chosen;
  select.replaceChildren(
    ...items.map(([value, text]) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = text;
      return option;
    }),
  );
  if (items.some(([value]) => value === keep)) select.value = keep;
}

// The kiosks a slip can be printed at: enrolled, connected now (server/web/triage.py).
async function kiosks() {
  let data;
  try {
    const res = await fetch("/desk/api/kiosks", {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "X-CSRF-Token": csrf },
    });
    if (!res.ok) return;
    data = await res.json();
  } catch (err) {
    return;
  }
  const any = data.kiosks.length > 0;
  fill($("triage-kiosk"), data.kiosks.map((k) => [k.id, k.name]));
  fill($("triage-lang"), data.languages.map((l) => [l.code, l.name]), data.default);
  $("triage-slip").hidden = !any;
  $("triage-no-kiosk").hidden = any;
}

async function printSlip(event) {
  event.preventDefault();
  if (!booked) return;
  const form = event.target;
  const button = $("triage-print");
  button.disabled = true; // one slip per press
  try {
    const body = { key: randomKey(), kiosk: form.kiosk.value, lang: form.lang.value };
    const { status, data } = await postJSON(`/desk/api/appointments/${encodeURIComponent(booked)}/slip`, body, csrf);
    if (status === 202) say(data.message, "ok");
    else say((data.error && data.error.message) || T.slip_failed);
    if (status !== 202) await kiosks();
  } catch (err) {
    say(T.slip_failed);
  } finally {
    button.disabled = false;
  }
}

function line(a, now) {
  const li = document.createElement("li");
  const start = Date.parse(a.start);
  const minutes = Math.round((start - now) / 60000);
  const when = minutes >= 0 ? fmt(T.in_min, { min: minutes }) : fmt(T.ago_min, { min: -minutes });
  const due = a.status === "checked_in" && start <= now;
  li.className = due ? "due" : a.status;
  li.textContent = `${clock(a.start)} ${names.get(a.department) || a.department} · ${a.reference} · ${T.status[a.status] || a.status}`;
  if (a.status === "booked" || a.status === "checked_in") li.textContent += ` · ${when}`;
  if (due) {
    const warn = document.createElement("strong");
    warn.textContent = ` ${T.due}`;
    li.append(warn);
  }
  return li;
}

async function refresh() {
  let data;
  try {
    const res = await fetch("/api/v1/appointments", { credentials: "same-origin", cache: "no-store" });
    if (!res.ok) return;
    data = await res.json();
  } catch (err) {
    return;
  }
  const list = $("triage-list");
  const now = Date.now();
  list.replaceChildren(...data.appointments.filter((a) => a.status !== "cancelled").map((a) => line(a, now)));
  if (!list.children.length) {
    const empty = document.createElement("li"); // a list holds only items, even "none today"
    empty.className = "none";
    empty.textContent = T.none;
    list.append(empty);
  }
}

$("triage-form").addEventListener("submit", book);
$("triage-slip").addEventListener("submit", printSlip);
refresh();
setInterval(() => {
  refresh();
  if (booked) kiosks();
}, 15000);
