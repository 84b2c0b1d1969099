// Minka participant page: live updates over one websocket, answers saved as they are
// chosen. Without this script the page still works: every card is a plain form.
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
  var d = root.dataset, ws = null, delay = 1000, removed = false;
  var store = "minka-pending-" + d.ws, seqStore = "minka-seq-" + d.ws, lastSeq = 0;
  var pending = {};
  try { pending = JSON.parse(localStorage.getItem(store) || "{}"); } catch (e) { pending = {}; }

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
  function slot(m) {
    var pair = m.t === "pair" ? Math.min(m.x, m.y) + "-" + Math.max(m.x, m.y) : "";
    return [m.t, m.a, m.g, m.q, pair].join("/");
  }
  function stillPending(msg) {
    return Object.keys(pending).some(function (k) { return slot(pending[k]) === slot(msg); });
  }
  function key() {
    var a = new Uint8Array(12); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function fmt(text, values) { return text.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; }); }
  function stage() { return root.querySelector("[data-activity]"); }
  function card(gap) { return document.getElementById("gap-" + gap); }
  function cardFor(msg) {
    if (msg.t === "rank") return root.querySelector(".ranking-card");
    if (msg.t === "pair") return root.querySelector(".pair-card");
    return card(msg.g);
  }
  function note(c, cls, text) {
    if (!c) return;
    c.classList.remove("is-saved", "is-saving", "is-error");
    c.classList.add(cls);
    c.querySelector(cls === "is-error" ? ".card-error" : ".saved").textContent = text;
    c.querySelector(cls === "is-error" ? ".saved" : ".card-error").textContent = "";
  }

  function progress() {
    var s = stage();
    if (!s || s.dataset.mode !== "rating") return;
    var done = s.querySelectorAll(".gap-card [data-q=seriousness] input:checked").length;
    var p = s.querySelector(".progress-text");
    if (p) p.textContent = fmt(d.textProgress, { done: done, total: s.dataset.total });
  }
  function dotsLeft(n) {
    var el = root.querySelector(".dots-left");
    if (el && n !== null && n !== undefined) el.textContent = fmt(d.textDots, { n: n });
  }

  function setAnswer(gap, q, v) {
    var c = card(gap);
    if (!c) return;
    if (q === "dots") { var o = c.querySelector("output.dots"); if (o) o.textContent = v; return; }
    c.querySelectorAll("[data-q=" + q + "] input").forEach(function (i) {
      i.checked = Array.isArray(v) ? v.indexOf(+i.value) >= 0 : +i.value === +v;
    });
  }

  function send(msg) {
    msg.s = nextSeq();
    pending[msg.k] = msg; keep();
    note(cardFor(msg), "is-saving", d.textSaving);
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(msg)); return; }
    post(msg);
  }

  // The websocket is down: the same answer as a plain HTTP post (same idempotency key).
  function post(msg) {
    var body = new FormData();
    body.append("activity", msg.a); body.append("key", msg.k);
    if (msg.s) body.append("seq", msg.s);
    if (msg.t === "rank") { body.append("order", msg.order.join(",")); body.append("op", "save"); }
    else if (msg.t === "pair") { body.append("a", msg.x); body.append("b", msg.y); body.append("choice", msg.c); }
    else { body.append("gap", msg.g); }
    if (msg.t === "rank" || msg.t === "pair") { /* fields set above */ }
    else if (msg.t === "dots") { body.append("dots", msg.v); }
    else if (msg.q === "segments") { body.append("segments_asked", "1"); msg.v.forEach(function (s) { body.append("segments", s); }); }
    else { body.append(msg.q, msg.v); }
    var path = d.post + ({ dots: "/dots", rank: "/rank", pair: "/pair" }[msg.t] || "/answer");
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

  function ack(m, k) {
    var msg = pending[k || m.k];
    if (!msg) return;
    delete pending[k || m.k]; keep();
    if (m.ok && m.superseded) {
      // The phone sent a newer answer, stored already: show what is stored (unless a
      // still newer one is on its way, or the ranking was changed since).
      if (m.s) seenSeq(m.s);
      if (!stillPending(msg)) {
        if (msg.t === "answer" || msg.t === "dots") setAnswer(msg.g, msg.q || "dots", m.v);
        if (msg.t === "rank" && !rankDirty && m.order) { order = m.order.slice(); drawRanking(); }
        note(cardFor(msg), "is-saved", d.textSaved); dotsLeft(m.left);
      }
      progress();
      return;
    }
    if (m.ok) {
      if (msg.t === "rank" && msg.order.join() !== order.join()) {
        // Saved, but the list changed since: what is on screen is not what was saved.
        var rc = cardFor(msg); rc.classList.remove("is-saving"); rc.querySelector(".saved").textContent = d.textUnsaved;
        return;
      }
      note(cardFor(msg), "is-saved", d.textSaved); dotsLeft(m.left);
      if (msg.t === "dots") setAnswer(msg.g, "dots", m.v);
      if (msg.t === "rank") rankDirty = false;
      if (msg.t === "pair" && !(ws && ws.readyState === 1)) location.reload();  // the next pair comes with the page
    } else {
      note(cardFor(msg), "is-error", m.error || "");
      if (ws && ws.readyState === 1) ws.send(JSON.stringify({ t: "mine", a: msg.a }));
    }
    progress();
  }

  root.addEventListener("change", function (e) {
    var c = e.target.closest(".gap-card"), f = e.target.closest("[data-q]");
    if (!c || !f || !stage()) return;
    var q = f.dataset.q, v;
    if (q === "segments") {
      v = Array.prototype.map.call(f.querySelectorAll("input:checked"), function (i) { return +i.value; });
    } else { v = +e.target.value; }
    send({ t: "answer", k: key(), a: +stage().dataset.activity, g: +c.dataset.gap, q: q, v: v });
    progress();
  });

  root.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-delta]");
    if (!b || !stage()) return;
    e.preventDefault();
    var c = b.closest(".gap-card"), now = +c.querySelector("output.dots").textContent;
    var v = Math.max(0, now + (+b.dataset.delta));
    if (v !== now) send({ t: "dots", k: key(), a: +stage().dataset.activity, g: +c.dataset.gap, v: v });
  });

  // Ranking: the order lives in `order`; both lists are drawn from it.
  var order = [], rankDirty = false;
  function titles() {
    var t = {};
    root.querySelectorAll("ul.titles li").forEach(function (li) { t[li.dataset.item] = li.textContent; });
    return t;
  }
  function button(op, item, sign, label, disabled) {
    var b = document.createElement("button");
    b.type = "submit"; b.name = "op"; b.value = op + ":" + item; b.className = "icon"; b.textContent = sign;
    b.setAttribute("aria-label", label); b.disabled = !!disabled;
    return b;
  }
  function drawRanking() {
    var f = root.querySelector(".ranking-card");
    if (!f) return;
    var s = stage(), k = +s.dataset.k, t = titles(), mine = f.querySelector(".my-ranking"), rest = f.querySelector(".unranked");
    var labels = d;
    mine.textContent = ""; rest.textContent = "";
    order.forEach(function (item, i) {
      var li = document.createElement("li"), name = t[item] || ""; li.dataset.item = item;
      var span = document.createElement("span"); span.className = "item-text"; span.textContent = name; li.appendChild(span);
      var c = document.createElement("span"); c.className = "row controls";
      c.appendChild(button("up", item, "↑", labels.textUp + ": " + name, i === 0));
      c.appendChild(button("down", item, "↓", labels.textDown + ": " + name, i === order.length - 1));
      c.appendChild(button("out", item, "✕", labels.textOut + ": " + name)); li.appendChild(c); mine.appendChild(li);
    });
    Object.keys(t).forEach(function (item) {
      if (order.indexOf(+item) >= 0) return;
      var li = document.createElement("li"); li.dataset.item = item;
      var span = document.createElement("span"); span.className = "item-text"; span.textContent = t[item]; li.appendChild(span);
      var c = document.createElement("span"); c.className = "row controls";
      c.appendChild(button("in", item, "+", labels.textIn + ": " + t[item], order.length >= k)); li.appendChild(c); rest.appendChild(li);
    });
    f.querySelector("input[name=order]").value = order.join(",");
    var st = root.querySelector(".rank-status");
    if (st) st.textContent = fmt(d.textRanked, { n: order.length, k: k });
    sortable(mine);
  }
  function sortable(list) {
    if (!window.Sortable) {
      if (!document.getElementById("sortable-js")) {
        var sc = document.createElement("script"); sc.id = "sortable-js"; sc.src = d.sortable;
        sc.onload = function () { sortable(root.querySelector(".my-ranking")); };
        document.head.appendChild(sc);
      }
      return;
    }
    if (list && !list.dataset.sortable) {
      list.dataset.sortable = "1";
      window.Sortable.create(list, { animation: 150, delay: 150, delayOnTouchOnly: true, onEnd: function () {
        order = Array.prototype.map.call(list.children, function (li) { return +li.dataset.item; });
        changed();
      } });
    }
  }
  function changed() {
    rankDirty = true; drawRanking();
    var f = root.querySelector(".ranking-card");
    f.classList.remove("is-saved"); f.querySelector(".saved").textContent = d.textUnsaved;
  }
  function rankOp(op) {
    var parts = op.split(":"), item = +parts[1], i = order.indexOf(item);
    if (parts[0] === "in" && i < 0) order.push(item);
    else if (parts[0] === "out" && i >= 0) order.splice(i, 1);
    else if ((parts[0] === "up" || parts[0] === "down") && i >= 0) {
      var j = Math.max(0, Math.min(order.length - 1, i + (parts[0] === "up" ? -1 : 1)));
      order[i] = order[j]; order[j] = item;
    }
    changed();
  }
  function setPair(pair) {
    var f = root.querySelector(".pair-card");
    if (!f) return;
    var t = titles(), box = f.querySelector(".pair");
    f.querySelector(".pair-done").hidden = !!pair; box.hidden = !pair;
    if (!pair) return;
    f.querySelector("input[name=a]").value = pair[0]; f.querySelector("input[name=b]").value = pair[1];
    f.querySelector(".choice-a").textContent = t[pair[0]] || ""; f.querySelector(".choice-b").textContent = t[pair[1]] || "";
  }

  root.addEventListener("click", function (e) {
    var b = e.target.closest("button[name=op], button[name=choice]");
    if (!b || !stage()) return;
    var f = b.closest("form");
    e.preventDefault();
    if (b.name === "choice") {
      send({ t: "pair", k: key(), a: +stage().dataset.activity, x: +f.querySelector("input[name=a]").value,
             y: +f.querySelector("input[name=b]").value, c: b.value });
      f.querySelector(".pair").hidden = true;
    } else if (b.value === "save") {
      send({ t: "rank", k: key(), a: +stage().dataset.activity, order: order.slice() });
    } else {
      rankOp(b.value);
    }
  });

  function onMessage(ev) {
    var m = JSON.parse(ev.data);
    if (m.t === "html") {
      var el = document.getElementById(m.id);
      if (!el) return;
      var before = stage(), was = before ? before.dataset.activity : null;
      el.innerHTML = m.html;
      var s = stage();
      // The broadcast stage carries nobody's answers: ask for ours.
      if (m.id === "stage" && s && s.dataset.state === "open") {
        if (s.dataset.kind === "ranking") {
          if (s.dataset.activity !== was) { order = []; rankDirty = false; }
          drawRanking();
          if (rankDirty) root.querySelector(".ranking-card .saved").textContent = d.textUnsaved;
        }
        ws.send(JSON.stringify({ t: "mine", a: +s.dataset.activity }));
      }
    } else if (m.t === "mine" && m.ranking) {
      if (!rankDirty) { order = m.ranking.slice(); drawRanking(); }
    } else if (m.t === "mine" && "pair" in m) {
      setPair(m.pair);
    } else if (m.t === "mine") {
      var answers = m.answers || {}, spent = 0;
      Object.keys(answers).forEach(function (g) {
        Object.keys(answers[g]).forEach(function (q) { setAnswer(g, q, answers[g][q]); if (q === "dots") spent += answers[g][q]; });
      });
      Object.keys(pending).forEach(function (k) { var p = pending[k]; if (p.a === m.a) setAnswer(p.g, p.q || "dots", p.v); });
      var s2 = stage();
      if (s2 && s2.dataset.mode === "dots") dotsLeft(+s2.dataset.budget - spent);
      progress();
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
      delay = 1000; offline(false);
      var s = stage();
      ws.send(JSON.stringify({ t: "hello", a: s ? +s.dataset.activity : null }));
      Object.keys(pending).forEach(function (k) { ws.send(JSON.stringify(pending[k])); });
    };
    ws.onmessage = onMessage;
    ws.onclose = function () {
      offline(true);
      setTimeout(connect, delay + Math.random() * 500);
      delay = Math.min(delay * 2, 30000);
    };
  }

  var first = root.querySelector(".ranking-card input[name=order]");
  if (first && first.value) order = first.value.split(",").map(Number);
  drawRanking();

  setInterval(function () {
    root.querySelectorAll(".timer[data-ends]").forEach(function (t) {
      var left = Math.max(0, Math.round((Date.parse(t.dataset.ends) - Date.now()) / 1000));
      t.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
    });
  }, 1000);
  setInterval(function () { if (ws && ws.readyState === 1) ws.send("{}"); }, 25000);
  connect();
})();
