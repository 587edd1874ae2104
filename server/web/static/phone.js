// One visitor's ticket, live, over the follow stream (PROTOCOL.md v1.1 "The public surface"):
// WS /api/v1/follow/{follow}/events sends {"type": "ticket", "ticket": {...}} first and again
// each time the ticket's view changes. The service computes each view once and pushes it; the
// page never polls and never sees any other ticket. Self-contained: the visitors' port serves
// only this file and ui.css.

const boot = JSON.parse(document.getElementById("boot").textContent);
const S = boot.strings;
const $ = (id) => document.getElementById(id);
let ticket = boot.ticket; // {number, department, status, ahead, estimated_wait_s, counter}
const baseTitle = document.title;

function fmt(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, k) => (k in values ? String(values[k]) : ""));
}

function render() {
  $("ticket").dataset.status = ticket.status;
  const counter = ticket.counter;
  // the counter's name in the page's language (the site file's names), else the one sent
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
    document.title = baseTitle;
  } else {
    headline = S[ticket.status] || S.void;
    document.title = baseTitle;
  }
  $("t-number").textContent = ticket.number;
  $("t-dep").textContent = boot.departments[ticket.department] || ticket.department;
  $("t-headline").textContent = headline;
  $("t-ahead").textContent = ahead;
  $("t-wait").textContent = wait;
}

function status(state) {
  $("live").dataset.state = state;
  $("live").textContent = state === "live" ? S.live : state === "connecting" ? "" : S.reconnecting;
}

let ws = null;
let backoff = 500;

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let sock;
  try {
    sock = new WebSocket(`${scheme}://${location.host}/api/v1/follow/${encodeURIComponent(boot.follow)}/events`);
  } catch (err) {
    retry();
    return;
  }
  ws = sock;
  sock.onopen = () => {
    backoff = 500;
  };
  sock.onmessage = (msg) => {
    let data;
    try {
      data = JSON.parse(msg.data);
    } catch (err) {
      return;
    }
    if (data.type !== "ticket" || !data.ticket) return; // a type this page does not know
    const wasCalled = ticket.status === "called";
    ticket = data.ticket;
    status("live");
    render();
    if (!wasCalled && ticket.status === "called" && navigator.vibrate) navigator.vibrate([300, 150, 300]);
  };
  sock.onclose = () => {
    if (ws === sock) {
      ws = null;
      retry();
    }
  };
  sock.onerror = () => sock.close();
}

function retry() {
  status("reconnecting");
  const wait = backoff;
  backoff = Math.min(backoff * 2, 15000); // thousands of phones must not hammer a restarting service
  setTimeout(connect, wait + Math.random() * 500);
}

// A phone waking from sleep may hold a dead socket: look again when the page is shown.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && (!ws || ws.readyState > 1)) connect();
});

render();
status("connecting");
connect();
