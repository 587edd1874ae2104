// The visit's questions on the visitor's phone (issue 16, PROTOCOL.md v1.1 "Visitor feedback").
// Once the followed ticket is done (phone.js sets #ticket's data-status from the follow stream),
// the site's questions are asked once: POST /api/v1/follow/{follow}/feedback with the answers
// given. The service takes one answer per ticket (409 already_answered) and only after done
// (409 not_done); a refused or already given answer ends in the thank-you line, never a retry loop.
// Self-contained: the visitors' port serves only phone.js, this file and ui.css.

const boot = JSON.parse(document.getElementById("boot").textContent);
const fb = boot.feedback;
const S = fb ? fb.strings : {};
const box = document.getElementById("fb");
const ticketEl = document.getElementById("ticket");
const chosen = {}; // question id -> value (the last tap on a question wins)
let state = fb && fb.answered ? "answered" : "idle"; // idle | asking | sending | answered

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

const SVG = "http://www.w3.org/2000/svg";
const FACE_FILL = ["#f28b82", "#f7b96b", "#f5dc6e", "#b5dc8a", "#7fcf8e"]; // as the exit terminal's

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// A face drawn, not an emoji (a phone's emoji font is not the same everywhere): disc, eyes and
// a mouth from a frown (1) to a smile (5); the word under it says the same.
function face(value) {
  const bend = ((value - 3) / 2) * 9;
  const g = svg("svg", { viewBox: "0 0 40 40", width: "36", height: "36", "aria-hidden": "true", class: "mark" });
  g.append(
    svg("circle", { cx: "20", cy: "20", r: "18", fill: FACE_FILL[value - 1], stroke: "#0b2239", "stroke-width": "1.5" }),
    svg("circle", { cx: "14", cy: "16", r: "2.3", fill: "#0b2239" }),
    svg("circle", { cx: "26", cy: "16", r: "2.3", fill: "#0b2239" }),
    svg("path", { d: `M12 26 Q20 ${26 + bend} 28 26`, fill: "none", stroke: "#0b2239", "stroke-width": "2.6", "stroke-linecap": "round" }),
  );
  return g;
}

function choices(q) {
  if (q.scale === "faces") return [1, 2, 3, 4, 5].map((v) => [v, S.faces[v - 1], face(v)]);
  return [[1, S.yes, el("span", { class: "mark", "aria-hidden": "true" }, "✔")], [0, S.no, el("span", { class: "mark", "aria-hidden": "true" }, "✘")]];
}

function ask() {
  state = "asking";
  box.replaceChildren();
  box.append(el("h2", { id: "fb-title" }, S.title), el("p", { class: "hint" }, S.intro));
  const form = el("form", { id: "fb-form", novalidate: "" });
  for (const q of fb.questions) {
    const group = el("fieldset", { class: "fb-q", "data-q": q.id });
    group.append(el("legend", {}, q.text));
    const row = el("div", { class: `fb-choices ${q.scale}`, role: "radiogroup", "aria-label": q.text });
    for (const [value, label, mark] of choices(q)) {
      const b = el("button", { type: "button", class: "fb-choice", "data-v": String(value), "aria-pressed": "false" });
      b.append(mark, el("span", { class: "word" }, label));
      b.addEventListener("click", () => {
        chosen[q.id] = value;
        for (const other of row.children) other.setAttribute("aria-pressed", String(other === b));
        send.disabled = false;
      });
      row.append(b);
    }
    group.append(row);
    form.append(group);
  }
  const send = el("button", { type: "submit", class: "btn primary", id: "fb-send" }, S.send);
  send.disabled = true;
  const skip = el("button", { type: "button", class: "btn", id: "fb-skip" }, S.skip);
  skip.addEventListener("click", () => finish(""));
  const problem = el("p", { class: "problem", id: "fb-problem", role: "alert" });
  form.append(send, skip, problem);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (state !== "asking" || Object.keys(chosen).length === 0) return;
    state = "sending";
    send.disabled = true;
    try {
      const r = await fetch(`/api/v1/follow/${encodeURIComponent(boot.follow)}/feedback`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ answers: chosen, lang: boot.lang }),
      });
      if (r.status === 201 || r.status === 409) return finish(S.thanks); // 409: answered already
      throw new Error(`HTTP ${r.status}`);
    } catch (err) {
      state = "asking";
      send.disabled = false;
      problem.textContent = S.failed;
    }
  });
  box.append(form);
  box.hidden = false;
}

function finish(text) {
  state = "answered";
  box.replaceChildren();
  if (text) box.append(el("p", { class: "fb-thanks", id: "fb-thanks", role: "status" }, text));
  box.hidden = !text;
}

function look() {
  if (state === "idle" && fb && fb.questions.length && ticketEl.dataset.status === "done") ask();
}

if (fb && box && ticketEl) {
  new MutationObserver(look).observe(ticketEl, { attributes: true, attributeFilter: ["data-status"] });
  look();
}
