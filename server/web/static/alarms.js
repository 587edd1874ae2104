// The silent alarm on a staff page: a red banner per standing alarm with the counter's name,
// a tone (WebAudio, no file), and a Clear button for whoever may clear. The desk that raised it
// shows it quietly instead (no sound where the trouble is). Fed by the event socket's alarm.*
// messages; after every snapshot the standing alarms are sent again, so a reconnect starts clean.
import { fmt, postJSON } from "./live.js";

// The alarms of a staff page whose boot data carries the usual fields (strings, counter_names,
// timezone, lang, can_clear_alarms), shown in its #alarms box; ``extra`` adds or overrides options.
export function pageAlarms(boot, csrf, extra = {}) {
  return new Alarms({
    box: document.getElementById("alarms"),
    strings: boot.strings,
    names: boot.counter_names,
    timezone: boot.timezone,
    lang: boot.lang,
    csrf,
    canClear: boot.can_clear_alarms,
    ...extra,
  });
}

export class Alarms {
  constructor({ box, strings, names, timezone, lang, csrf, ownCounter = null, canClear = false, onSay = () => {} }) {
    this.box = box;
    this.S = strings;
    this.names = names || {};
    this.timezone = timezone;
    this.lang = lang;
    this.csrf = csrf;
    this.own = ownCounter;
    this.canClear = canClear;
    this.onSay = onSay;
    this.standing = new Map();
    this.audio = null;
    this.tones = 0;
  }

  reset(list = []) {
    this.standing.clear();
    for (const alarm of list) this.standing.set(alarm.id, alarm);
    this.render();
  }

  handle(message) {
    const alarm = message.alarm;
    if (!alarm || !alarm.id) return;
    if (message.type === "alarm.raised") {
      const fresh = !this.standing.has(alarm.id);
      this.standing.set(alarm.id, alarm);
      this.render();
      if (fresh && alarm.counter.id !== this.own) this.sound();
    } else if (message.type === "alarm.cleared") {
      this.standing.delete(alarm.id);
      this.render();
    }
  }

  time(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString(this.lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: this.timezone });
  }

  render() {
    this.box.replaceChildren();
    for (const alarm of this.standing.values()) {
      const own = alarm.counter.id === this.own;
      const p = document.createElement("div");
      p.className = own ? "alarm own" : "alarm";
      p.dataset.alarm = alarm.id;
      p.dataset.counter = alarm.counter.id;
      const text = document.createElement("span");
      const name = this.names[alarm.counter.id] || alarm.counter.name;
      text.textContent = own ? fmt(this.S.alarm_own, { time: this.time(alarm.at) }) : fmt(this.S.alarm_at, { counter: name, time: this.time(alarm.at) });
      p.append(text);
      if (this.canClear) {
        const b = document.createElement("button");
        b.className = "btn small";
        b.type = "button";
        b.textContent = this.S.alarm_clear;
        b.dataset.clearAlarm = alarm.id;
        b.addEventListener("click", () => this.clear(alarm.id));
        p.append(b);
      }
      this.box.append(p);
    }
    document.body.dataset.alarms = String([...this.standing.values()].filter((a) => a.counter.id !== this.own).length);
  }

  async clear(id) {
    try {
      const { status, data } = await postJSON(`/desk/api/alarms/${encodeURIComponent(id)}/clear`, {}, this.csrf);
      if (status < 400) {
        this.standing.delete(id);
        this.render();
        this.onSay(this.S.alarm_cleared, "ok");
      } else {
        this.onSay((data.error && data.error.message) || "", "error");
      }
    } catch (err) {
      this.onSay("", "error");
    }
  }

  // Three short tones. Browsers start audio only after the page was used once (a click or a
  // key); a desk in use always has been.
  sound() {
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      this.audio = this.audio || new Ctx();
      const ctx = this.audio;
      if (ctx.state === "suspended") ctx.resume();
      for (let i = 0; i < 3; i++) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = "square";
        osc.frequency.value = i % 2 ? 660 : 880;
        const start = ctx.currentTime + i * 0.35;
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.28);
        osc.connect(gain).connect(ctx.destination);
        osc.start(start);
        osc.stop(start + 0.3);
      }
      this.tones += 1;
      this.box.dataset.tones = String(this.tones);
    } catch (err) {
      /* no audio device: the banner still shows */
    }
  }
}
