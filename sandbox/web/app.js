// pensionbot sandbox: the people's side of a simulated Telegram. Each phone
// follows one person's chat through server-sent events (whole views, drawn
// with a keyed update so photos and audio are not reloaded) and turns what
// the person does into updates for the bot. Plain JavaScript, no build step.
"use strict";

const state = { people: [], languages: [], bot: null, phones: new Map() };

async function api(method, path, body) {
  const opts = { method, headers: { "X-Sandbox": "1" } };
  if (body instanceof FormData) {
    opts.body = body;
  } else if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  if (!resp.ok) {
    let msg = resp.status + " " + resp.statusText;
    try { msg = (await resp.json()).error || msg; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return resp.status === 204 ? null : resp.json();
}

async function main() {
  const large = document.getElementById("large-text");
  large.checked = localStorage.getItem("sandbox-large") === "1";
  document.body.classList.toggle("large", large.checked);
  large.addEventListener("change", () => {
    document.body.classList.toggle("large", large.checked);
    localStorage.setItem("sandbox-large", large.checked ? "1" : "0");
  });

  const info = await api("GET", "/api/people");
  state.people = info.people;
  state.languages = info.languages;
  state.bot = info.bot;
  const main = document.getElementById("phones");
  for (const p of state.people) {
    const phone = new Phone(p);
    state.phones.set(p.id, phone);
    main.appendChild(phone.el);
  }
  buildTabs();
  // One stream for every phone: browsers allow only six connections to a
  // host, and two tabs with a stream per phone would use them all.
  const es = new EventSource("/api/events");
  es.addEventListener("open", () => setLive(true));
  es.addEventListener("error", () => setLive(false));
  es.addEventListener("chat", (ev) => {
    const view = JSON.parse(ev.data);
    const phone = state.phones.get(view.person.id);
    if (phone) phone.render(view);
  });
  const params = new URLSearchParams(location.search);
  const only = params.get("person");
  if (only) {
    show(Number(only));
  } else {
    show(window.innerWidth >= 1250 ? "all" : state.people[0].id);
  }
}

function buildTabs() {
  const nav = document.getElementById("people-tabs");
  const add = (label, which, title) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.title = title;
    b.dataset.which = String(which);
    b.addEventListener("click", () => show(which));
    nav.appendChild(b);
  };
  add("Side by side", "all", "Show every simulated person at once");
  for (const p of state.people) {
    add(displayName(p) + " · " + p.role, p.id, "Show only this person's phone (user id " + p.id + ")");
  }
}

// show displays one person's phone, or all side by side ("all").
function show(which) {
  for (const [id, phone] of state.phones) {
    phone.el.hidden = !(which === "all" || which === id);
    // A hidden chat cannot scroll; show the newest messages when it appears.
    if (!phone.el.hidden) phone.scrollToEnd();
  }
  for (const b of document.querySelectorAll("#people-tabs button")) {
    b.setAttribute("aria-pressed", String(b.dataset.which === String(which)));
  }
  const url = new URL(location.href);
  if (which === "all") url.searchParams.delete("person"); else url.searchParams.set("person", String(which));
  history.replaceState(null, "", url);
}

function setLive(live) {
  for (const c of document.querySelectorAll(".conn")) c.classList.toggle("live", live);
}

// displayName writes Chinese names family name first without a space, and
// Latin ones given name first.
function displayName(p) {
  const parts = [p.first_name, p.last_name].filter(Boolean);
  if (/^[\x00-\x7f]*$/.test(parts.join(""))) return parts.join(" ");
  return parts.reverse().join("");
}

function fmtSeconds(s) {
  return Math.floor(s / 60) + ":" + String(Math.floor(s % 60)).padStart(2, "0");
}

class Phone {
  constructor(person) {
    this.person = person;
    this.base = "/api/people/" + person.id;
    this.el = document.getElementById("phone-tpl").content.firstElementChild.cloneNode(true);
    this.el.dataset.person = String(person.id);
    this.$ = (sel) => this.el.querySelector(sel);
    this.msgEls = new Map(); // message id -> {el, sig, text}
    this.seenToasts = new Set();
    this.firstView = true;
    this.view = null;
    this.keyboardOpen = false;

    this.$(".bot-first").textContent = state.bot ? state.bot.first_name : "Bot";
    this.$(".who-name").textContent = "You are " + displayName(person) + " · " + person.role + " · id " + person.id;
    const sel = this.$(".lang");
    for (const l of state.languages) {
      const o = document.createElement("option");
      o.value = l;
      o.textContent = l === "fr" ? "fr (not offered by the bot)" : l;
      sel.appendChild(o);
    }
    sel.value = person.language;
    sel.addEventListener("change", () => this.act(() => api("PUT", this.base + "/language", { language: sel.value })));

    this.bindComposer();
  }

  // act runs an action, showing its failure as a red toast.
  async act(fn) {
    try {
      return await fn();
    } catch (e) {
      this.toast(e.message, true);
      return null;
    }
  }

  toast(text, error) {
    const t = this.$(".toast");
    t.textContent = text;
    t.classList.toggle("error", !!error);
    t.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => { t.hidden = true; }, error ? 5000 : 3000);
  }

  bindComposer() {
    const input = this.$(".input");
    const form = this.$(".composer");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.sendText(input.value);
    });
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.sendText(input.value);
      }
    });
    input.addEventListener("input", () => {
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight, 120) + "px";
    });

    const menu = this.$(".menu-panel");
    const attach = this.$(".attach-panel");
    this.$(".menu-btn").addEventListener("click", () => { attach.hidden = true; menu.hidden = !menu.hidden; });
    this.$(".attach-btn").addEventListener("click", () => { menu.hidden = true; attach.hidden = !attach.hidden; });
    this.$(".kb-btn").addEventListener("click", () => {
      this.keyboardOpen = !this.keyboardOpen;
      this.renderKeyboard();
    });

    const photo = this.$(".file-photo");
    const camera = this.$(".file-camera");
    const doc = this.$(".file-doc");
    this.$(".attach-photo").addEventListener("click", () => { attach.hidden = true; photo.click(); });
    this.$(".attach-doc").addEventListener("click", () => { attach.hidden = true; doc.click(); });
    this.$(".attach-camera").addEventListener("click", () => { attach.hidden = true; this.openCamera(); });
    const upload = (inputEl, kind) => inputEl.addEventListener("change", () => {
      const f = inputEl.files[0];
      inputEl.value = "";
      if (f) this.upload(kind, f, f.name);
    });
    upload(photo, "photo");
    upload(camera, "photo");
    upload(doc, "document");

    this.$(".camera-cancel").addEventListener("click", () => this.closeCamera());
    this.$(".camera-snap").addEventListener("click", () => this.snap());
    this.$(".mic-btn").addEventListener("click", () => this.startRecording());
    this.$(".rec-cancel").addEventListener("click", () => this.stopRecording(false));
    this.$(".rec-send").addEventListener("click", () => this.stopRecording(true));
  }

  async sendText(text, fromKeyboard) {
    text = text.trim();
    if (!text) return;
    const input = this.$(".input");
    if (!fromKeyboard) input.value = "";
    input.style.height = "auto";
    this.$(".menu-panel").hidden = true;
    await this.act(() => api("POST", this.base + "/text", { text, keyboard: !!fromKeyboard }));
  }

  async upload(kind, blob, name, extra) {
    const fd = new FormData();
    fd.append("file", blob, name || kind);
    const caption = this.$(".input").value.trim();
    if (kind === "photo" && caption) {
      fd.append("caption", caption);
      this.$(".input").value = "";
    }
    for (const [k, v] of Object.entries(extra || {})) fd.append(k, v);
    await this.act(() => api("POST", this.base + "/" + kind, fd));
  }

  // openCamera takes a photo with the computer's camera; on a phone (coarse
  // pointer) or without camera access the system's camera picker opens.
  async openCamera() {
    const coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    if (coarse || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.$(".file-camera").click();
      return;
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      this.toast("No camera: " + e.message + ". Choose a picture instead.", true);
      this.$(".file-camera").click();
      return;
    }
    this.$(".camera-video").srcObject = this.stream;
    this.$(".camera").hidden = false;
  }

  closeCamera() {
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.$(".camera").hidden = true;
  }

  snap() {
    const video = this.$(".camera-video");
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    this.closeCamera();
    canvas.toBlob((blob) => { if (blob) this.upload("photo", blob, "camera.jpg"); }, "image/jpeg", 0.92);
  }

  // startRecording records a voice note. Telegram's voice notes are
  // OGG/Opus; Chromium records WebM/Opus only, which is sent as recorded.
  async startRecording() {
    if (!window.MediaRecorder || !navigator.mediaDevices) {
      this.toast("This browser cannot record audio.", true);
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      this.toast("No microphone: " + e.message, true);
      return;
    }
    const type = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus", "audio/webm"].find((t) => MediaRecorder.isTypeSupported(t)) || "";
    const rec = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    const chunks = [];
    rec.addEventListener("dataavailable", (ev) => { if (ev.data.size) chunks.push(ev.data); });
    const started = Date.now();
    const timeEl = this.$(".rec-time");
    timeEl.textContent = "0:00";
    const timer = setInterval(() => { timeEl.textContent = fmtSeconds((Date.now() - started) / 1000); }, 250);
    this.recorder = { rec, stream, chunks, started, timer, type };
    rec.start();
    this.$(".recording").hidden = false;
    this.$(".composer").hidden = true;
  }

  stopRecording(send) {
    const r = this.recorder;
    if (!r) return;
    this.recorder = null;
    clearInterval(r.timer);
    this.$(".recording").hidden = true;
    this.$(".composer").hidden = false;
    r.rec.addEventListener("stop", () => {
      r.stream.getTracks().forEach((t) => t.stop());
      if (!send || !r.chunks.length) return;
      const mime = r.rec.mimeType || r.type || "audio/ogg";
      const blob = new Blob(r.chunks, { type: mime });
      const seconds = Math.max(1, Math.round((Date.now() - r.started) / 1000));
      const ext = mime.includes("webm") ? "webm" : "ogg";
      this.upload("voice", blob, "voice." + ext, { duration: String(seconds) });
    });
    r.rec.stop();
  }

  scrollToEnd() {
    const box = this.$(".messages");
    box.scrollTop = box.scrollHeight;
  }

  render(view) {
    this.view = view;
    const box = this.$(".messages");
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    const seen = new Set();
    let prev = null;
    for (const m of view.messages) {
      seen.add(m.id);
      const sig = JSON.stringify(m);
      let entry = this.msgEls.get(m.id);
      if (!entry || entry.sig !== sig) {
        const el = this.drawMessage(m);
        if (entry) {
          // Edits flash, so that they are seen as they happen.
          if (!m.deleted && entry.text !== m.text) el.classList.add("flash");
          entry.el.replaceWith(el);
        }
        entry = { el, sig, text: m.text };
        this.msgEls.set(m.id, entry);
      }
      const want = prev ? prev.nextSibling : box.firstChild;
      if (want !== entry.el) box.insertBefore(entry.el, want);
      prev = entry.el;
    }
    for (const [id, entry] of this.msgEls) {
      if (!seen.has(id)) { entry.el.remove(); this.msgEls.delete(id); }
    }
    if (nearBottom || this.firstView) box.scrollTop = box.scrollHeight;

    this.renderMenu(view.commands);
    if (view.keyboard && !view.keyboard.used) this.keyboardOpen = true;
    if (!view.keyboard) this.keyboardOpen = false;
    this.renderKeyboard();
    for (const t of view.toasts) {
      if (!this.seenToasts.has(t.id)) {
        this.seenToasts.add(t.id);
        if (!this.firstView) this.toast(t.text);
      }
    }
    this.firstView = false;
  }

  drawMessage(m) {
    const el = document.createElement("div");
    el.className = "msg " + m.from + (m.deleted ? " deleted" : "");
    el.dataset.id = String(m.id);
    el.dataset.kind = m.kind;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    el.appendChild(bubble);
    const who = m.from === "bot" ? "The bot" : "You";
    if (m.deleted) {
      bubble.textContent = "🗑 " + who + (m.from === "bot" ? " deleted this message" : "r message was deleted by the bot") + (m.kind !== "text" ? " (" + m.kind + ")" : "");
      return el;
    }
    if (m.kind === "photo" && m.media) {
      const img = document.createElement("img");
      img.src = m.media;
      img.alt = "photo";
      bubble.appendChild(img);
    } else if (m.kind === "document") {
      const a = document.createElement("a");
      a.href = m.media;
      a.download = m.file_name || "file";
      a.textContent = "📄 " + (m.file_name || "file");
      bubble.appendChild(a);
    } else if (m.kind === "voice") {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.src = m.media;
      bubble.appendChild(audio);
      bubble.appendChild(document.createTextNode("🎤 voice note, " + fmtSeconds(m.seconds)));
    } else if (m.kind === "contact") {
      bubble.appendChild(document.createTextNode("👤 " + displayName(this.person) + "\n📞 " + m.text));
    }
    if (m.text && m.kind !== "contact") {
      const t = document.createElement("div");
      t.className = "text";
      t.textContent = m.text;
      bubble.appendChild(t);
    }
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = (m.edited ? "edited · " : "") + "#" + m.id;
    bubble.appendChild(meta);
    if (m.buttons && m.buttons.length) {
      const kb = document.createElement("div");
      kb.className = "inline-kb";
      for (const row of m.buttons) {
        const r = document.createElement("div");
        r.className = "row";
        for (const b of row) {
          let btn;
          if (b.url) {
            btn = document.createElement("a");
            btn.href = b.url;
            btn.target = "_blank";
            btn.rel = "noopener noreferrer";
            btn.textContent = b.text + " ↗";
          } else {
            btn = document.createElement("button");
            btn.type = "button";
            btn.textContent = b.text;
            btn.addEventListener("click", async () => {
              for (const other of kb.querySelectorAll("button")) other.disabled = true;
              await this.act(() => api("POST", this.base + "/press", { message_id: m.id, data: b.data }));
              for (const other of kb.querySelectorAll("button")) other.disabled = false;
            });
          }
          r.appendChild(btn);
        }
        kb.appendChild(r);
      }
      el.appendChild(kb);
    }
    return el;
  }

  renderMenu(commands) {
    const btn = this.$(".menu-btn");
    const panel = this.$(".menu-panel");
    const sig = JSON.stringify(commands);
    btn.hidden = !commands.length;
    if (sig === this.menuSig) return;
    this.menuSig = sig;
    panel.replaceChildren();
    for (const c of commands) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.command = c.command;
      const cmd = document.createElement("span");
      cmd.className = "cmd";
      cmd.textContent = "/" + c.command;
      b.append(cmd, document.createTextNode(c.description));
      b.addEventListener("click", () => this.sendText("/" + c.command));
      panel.appendChild(b);
    }
  }

  renderKeyboard() {
    const kb = this.view && this.view.keyboard;
    const box = this.$(".reply-keyboard");
    this.$(".kb-btn").hidden = !kb;
    this.$(".input").placeholder = (kb && kb.placeholder) || "Message";
    const sig = kb ? JSON.stringify(kb) : "";
    if (sig !== this.kbSig) {
      this.kbSig = sig;
      box.replaceChildren();
      for (const row of kb ? kb.rows : []) {
        const r = document.createElement("div");
        r.className = "row";
        for (const b of row) {
          const btn = document.createElement("button");
          btn.type = "button";
          btn.textContent = (b.request_contact ? "📱 " : "") + b.text;
          if (b.request_contact) btn.dataset.requestContact = "1";
          btn.addEventListener("click", async () => {
            if (kb.one_time) this.keyboardOpen = false;
            if (b.request_contact) {
              await this.act(() => api("POST", this.base + "/contact"));
            } else {
              await this.sendText(b.text, true);
            }
            this.renderKeyboard();
          });
          r.appendChild(btn);
        }
        box.appendChild(r);
      }
    }
    box.hidden = !(kb && this.keyboardOpen);
  }
}

main().catch((e) => {
  document.getElementById("phones").textContent = "The sandbox could not start: " + e.message;
});
