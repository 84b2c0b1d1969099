// Minka participant page, ranking: the ballot is drawn from `order` (drag with SortableJS,
// loaded when first needed, or the arrow buttons) and sent on Save; in the pairwise mode each
// choice is sent at once. Registers with the transport (phone/transport.js).
(window.minkaKinds = window.minkaKinds || []).push(function (M) {
  "use strict";
  var root = M.root, d = M.text, order = [], dirty = false;

  function rankCard() { return root.querySelector(".ranking-card"); }
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
  function row(list, item, name, buttons) {
    var li = document.createElement("li"); li.dataset.item = item;
    var span = document.createElement("span"); span.className = "item-text"; span.textContent = name; li.appendChild(span);
    var c = document.createElement("span"); c.className = "row controls";
    buttons.forEach(function (b) { c.appendChild(b); });
    li.appendChild(c); list.appendChild(li);
  }
  // A line not ranked yet: one row to tap, which adds it (the form's own button).
  function pickRow(list, item, name, disabled) {
    var li = document.createElement("li"); li.dataset.item = item;
    var b = button("in", item, "", d.textIn + ": " + name, disabled); b.className = "choice pick";
    var sign = document.createElement("span"); sign.className = "pick-sign"; sign.setAttribute("aria-hidden", "true"); sign.textContent = "+";
    var span = document.createElement("span"); span.className = "item-text"; span.textContent = name;
    b.appendChild(sign); b.appendChild(span); li.appendChild(b); list.appendChild(li);
  }
  function draw() {
    var f = rankCard();
    if (!f) return;
    var k = +M.stage().dataset.k, t = titles(), mine = f.querySelector(".my-ranking"), rest = f.querySelector(".unranked");
    mine.textContent = ""; rest.textContent = "";
    order.forEach(function (item, i) {
      var name = t[item] || "";
      row(mine, item, name, [button("up", item, "↑", d.textUp + ": " + name, i === 0),
                             button("down", item, "↓", d.textDown + ": " + name, i === order.length - 1),
                             button("out", item, "✕", d.textOut + ": " + name)]);
    });
    Object.keys(t).forEach(function (item) {
      if (order.indexOf(+item) < 0) pickRow(rest, item, t[item], order.length >= k);
    });
    // No heading over an empty list.
    mine.hidden = f.querySelector(".mine-head").hidden = !order.length;
    f.querySelector(".rest-head").hidden = !rest.children.length;
    f.querySelector("input[name=order]").value = order.join(",");
    var st = root.querySelector(".rank-status");
    if (st) st.textContent = M.fmt(d.textRanked, { n: order.length, k: k });
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
  function unsaved() { var f = rankCard(); if (f) f.querySelector(".saved").textContent = d.textUnsaved; }
  function changed() {
    dirty = true; draw();
    rankCard().classList.remove("is-saved"); unsaved();
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
    if (!b || !M.stage()) return;
    var f = b.closest("form");
    e.preventDefault();
    if (b.name === "choice") {
      M.send({ t: "pair", x: +f.querySelector("input[name=a]").value, y: +f.querySelector("input[name=b]").value, c: b.value });
      f.querySelector(".pair").hidden = true;
    } else if (b.value === "save") {
      M.send({ t: "rank", order: order.slice() });
    } else {
      rankOp(b.value);
    }
  });

  M.kind("ranking", {
    sends: ["rank", "pair"],
    slot: function (msg) { return msg.t === "pair" ? Math.min(msg.x, msg.y) + "-" + Math.max(msg.x, msg.y) : ""; },
    card: function (msg) { return root.querySelector(msg.t === "rank" ? ".ranking-card" : ".pair-card"); },
    form: function (msg, body) {
      if (msg.t === "rank") { body.append("order", msg.order.join(",")); body.append("op", "save"); return "/rank"; }
      body.append("a", msg.x); body.append("b", msg.y); body.append("choice", msg.c);
      return "/pair";
    },
    // Another activity starts from the ballot in the page (none when broadcast); the same
    // one, re-drawn (a timer, a reveal, a reconnect), keeps the draft.
    stage: function (s, fresh) {
      if (fresh) { var input = s.querySelector(".ranking-card input[name=order]"); order = input && input.value ? input.value.split(",").map(Number) : []; dirty = false; }
      draw();
      if (dirty) unsaved();
    },
    acked: function (msg, m, how) {
      if (msg.t === "pair") {
        if (how === "saved" && !M.online()) location.reload();  // the next pair comes with the page
        return;
      }
      if (how === "superseded" && !dirty && m.order) { order = m.order.slice(); draw(); }
      if (how !== "saved") return;
      if (msg.order.join() !== order.join()) {
        // Saved, but the list changed since: what is on screen is not what was saved.
        var f = rankCard(); if (f) f.classList.remove("is-saving"); unsaved();
        return false;
      }
      dirty = false;
    },
    mine: function (m) {
      if (m.ranking) { if (!dirty) { order = m.ranking.slice(); draw(); } }
      else if ("pair" in m) setPair(m.pair);
    }
  });
});
