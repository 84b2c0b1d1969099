// Minka participant page, roadmap editing: each field saves on its own (its version sent
// with it); a conflict keeps the person's text and offers to keep it, take the current
// one or edit from it; others' changes arrive one item (or one field) at a time and never
// overwrite a field being typed in; "X is editing this now" shows for a few seconds. The
// live stage lists the items' summaries; a card is fetched when opened (docs/roadmap.md). Registers with
// the transport (phone/transport.js); every form also works as a plain post.
(window.minkaKinds = window.minkaKinds || []).push(function (M) {
  "use strict";
  var root = M.root, own = { supported: [], commitments: [] }, focusAt = 0, focused = null;

  function sec() { var s = M.stage(); return s && s.dataset.kind === "roadmap" ? s : null; }
  function t(name) { var s = sec(); return (s && s.dataset["t" + name]) || ""; }
  function itemOf(el) { var d = el.closest(".rm-item"); return d ? +d.dataset.item : 0; }
  function busy(f) {
    var a = document.activeElement;  // typing in it (a Save button keeps the focus once pressed: not typing)
    return (f.contains(a) && a.tagName !== "BUTTON") || f.classList.contains("is-dirty") || !!f.querySelector(".rm-conflict");
  }
  function val(f, name) { var e = f.elements[name]; return e ? e.value : ""; }
  function value(f) {
    if (f.dataset.slot === "budget") return { amount: val(f, "amount"), currency: val(f, "currency") };
    return val(f, "value");
  }
  function setValue(f, v) {
    if (f.dataset.slot === "budget") {
      f.elements.amount.value = v ? v.amount : ""; f.elements.currency.value = v ? v.currency : "";
    } else if (f.elements.value) {
      f.elements.value.value = v === true ? "1" : v === false ? "0" : v === null || v === undefined ? "" : v;
    }
  }
  function text(v) { return v === null || v === undefined || v === "" ? "—" : typeof v === "object" ? v.amount + " " + v.currency : String(v); }
  function version(f, v) { f.dataset.version = v; if (f.elements.base) f.elements.base.value = v; }
  function css() {
    if (document.querySelector("link[href*='phone/roadmap']")) return;
    var l = document.createElement("link"); l.rel = "stylesheet"; l.href = root.dataset.module.replace("KIND.js", "roadmap.css");
    document.head.appendChild(l);
  }

  // What a form asks, as a websocket message.
  function message(f) {
    var i = itemOf(f), a = f.getAttribute("action") || "";
    if (f.dataset.slot) return { t: "rm_edit", i: i, f: f.dataset.slot, b: +f.dataset.version, v: value(f) };
    if (/rm_row$/.test(a)) {
      var kind = val(f, "kind");
      if (val(f, "op") === "remove") return { t: "rm_row", i: i, r: kind, n: +val(f, "row"), b: +val(f, "base"), v: null };
      var row = {};
      ["organization", "text", "date", "name", "baseline", "target", "unit"].forEach(function (n) { if (f.elements[n]) row[n] = f.elements[n].value; });
      return { t: "rm_row", i: i, r: kind, v: row };
    }
    if (/rm_commit$/.test(a)) return { t: "rm_commit", i: i, org: val(f, "organization"), role: val(f, "role"), note: val(f, "note") };
    if (/rm_withdraw$/.test(a)) return { t: "rm_withdraw", c: +val(f, "commitment") };
    if (/rm_comment$/.test(a)) return { t: "rm_comment", i: i, text: val(f, "text") };
    if (/rm_plus$/.test(a)) return { t: "rm_plus", i: i, on: own.supported.indexOf(i) < 0 };
    return null;
  }
  function formFor(msg) {
    var d = document.getElementById("rm-item-" + msg.i);
    if (msg.t === "rm_edit") return document.getElementById("f-" + msg.i + "-" + msg.f);
    if (msg.t === "rm_withdraw") { var li = root.querySelector("[data-c='" + msg.c + "']"); d = li && li.closest(".rm-item"); return d && d.querySelector(".rm-commitments .rm-field"); }
    if (!d) return null;
    if (msg.t === "rm_row") return d.querySelector(".rm-add[data-kind='" + msg.r + "']");
    if (msg.t === "rm_commit") return d.querySelector("[data-kind=commit]");
    if (msg.t === "rm_comment") return d.querySelector("[data-kind=comment]");
    return d.querySelector(".rm-plus");
  }

  root.addEventListener("submit", function (e) {
    var f = e.target;
    if (!sec() || !f.closest(".rm-item")) return;
    var msg = message(f);
    if (!msg) return;
    e.preventDefault();
    var box = f.querySelector(".rm-conflict"); if (box) box.remove();
    M.send(msg);
  });
  root.addEventListener("change", function (e) {  // a choice saves at once
    var f = e.target.closest("form[data-slot]");
    if (f && e.target.tagName === "SELECT" && sec()) { f.classList.add("is-dirty"); M.send(message(f)); }
  });
  root.addEventListener("input", function (e) {
    var f = e.target.closest("form[data-slot]");
    if (f) f.classList.add("is-dirty");
  });
  // "I am editing this": on focus, again every 10 s while it lasts, and "no longer" on leaving.
  function focus(f, slot) {
    var s = sec();
    if (!s) return;
    M.signal({ t: "rm_focus", a: +s.dataset.activity, i: itemOf(f), f: slot });
    focusAt = Date.now();
  }
  root.addEventListener("focusin", function (e) {
    var f = e.target.closest("form[data-slot]");
    if (!f) return;
    focused = f; focus(f, f.dataset.slot);
  });
  root.addEventListener("focusout", function (e) {
    var f = e.target.closest("form[data-slot]");
    setTimeout(function () { if (f && !f.contains(document.activeElement)) { if (focused === f) focused = null; focus(f, ""); } }, 0);
  });
  setInterval(function () { if (focused && Date.now() - focusAt > 10000) focus(focused, focused.dataset.slot); }, 5000);

  // A conflict: the person's own text stays in the field; the current value and who made
  // it are shown, with three ways on.
  function conflict(f, msg, m) {
    var box = document.createElement("div"), p = document.createElement("p"), now = document.createElement("p");
    box.className = "rm-conflict"; box.setAttribute("role", "alert");
    p.textContent = M.fmt(t("Conflict"), { who: (m.by && m.by.name) || t("Someone") });
    now.textContent = t("Current") + " " + text(m.current);
    box.appendChild(p); box.appendChild(now);
    [["Keep", function () { version(f, m.version); box.remove(); M.send({ t: "rm_edit", i: msg.i, f: msg.f, b: m.version, v: value(f) }); }],
     ["Take", function () { setValue(f, m.current); version(f, m.version); f.classList.remove("is-dirty"); box.remove(); }],
     ["From", function () { setValue(f, m.current); version(f, m.version); box.remove(); var e = f.querySelector("input,textarea,select"); if (e) e.focus(); }]
    ].forEach(function (b) {
      var btn = document.createElement("button"); btn.type = "button"; btn.className = "small"; btn.textContent = t(b[0]);
      btn.addEventListener("click", b[1]); box.appendChild(btn);
    });
    f.insertBefore(box, f.querySelector(".saved"));
  }

  // Someone else's change of an item: every field not being typed in, and the lists.
  function morph(el, html) {
    var tmp = document.createElement("details"); tmp.innerHTML = html;
    var oldLock = !!el.querySelector(":scope > .notice"), newLock = !!tmp.querySelector(":scope > .notice");
    var anyBusy = Array.prototype.some.call(el.querySelectorAll("form"), busy);
    // A patch (the item's piece) carries values, not forms: a lock's new card comes with the stage.
    var patch = !!tmp.querySelector("summary[data-patch]");
    if (oldLock !== newLock && !anyBusy && !patch) {
      el.innerHTML = html;
      if (!el.querySelector("form")) { el.setAttribute("data-lazy", ""); if (el.open) load(el); }  // a summary alone
      applyOwn(); return;
    }
    el.querySelector("summary").innerHTML = tmp.querySelector("summary").innerHTML;
    if (patch && oldLock !== newLock) {  // the notice follows; the forms come with the stage
      var notice = el.querySelector(":scope > .notice"), fresh = tmp.querySelector(":scope > .notice");
      if (notice && !fresh) notice.remove();
      if (!notice && fresh) el.querySelector("summary").after(fresh);
    }
    tmp.querySelectorAll("form[data-slot]").forEach(function (nf) {
      var of = el.querySelector("#" + nf.id);
      if (!of || busy(of)) return;  // typed in: its version stays, a save then meets the conflict
      if (+nf.dataset.version < +(of.dataset.version || 0)) return;  // older than what it shows (its own ack came first)
      setValue(of, nf.dataset.slot === "budget" ? { amount: val(nf, "amount"), currency: val(nf, "currency") } : val(nf, "value"));
      version(of, nf.dataset.version);
      of.querySelectorAll(".rm-suggestion").forEach(function (x) { x.remove(); });
      nf.querySelectorAll(".rm-suggestion").forEach(function (x) { of.insertBefore(x, of.querySelector(".saved")); });
    });
    var lists = el.querySelectorAll("ul"), fresh = tmp.querySelectorAll("ul");
    for (var n = 0; n < lists.length && n < fresh.length; n++) lists[n].innerHTML = fresh[n].innerHTML;
    var plus = el.querySelector(".rm-plus button"), np = tmp.querySelector(".rm-plus button");
    if (plus && np) plus.textContent = np.textContent;
    applyOwn();
  }
  function applyOwn() {
    root.querySelectorAll(".rm-item").forEach(function (d) {
      var on = own.supported.indexOf(+d.dataset.item) >= 0, b = d.querySelector(".rm-plus button");
      if (b) { b.classList.toggle("is-on", on); b.setAttribute("aria-pressed", on ? "true" : "false"); }
    });
    root.querySelectorAll("[data-c]").forEach(function (li) {
      var w = li.querySelector(".rm-withdraw"); if (w) w.hidden = own.commitments.indexOf(+li.dataset.c) < 0;
    });
  }
  // The broadcast stage carries each item's summary alone (data-lazy): its card is fetched
  // when opened. Changes that come meanwhile are kept and merged into the card once there.
  var loading = {};
  function load(d) {
    var s = sec();
    if (!s || !d.hasAttribute("data-lazy") || loading[d.id]) return;
    loading[d.id] = [];
    fetch(s.dataset.cards + "item-" + d.dataset.item, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var later = loading[d.id] || [];
        delete loading[d.id];
        if (!d.isConnected || !d.hasAttribute("data-lazy")) return;
        d.innerHTML = html; d.removeAttribute("data-lazy");
        later.forEach(function (h) { morph(d, h); });
        applyOwn();
      })
      .catch(function () { delete loading[d.id]; });  // opened again later: fetched again
  }
  root.addEventListener("toggle", function (e) {  // toggle does not bubble: caught on its way down
    var d = e.target;
    if (d.classList && d.classList.contains("rm-item") && d.open) load(d);
  }, true);
  var meId = "";  // this phone's participant (its "mine" says so): never shown as editing to itself
  function editing(el) {
    var item = +el.id.replace("rm-ed-", ""), d = document.getElementById("rm-item-" + item);
    if (!d) return;
    d.querySelectorAll(".rm-who").forEach(function (p) { p.textContent = ""; });
    var s0 = sec(), me = meId || (s0 && s0.dataset.me) || "", names = {}, until = {};
    el.querySelectorAll("[data-f]").forEach(function (s) {  // one per person: others only, not me
      var f = s.dataset.f, left = +s.dataset.until - Date.now();
      if (left <= 0 || (me && s.dataset.p === me)) return;
      (names[f] = names[f] || []).push(s.textContent);
      until[f] = Math.max(until[f] || 0, left);
    });
    Object.keys(names).forEach(function (f) {
      var p = d.querySelector(".rm-who[data-f='" + f + "']");
      if (!p) return;
      p.textContent = M.fmt(t("Editing"), { who: names[f].join(", ") });
      setTimeout(function () { if (p.textContent) p.textContent = ""; }, Math.min(until[f], 20000));
    });
  }

  M.kind("roadmap", {
    sends: ["rm_edit", "rm_row", "rm_commit", "rm_withdraw", "rm_comment", "rm_plus"],
    slot: function (msg) { return msg.t === "rm_edit" ? msg.i + "/" + msg.f : msg.k; },
    card: formFor,
    form: function (msg, body) {
      body.append("item", msg.i || "");
      if (msg.t === "rm_edit") {
        body.append("field", msg.f); body.append("base", msg.b);
        if (msg.f === "budget") { body.append("amount", msg.v.amount); body.append("currency", msg.v.currency); }
        else body.append("value", msg.v);
      } else if (msg.t === "rm_row") {
        body.append("kind", msg.r);
        if (msg.n) { body.append("row", msg.n); body.append("base", msg.b); }
        if (msg.v === null) body.append("op", "remove");
        else Object.keys(msg.v).forEach(function (k) { body.append(k, msg.v[k]); });
      } else if (msg.t === "rm_commit") {
        body.append("organization", msg.org); body.append("role", msg.role); body.append("note", msg.note);
      } else if (msg.t === "rm_withdraw") { body.append("commitment", msg.c); }
      else if (msg.t === "rm_comment") { body.append("text", msg.text); }
      else { body.append("on", msg.on ? "1" : "0"); }
      return "/" + msg.t;
    },
    acked: function (msg, m, how) {
      var f = formFor(msg);
      if (how !== "saved" || !f) return;
      if (m.conflict) { M.note(f, "is-error", ""); conflict(f, msg, m); return false; }
      if (m.applied && msg.t === "rm_edit") { version(f, m.version); f.classList.remove("is-dirty"); }
      if (m.suggested) { M.note(f, "is-saved", t("Suggested")); f.classList.remove("is-dirty"); return false; }
      if (m.done === "support") { var v = m.value || {}; own.supported = own.supported.filter(function (i) { return i !== msg.i; }); if (v.on) own.supported.push(msg.i); applyOwn(); }
      if (m.done === "commitment") { own.commitments.push(m.id); }
      if (!f.dataset.slot && msg.t !== "rm_plus" && msg.t !== "rm_withdraw") {
        f.querySelectorAll("input:not([type=hidden]),textarea").forEach(function (e) { e.value = ""; });
      }
    },
    mine: function (m) { own = { supported: m.supported || [], commitments: m.commitments || [] }; if (m.me) meId = String(m.me); applyOwn(); },
    stage: function () { css(); applyOwn(); },
    html: function (el, m) {
      if (m.id.indexOf("rm-item-") === 0) { if (loading[m.id]) loading[m.id].push(m.html); morph(el, m.html); return true; }
      if (m.id.indexOf("rm-ed-") === 0) { el.innerHTML = m.html; editing(el); return true; }
      if (m.id === "stage") {  // the same roadmap drawn again: keep open items and what is typed
        var s = sec(), tmp = document.createElement("div"); tmp.innerHTML = m.html;
        var n = tmp.querySelector("[data-activity]");
        if (!s || !n || n.dataset.kind !== "roadmap" || n.dataset.activity !== s.dataset.activity) return false;
        var open = Array.prototype.filter.call(s.querySelectorAll(".rm-item[open]"), function () { return true; }).map(function (d) { return d.id; });
        var typing = Array.prototype.some.call(s.querySelectorAll("form"), busy);
        if (typing) { n.querySelectorAll(".rm-item").forEach(function (d) { var o = document.getElementById(d.id); if (o) morph(o, d.innerHTML); }); return true; }
        el.innerHTML = m.html;
        open.forEach(function (id) { var d = document.getElementById(id); if (d) { d.open = true; load(d); } });
        applyOwn();
        return true;
      }
      return false;
    }
  });
});
