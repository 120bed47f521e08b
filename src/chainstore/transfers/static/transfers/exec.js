// Transfer execution on a phone (Alpine.js). Two components, configured from #exec-config:
// - transferShip: the pick list in route order; scan the bin, the item (and the lot), post
//   to /api/v1/transfers/lots/{id}/pick with an Idempotency-Key made for this attempt (a
//   resend after a lost answer moves nothing); then the ship form posts /{number}/ship.
// - transferReceive: each scan is resolved to a transfer line by the page's scan endpoint
//   and counted (or counted as damaged); "Post receipt" posts /{number}/receive.
document.addEventListener("alpine:init", function () {
  "use strict";
  var node = document.getElementById("exec-config");
  if (!node) return;
  var config = JSON.parse(node.textContent);
  var seq = 0;

  function newKey(prefix) {
    if (window.crypto && window.crypto.randomUUID) return prefix + "-" + window.crypto.randomUUID();
    return prefix + "-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }
  function num(text) {
    var n = Number(String(text === undefined || text === null ? "" : text).replace(",", "."));
    return isFinite(n) ? n : 0;
  }
  function fmt(text) { return String(Math.round(num(text) * 1000) / 1000); }
  function post(url, body, key) {
    var headers = { "Content-Type": "application/json", "X-CSRFToken": config.csrf };
    if (key) headers["Idempotency-Key"] = key;
    return fetch(url, { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "same-origin" })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, data: data }; });
      });
  }
  var messaging = {
    messages: [],
    say: function (level, text) {
      this.messages = [{ id: ++seq, level: level, text: text }].concat(this.messages).slice(0, 3);
    },
  };

  Alpine.data("transferShip", function () {
    return Object.assign({}, messaging, {
      config: config, fmt: fmt, tasks: config.tasks, status: config.status,
      current: null, binCode: "", itemCode: "", lotCode: "", quantity: "", key: "", busy: false,
      tracking: "", shipKey: newKey("ship"),
      init: function () { this.next(); },
      // A method, not a getter: Object.assign would read a getter once and freeze it.
      pickedAny: function () { return this.tasks.some(function (t) { return num(t.picked) > 0; }); },
      next: function () {
        this.current = this.tasks.find(function (t) { return num(t.remaining) > 0; }) || null;
        this.binCode = ""; this.itemCode = ""; this.lotCode = "";
        this.quantity = this.current ? fmt(this.current.remaining) : "";
        this.key = newKey("pick");
        var self = this;
        this.$nextTick(function () { if (self.$refs.bin) self.$refs.bin.focus(); });
      },
      pick: function () {
        if (!this.current || this.busy) return;
        var self = this, task = this.current;
        this.busy = true;
        post(config.api + "/lots/" + task.id + "/pick",
          { bin_scan: this.binCode, item_scan: this.itemCode, lot_scan: this.lotCode || null, quantity: this.quantity }, this.key)
          .then(function (r) {
            if (!r.ok) { self.say("danger", r.data.message || config.text.failed); return; }
            task.picked = r.data.task.picked; task.remaining = r.data.task.remaining;
            self.status = "picking";
            self.say("success", config.text.picked);
            self.next();
          })
          .catch(function () { self.say("danger", config.text.failed); })
          .finally(function () { self.busy = false; });
      },
      ship: function (event) {
        var form = event.target, self = this;
        this.busy = true;
        post(config.api + "/" + config.number + "/ship", {
          carrier: form.carrier.value, freight: form.freight.value || "0",
          handling: form.handling.value || "0", cost_basis: form.cost_basis.value,
        }, this.shipKey)
          .then(function (r) {
            if (!r.ok) { self.say("danger", r.data.message || config.text.failed); return; }
            self.tracking = r.data.tracking_number; self.status = r.data.status;
            self.say("success", config.text.shipped);
          })
          .catch(function () { self.say("danger", config.text.failed); })
          .finally(function () { self.busy = false; });
      },
    });
  });

  Alpine.data("transferReceive", function () {
    var kinds = document.getElementById("exec-kind-text");
    var found = document.getElementById("exec-discrepancies");
    return Object.assign({}, messaging, {
      config: config, fmt: fmt, status: config.status, code: "", damagedMode: false, final: true, busy: false,
      key: newKey("receive"),
      kindText: kinds ? { short: kinds.dataset.short, over: kinds.dataset.over, damaged: kinds.dataset.damaged } : {},
      discrepancies: found ? JSON.parse(found.textContent) : [],
      lines: config.lines.map(function (ln) { return Object.assign({ counted: 0, damagedCount: 0, lots: {} }, ln); }),
      expected: function (ln) { return num(ln.in_transit); },
      total: function (ln) { return num(ln.counted) + num(ln.damagedCount); },
      scan: function () {
        var self = this, code = this.code.trim();
        this.code = "";
        if (!code) return;
        fetch(config.scanUrl + "?code=" + encodeURIComponent(code), { credentials: "same-origin" })
          .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
          .then(function (r) {
            if (!r.ok) { self.say("danger", r.data.message || config.text.unknown); return; }
            var ln = self.lines.find(function (l) { return l.id === r.data.line_id; });
            if (!ln) { self.say("danger", config.text.unknown); return; }
            if (self.damagedMode) ln.damagedCount = num(ln.damagedCount) + 1; else ln.counted = num(ln.counted) + 1;
            if (r.data.lot) ln.lots[r.data.lot] = (ln.lots[r.data.lot] || 0) + 1;
            self.say("success", ln.sku_name + " " + fmt(self.total(ln)) + "/" + fmt(self.expected(ln)));
          })
          .catch(function () { self.say("danger", config.text.failed); });
      },
      submit: function () {
        if (this.final && !window.confirm(config.text.confirm)) return;
        var self = this;
        var lines = this.lines.filter(function (ln) { return self.total(ln) > 0 || self.final; })
          .map(function (ln) { return { line_id: ln.id, received: String(num(ln.counted)), damaged: String(num(ln.damagedCount)) }; });
        this.busy = true;
        post(config.api + "/" + config.number + "/receive", { lines: lines, final: this.final }, this.key)
          .then(function (r) {
            if (!r.ok) { self.say("danger", r.data.message || config.text.failed); return; }
            self.status = r.data.transfer.status;
            self.discrepancies = r.data.discrepancies;
            r.data.transfer.lines.forEach(function (out) {
              var ln = self.lines.find(function (l) { return l.id === out.id; });
              if (ln) { ln.in_transit = out.in_transit; ln.counted = 0; ln.damagedCount = 0; }
            });
            self.key = newKey("receive");
            self.say("success", config.text.received);
          })
          .catch(function () { self.say("danger", config.text.failed); })
          .finally(function () { self.busy = false; });
      },
    });
  });
});
