// Minka participant page, gap rating: each answer (a rating, the affected segments, dots on
// a gap) is sent as soon as it is chosen. Registers with the transport (phone/transport.js).
(window.minkaKinds = window.minkaKinds || []).push(function (M) {
  "use strict";
  var root = M.root, d = M.text, current = null;

  function card(gap) { return document.getElementById("gap-" + gap); }
  // Rating shows one gap at a time ("paged"): Previous / Next (links to the page at that
  // gap without JavaScript) swap the card in place; the address keeps it for a reload.
  function go(gap, moved) {
    var s = M.stage(), c = card(gap);
    if (!s || !c || !s.classList.contains("paged")) return;
    var all = Array.prototype.slice.call(s.querySelectorAll(".gap-card")), i = all.indexOf(c);
    all.forEach(function (o) { o.classList.toggle("current", o === c); });
    current = String(gap);
    [["prev", all[i - 1]], ["next", all[i + 1]]].forEach(function (p) {
      var a = s.querySelector(".pager [rel=" + p[0] + "]"), to = p[1] && p[1].dataset.gap;
      a.hidden = !to;
      if (to) { a.dataset.go = to; a.href = "?at=" + to + "#gap-" + to; }
    });
    s.querySelector(".pager-pos").textContent = M.fmt(d.textGap, { n: i + 1, total: all.length });
    if (!moved) return;
    if (c.getBoundingClientRect().top < 64) c.scrollIntoView({ block: "start" });
    c.querySelector("h3").focus({ preventScroll: true });
    try { history.replaceState(null, "", location.pathname + "?at=" + gap); } catch (e) {}
  }
  function progress() {
    var s = M.stage();
    if (!s || s.dataset.mode !== "rating") return;
    var done = s.querySelectorAll(".gap-card [data-q=seriousness] input:checked").length;
    var p = s.querySelector(".progress-text");
    if (p) p.textContent = M.fmt(d.textProgress, { done: done, total: s.dataset.total });
  }
  function dotsLeft(n) {
    var el = root.querySelector(".dots-left");
    if (!el || n === null || n === undefined) return;
    el.textContent = M.fmt(d.textDots, { n: n });
    // No dot left: "+" cannot add one anywhere (taking one off frees it again).
    root.querySelectorAll("#stage button[data-delta='1']").forEach(function (b) { b.disabled = n <= 0; });
  }
  function setAnswer(gap, q, v) {
    var c = card(gap);
    if (!c) return;
    if (q === "dots") { var o = c.querySelector("output.dots"); if (o) o.textContent = v; return; }
    c.querySelectorAll("[data-q=" + q + "] input").forEach(function (i) {
      i.checked = Array.isArray(v) ? v.indexOf(+i.value) >= 0 : +i.value === +v;
    });
  }

  root.addEventListener("change", function (e) {
    var c = e.target.closest(".gap-card"), f = e.target.closest("[data-q]");
    if (!c || !f || !M.stage()) return;
    var q = f.dataset.q, v;
    if (q === "segments") {
      v = Array.prototype.map.call(f.querySelectorAll("input:checked"), function (i) { return +i.value; });
    } else { v = +e.target.value; }
    M.send({ t: "answer", g: +c.dataset.gap, q: q, v: v });
    progress();
  });

  root.addEventListener("click", function (e) {
    var a = e.target.closest("a[data-go]");
    if (a && M.stage()) { e.preventDefault(); go(a.dataset.go, true); return; }
    var b = e.target.closest("button[data-delta]");
    if (!b || !M.stage()) return;
    e.preventDefault();
    var c = b.closest(".gap-card"), now = +c.querySelector("output.dots").textContent;
    var v = Math.max(0, now + (+b.dataset.delta));
    if (v !== now) M.send({ t: "dots", g: +c.dataset.gap, v: v });
  });

  M.kind("gap_rating", {
    sends: ["answer", "dots"],
    slot: function (msg) { return msg.g + "/" + (msg.q || ""); },
    card: function (msg) { return card(msg.g); },
    // Drawn again (a timer, a reveal): back to the gap this phone was on.
    stage: function (s, fresh) {
      if (!fresh && current) { go(current, false); return; }
      var c = s.querySelector(".gap-card.current"); current = c ? c.dataset.gap : null;
    },
    // The plain form post of an answer (when the socket is down): its fields and path.
    form: function (msg, body) {
      body.append("gap", msg.g);
      if (msg.t === "dots") { body.append("dots", msg.v); return "/dots"; }
      if (msg.q === "segments") { body.append("segments_asked", "1"); msg.v.forEach(function (s) { body.append("segments", s); }); }
      else { body.append(msg.q, msg.v); }
      return "/answer";
    },
    acked: function (msg, m, how) {
      if (how === "superseded") { setAnswer(msg.g, msg.q || "dots", m.v); dotsLeft(m.left); }
      if (how === "saved") { dotsLeft(m.left); if (msg.t === "dots") setAnswer(msg.g, "dots", m.v); }
      progress();
    },
    // This phone's answers, and those still on their way over them.
    mine: function (m) {
      var answers = m.answers || {}, spent = 0;
      Object.keys(answers).forEach(function (g) {
        Object.keys(answers[g]).forEach(function (q) { setAnswer(g, q, answers[g][q]); if (q === "dots") spent += answers[g][q]; });
        // What the server holds is saved: said again on a card drawn anew (a stage that
        // arrived after the acknowledgement had wiped its "Saved").
        var c = card(g);
        if (c && !c.classList.contains("is-saving") && !c.classList.contains("is-error")) M.note(c, "is-saved", d.textSaved);
      });
      M.pending(m.a).forEach(function (p) { setAnswer(p.g, p.q || "dots", p.v); M.note(card(p.g), "is-saving", d.textSaving); });
      var s = M.stage();
      if (s && s.dataset.mode === "dots") dotsLeft(+s.dataset.budget - spent);
      progress();
    }
  });
  // Chosen before this script ran: sent now.
  root.querySelectorAll("#stage [data-q] input").forEach(function (i) {
    if (i.checked != i.defaultChecked && (i.checked || i.type == "checkbox")) i.dispatchEvent(new Event("change", { bubbles: true }));
  });
});
