// Reception triage (issue 15): book a time for a walk-in and show its code as a QR code; list
// the day's booked visits with the time to their start, and warn when a checked-in visit whose
// time has come is still waiting. Its own module: the desk page's script is desk.js.
import { fmt, postJSON, randomKey } from "./live.js";

const T = JSON.parse(document.getElementById("triage-boot").textContent);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
const names = new Map(T.departments.map((d) => [d.id, d.label]));
const clock = (iso) => iso.slice(11, 16); // the service sends the site's own offset

function say(text) {
  const box = $("triage-message");
  box.textContent = text;
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
  refresh();
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
refresh();
setInterval(refresh, 15000);
