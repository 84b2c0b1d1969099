// Live screens (console, projector): one websocket, HTML fragments swapped by id,
// reconnect with backoff, countdown timers. No eval, no inline code (CSP script-src 'self').
(function () {
  "use strict";
  var root = document.querySelector("[data-ws]");
  if (!root || !window.WebSocket) return;
  var path = root.getAttribute("data-ws");
  var badge = document.createElement("p");
  badge.className = "offline";
  badge.setAttribute("role", "status");
  badge.hidden = true;
  badge.textContent = root.getAttribute("data-offline-text") || "…";
  document.body.appendChild(badge);
  var ws = null, tries = 0, ping = null;

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    var timers = document.querySelectorAll(".timer[data-ends]");
    for (var i = 0; i < timers.length; i++) {
      var raw = timers[i].getAttribute("data-ends").replace(/(\.\d{3})\d+/, "$1");
      var ends = Date.parse(raw);
      if (isNaN(ends)) { timers[i].textContent = ""; continue; }
      var left = Math.max(0, Math.ceil((ends - Date.now()) / 1000));
      var text = two(Math.floor(left / 60)) + ":" + two(left % 60);
      if (timers[i].textContent !== text) timers[i].textContent = text;
      timers[i].classList.toggle("over", left === 0);
    }
  }

  // The projector fits one screen: when a long agenda or long titles would run below the
  // fold, [data-fit] gets smaller in steps, down to 0.8 of its size (see minka.css).
  function fit() {
    var box = document.querySelector("[data-fit]");
    if (!box) return;
    var doc = document.documentElement, scale = 1;
    box.style.setProperty("--fit", "1");
    while (doc.scrollHeight > window.innerHeight && scale > 0.8) {
      scale = Math.round((scale - 0.05) * 100) / 100;
      box.style.setProperty("--fit", String(scale));
    }
  }

  function swap(id, html) {
    var el = id === root.id ? root : document.getElementById(id);
    if (!el) return;
    // What the facilitator opened (a removal to confirm, another method) stays open
    // when the part is pushed again: <details data-keep="…"> are matched by that key.
    var open = {}, kept = el.querySelectorAll("details[data-keep][open]");
    for (var k = 0; k < kept.length; k++) open[kept[k].getAttribute("data-keep")] = true;
    el.innerHTML = html;
    var again = el.querySelectorAll("details[data-keep]");
    for (var j = 0; j < again.length; j++) {
      if (open[again[j].getAttribute("data-keep")]) again[j].open = true;
    }
    // A pushed screen names no join address (unless the server has one set): show the
    // one this page was opened at.
    var empty = el.querySelectorAll("[data-join-address]");
    for (var i = 0; i < empty.length; i++) {
      if (!empty[i].textContent) empty[i].textContent = root.getAttribute("data-join-address") || location.host;
    }
    if (window.htmx) window.htmx.process(el);
    fit();
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    try { ws = new WebSocket(proto + location.host + path); } catch (e) { retry(); return; }
    ws.onopen = function () {
      tries = 0;
      badge.hidden = true;
      ping = setInterval(function () { if (ws.readyState === 1) ws.send("{}"); }, 25000);
    };
    ws.onmessage = function (event) {
      var msg;
      try { msg = JSON.parse(event.data); } catch (e) { return; }
      var list = msg && msg.t === "batch" && Array.isArray(msg.m) ? msg.m : [msg];  // a tick's changes, in order
      list.forEach(function (m) {
        if (m && m.t === "html" && typeof m.id === "string") swap(m.id, String(m.html || ""));
      });
      tick();
    };
    ws.onclose = function (event) {
      clearInterval(ping);
      ws = null;
      // 4401: this login may no longer watch (logged out, unshared, deactivated). The
      // page itself then asks to log in again or says the workshop is gone.
      if (event.code === 4401) { location.reload(); return; }
      retry();
    };
  }

  // As a phone's (static/phone/transport.js): doubling from 0.5 s to a cap of 4 s,
  // jittered over its upper half; the server never turns screens away.
  function retry() {
    badge.hidden = false;
    var delay = Math.min(4000, 500 * Math.pow(2, Math.min(tries++, 30)));
    setTimeout(connect, delay / 2 + Math.random() * delay / 2);
  }

  window.addEventListener("resize", fit);
  connect();
  fit();
  tick();
  setInterval(tick, 1000);
})();
