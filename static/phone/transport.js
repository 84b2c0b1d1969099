// Minka participant page, the transport: one websocket for live updates and answers,
// shared by every activity kind. Without scripts the page still works: every card is a
// plain form. Each kind adds a small module (static/phone/<kind>.js) that registers with
// `minkaKinds.push(function (M) { M.kind("<kind>", hooks); })`; it may load before or
// after this file. The page loads the module of the activity it shows; when the stage
// turns to another kind, this file loads that kind's module.
//
// An answer shows "Saved" only after the server says it is committed. Unacknowledged
// answers are kept (also across a reload) and sent again with the same key, which the
// server counts once. Each answer carries this phone's sequence ("s", growing across
// reloads): an answer sent again late never replaces one the phone sent after it; the
// server says "superseded" and what it holds, which the phone then shows.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) return;
  document.documentElement.classList.add("js");
  var d = root.dataset, ws = null, tries = 0, sheds = 0, removed = false, kinds = {}, waiting = {}, helloFor = null, held = {};
  var stageV = null;  // the server's last stage: named in the hello, not sent again
  var store = "minka-pending-" + d.ws, seqStore = "minka-seq-" + d.ws, lastSeq = 0;
  var pending = {};
  try { pending = JSON.parse(localStorage.getItem(store) || "{}"); } catch (e) { pending = {}; }

  // The wait before reconnection attempt n while the server cannot be reached: doubling
  // from 0.5 s to a cap of 4 s, jittered over its upper half (phones dropped together
  // come back spread out, none waits long once the server is back).
  var BASE = 500, CAP = 4000;
  function backoff(n, r) {
    var top = Math.min(CAP, BASE * Math.pow(2, Math.min(n, 30)));
    return top / 2 + (r === undefined ? Math.random() : r) * top / 2;
  }
  // Turned away (close 1013: a hall reconnecting): come back at the turn the reason
  // gives in seconds (realtime/admission.py), give or take a tenth; without one, after
  // 0.25 s plus a random part of a window doubling from 1 s to 4 s per refusal in a row.
  var SHED_MIN = 250, SHED_BASE = 1000, SHED_CAP = 4000, TURN_CAP = 60000;
  function shedWait(n, r, reason) {
    var rand = r === undefined ? Math.random() : r;
    var turn = parseFloat(reason) * 1000;
    if (turn >= 0 && turn <= TURN_CAP) return turn * (0.9 + 0.2 * rand);
    var top = Math.min(SHED_CAP, SHED_BASE * Math.pow(2, Math.min(n, 30)));
    return SHED_MIN + rand * (top - SHED_MIN);
  }

  function keep() { try { localStorage.setItem(store, JSON.stringify(pending)); } catch (e) {} }
  // The phone's order of its answers: the clock, never less than one more than the last
  // (kept with the pending answers, shared by the page's tabs), nor than what the server holds.
  function seenSeq(n) {
    try { n = Math.max(n, +localStorage.getItem(seqStore) || 0); localStorage.setItem(seqStore, String(n)); } catch (e) {}
    lastSeq = Math.max(lastSeq, n);
  }
  function nextSeq() {
    var n = lastSeq + 1;
    try { n = Math.max(n, (+localStorage.getItem(seqStore) || 0) + 1); } catch (e) {}
    n = Math.max(n, Date.now());
    seenSeq(n);
    return n;
  }
  // One slot per kind's answer (a gap's question, a ballot, a pair): see the kind's `slot`.
  function slot(m) { var k = kindOf(m.t); return m.t + "/" + m.a + "/" + (k.slot ? k.slot(m) : ""); }
  function stillPending(msg) {
    return Object.keys(pending).some(function (k) { return slot(pending[k]) === slot(msg); });
  }
  function key() {
    var a = new Uint8Array(12); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function fmt(text, values) { return text.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; }); }
  function stage() { return root.querySelector("[data-activity]"); }
  function online() { return !!ws && ws.readyState === 1; }
  function kindOf(t) {
    for (var n in kinds) if ((kinds[n].sends || []).indexOf(t) >= 0) return kinds[n];
    return {};
  }
  function cardFor(msg) { var k = kindOf(msg.t); return k.card ? k.card(msg) : null; }
  function note(c, cls, text) {
    if (!c) return;
    c.classList.remove("is-saved", "is-saving", "is-error");
    c.classList.add(cls);
    c.querySelector(cls === "is-error" ? ".card-error" : ".saved").textContent = text;
    c.querySelector(cls === "is-error" ? ".saved" : ".card-error").textContent = "";
  }
  function ask(a) { if (online()) ws.send(JSON.stringify({ t: "mine", a: a })); }

  // An answer from a kind's module: kept until acknowledged, sent now if the socket is up.
  function send(msg) {
    msg.k = key(); msg.a = +stage().dataset.activity; msg.s = nextSeq();
    pending[msg.k] = msg; keep();
    note(cardFor(msg), "is-saving", d.textSaving);
    if (online()) { ws.send(JSON.stringify(msg)); return; }
    // Socket opening: sent after the hello (whose answer must not predate it), or posted in 3 s.
    if (!ws || ws.readyState === 0) { held[msg.k] = setTimeout(function () { unhold(msg.k); }, 3000); return; }
    post(msg);
  }

  function unhold(k) {
    clearTimeout(held[k]); delete held[k];
    if (pending[k] && !online()) post(pending[k]);
  }

  // The websocket is down: the same answer as a plain HTTP post (same idempotency key);
  // the kind's `form` adds its fields and names the path.
  function post(msg) {
    var body = new FormData();
    body.append("activity", msg.a); body.append("key", msg.k);
    if (msg.s) body.append("seq", msg.s);
    var path = d.post + kindOf(msg.t).form(msg, body);
    fetch(path, { method: "POST", body: body, credentials: "same-origin",
                  headers: { "Accept": "application/json", "X-CSRF-Token": d.csrf } })
      .then(function (r) { return r.json(); })
      .then(function (r) {
        if (r.retry) return;  // too many at once: still pending, sent again when the socket is back
        var a = (r.acks || [])[0] || {};
        a.ok = r.ok; a.error = r.error;
        ack(a, msg.k);
      })
      .catch(function () { /* still pending: sent again when the socket is back */ });
  }

  // The server's answer to an answer. The kind's `acked(msg, m, how)` shows what it means
  // for its cards, `how` being "saved", "superseded" (the server holds a newer answer of
  // this phone, in m: show it), "newer" (superseded, and a still newer one is on its way)
  // or "failed"; returning false keeps the card's note as the kind left it.
  function ack(m, k) {
    var msg = pending[k || m.k];
    if (!msg) return;
    delete pending[k || m.k]; keep();
    if (m.ok && m.superseded && m.s) seenSeq(m.s);
    var how = !m.ok ? "failed" : !m.superseded ? "saved" : stillPending(msg) ? "newer" : "superseded";
    var kind = kindOf(msg.t);
    if (kind.acked && kind.acked(msg, m, how) === false) return;
    if (how === "failed") { note(cardFor(msg), "is-error", m.error || ""); ask(msg.a); }
    else if (how !== "newer") note(cardFor(msg), "is-saved", d.textSaved);
  }

  // Run fn with the module of a kind, loading it first if the page has not.
  function withKind(name, fn) {
    if (kinds[name]) { fn(kinds[name]); return; }
    if (!waiting[name]) {
      waiting[name] = [];
      var sc = document.createElement("script");
      sc.src = d.module.replace("KIND", name);
      sc.onerror = function () { kind(name, {}); };  // offline and never cached: the forms still work
      document.head.appendChild(sc);
    }
    waiting[name].push(fn);
  }
  function kind(name, hooks) {
    kinds[name] = hooks;
    (waiting[name] || []).forEach(function (fn) { fn(hooks); });
    delete waiting[name];
  }
  // A stage was drawn: its kind draws its part (fresh: another activity than before)
  // and, when live, asks for this phone's own answers (the broadcast carries nobody's).
  function shown(s, fresh, live) {
    withKind(s.dataset.kind, function (k) {
      if (stage() !== s) return;  // replaced while the module loaded
      if (k.stage) k.stage(s, fresh);
      if (live) ask(+s.dataset.activity);
    });
  }

  function onMessage(ev) {
    var m = JSON.parse(ev.data);
    sheds = 0;  // admitted: the server talks to this phone
    if (m.t === "batch") { m.m.forEach(handle); return; }  // what changed in one tick, in order
    handle(m);
  }
  function handle(m) {
    var s = stage();
    if (m.t === "html") {
      var el = document.getElementById(m.id), hk = s && s.dataset.kind && kinds[s.dataset.kind];
      // The first stage after (re)connecting answers the hello, which asked for this
      // phone's answers in the activity it showed: asked again only for another one.
      var hello = m.id === "stage" ? helloFor : null;
      if (m.id === "stage") { helloFor = null; stageV = m.v || null; }
      if (!el) return;
      if (hk && hk.html && hk.html(el, m) === true) return;  // the kind merged it (keeps what is typed)
      var was = s ? s.dataset.activity : null;
      el.innerHTML = m.html;
      s = stage();
      var asked = hello !== null && s && +s.dataset.activity === hello;
      if (m.id === "stage" && s && s.dataset.state === "open" && s.dataset.kind) shown(s, s.dataset.activity !== was, !asked);
    } else if (m.t === "mine") {
      if (helloFor === m.a) helloFor = null;  // hello answered
      // For the activity on screen only, handled by its kind.
      var k = s && s.dataset.kind && +s.dataset.activity === m.a && kinds[s.dataset.kind];
      if (k && k.mine) k.mine(m);
    } else if (m.t === "ack") {
      ack(m);
    } else if (m.t === "removed") {
      removed = true;
      root.innerHTML = "";
      location.reload();
    }
  }

  function offline(on) {
    var el = root.querySelector(".offline");
    el.hidden = !on; el.textContent = on ? d.textOffline : "";
  }

  function connect() {
    if (removed) return;
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + d.ws);
    ws.onopen = function () {
      tries = 0; offline(false);
      var s = stage();
      helloFor = s ? +s.dataset.activity : null;
      ws.send(JSON.stringify({ t: "hello", a: helloFor, v: stageV || undefined }));
      Object.keys(pending).forEach(function (k) { ws.send(JSON.stringify(pending[k])); });
      Object.keys(held).forEach(function (k) { clearTimeout(held[k]); });
      held = {};
    };
    ws.onmessage = onMessage;
    ws.onclose = function (ev) {
      offline(true);
      Object.keys(held).forEach(unhold);
      setTimeout(connect, ev && ev.code === 1013 ? shedWait(sheds++, undefined, ev.reason) : backoff(tries++));
    };
  }

  function start() {
    var s = stage();
    if (s && s.dataset.state === "open" && s.dataset.kind) shown(s, true, false);
    setInterval(function () {
      root.querySelectorAll(".timer[data-ends]").forEach(function (t) {
        var left = Math.max(0, Math.round((Date.parse(t.dataset.ends) - Date.now()) / 1000));
        t.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
      });
    }, 1000);
    setInterval(function () { if (online()) ws.send("{}"); }, 25000);
    connect();
  }

  // What a kind's module may use.
  // A message that writes nothing (a roadmap's "I am editing this"): sent only when online.
  function signal(msg) { if (online()) ws.send(JSON.stringify(msg)); }
  var M = { root: root, text: d, stage: stage, fmt: fmt, note: note, send: send, online: online, ask: ask, signal: signal,
            kind: kind, backoff: backoff, shedWait: shedWait,
            pending: function (a) { return Object.keys(pending).map(function (k) { return pending[k]; })
                                      .filter(function (p) { return p.a === a; }); } };
  window.Minka = M;
  // Modules that loaded before this file queued themselves; later ones register at once.
  var queued = window.minkaKinds || [];
  window.minkaKinds = { push: function (fn) { fn(M); } };
  queued.forEach(function (fn) { fn(M); });
  // Start once the page's deferred scripts (its kind's module) have run: they run before
  // DOMContentLoaded, and after this file, so the state "interactive" is not enough.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
