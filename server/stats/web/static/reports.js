// Today's figures on the report page, refreshed every 10 s from /api/v1/stats (same session).
// No build step: a plain module. If a request fails the old figures stay and the note says so.
const box = document.getElementById("today");
const note = document.getElementById("live-note");
const POLL_MS = 10000;
// en-GB for English: a Nordic municipality's English writes 26/10/2026, 4.5
const locale = box && box.dataset.lang !== "en" ? box.dataset.lang : "en-GB";
const minutes = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

function isoToday() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function show(row) {
  for (const el of box.querySelectorAll("[data-k]")) {
    const k = el.dataset.k;
    let v = k === "waiting" ? (row.issued || 0) - (row.called || 0) - (row.void || 0) : row[k];
    if (v === undefined || v === null) { el.textContent = "–"; continue; }
    if (el.dataset.min) v = minutes.format(v / 60); // "4,5" on a Norwegian page
    if (el.dataset.pct) v = `${Math.round(100 * v)} %`;
    el.textContent = String(v);
  }
}

async function poll() {
  const day = isoToday();
  try {
    const res = await fetch(`/api/v1/stats?from=${day}&to=${day}&per=site&by=day`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (!res.ok) throw new Error(String(res.status));
    const body = await res.json();
    show(body.rows[0] || { issued: 0, called: 0, served: 0 });
    note.classList.remove("stale");
  } catch (err) {
    note.classList.add("stale");
  }
}

if (box) setInterval(poll, POLL_MS);
