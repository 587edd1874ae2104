// One visitor's ticket, live: refreshed from GET /api/v1/tickets/{id} whenever the socket says
// something changed in its department (or about the ticket itself). Shows nothing else.
import { Live, fmt, readBoot } from "./live.js";

const boot = readBoot();
const S = boot.strings;
const $ = (id) => document.getElementById(id);
let ticket = boot.ticket;
let calledCounter = null; // {id, name} from the call event
const baseTitle = document.title;

function render() {
  const box = $("ticket");
  box.dataset.status = ticket.status;
  // the counter's name in the page's language (the site file's names), else the one sent
  const counter = calledCounter || ticket.counter;
  const counterName = counter ? boot.counters[counter.id] || counter.name || counter.id : "";
  let headline = S.waiting;
  let ahead = "";
  let wait = "";
  if (ticket.status === "waiting") {
    ahead = ticket.ahead === 0 ? S.ahead_0 : fmt(S.ahead_n, { n: ticket.ahead });
    if (ticket.estimated_wait_s != null) {
      const min = Math.round(ticket.estimated_wait_s / 60);
      wait = min >= 1 ? fmt(S.wait_min, { min }) : S.wait_soon;
    }
    document.title = baseTitle;
  } else if (ticket.status === "called") {
    headline = S.called;
    ahead = fmt(S.go_to, { counter: counterName });
    document.title = `${S.title_called} ${ticket.number} → ${counterName}`;
  } else if (ticket.status === "serving") {
    headline = fmt(S.serving, { counter: counterName });
  } else {
    headline = S[ticket.status] || S.void;
    document.title = baseTitle;
  }
  $("t-dep").textContent = boot.departments[ticket.department] || ticket.department;
  $("t-headline").textContent = headline;
  $("t-ahead").textContent = ahead;
  $("t-wait").textContent = wait;
}

let timer = null;
function refresh(delay = 150) {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    try {
      const res = await fetch(`/api/v1/tickets/${encodeURIComponent(ticket.id)}`, { cache: "no-store" });
      if (!res.ok) return;
      const fresh = await res.json();
      if (fresh.status !== "called") calledCounter = null;
      const wasCalled = ticket.status === "called";
      ticket = fresh;
      render();
      if (!wasCalled && ticket.status === "called" && navigator.vibrate) navigator.vibrate([300, 150, 300]);
    } catch (err) {
      /* the socket reconnects and triggers another refresh */
    }
  }, delay);
}

const live = new Live({
  onSnapshot: () => refresh(0),
  onEvent: (ev) => {
    const t = ev.ticket || {};
    if (t.id === ticket.id) {
      if ((ev.type === "ticket.called" || ev.type === "ticket.recalled") && ev.counter) {
        calledCounter = ev.counter;
      }
      refresh(0);
    } else if (t.department === ticket.department || ev.type === "counter.changed" || ev.type === "site.changed") {
      refresh(400);
    }
  },
  onStatus: (s) => {
    $("live").dataset.state = s;
    $("live").textContent = s === "live" ? S.live : S.reconnecting;
  },
});

render();
live.start();
setInterval(() => refresh(0), 60000); // a phone that slept may have missed the socket closing
