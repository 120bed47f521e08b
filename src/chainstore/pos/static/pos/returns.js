// The return flow (Alpine.js): find the receipt by its number (scan the receipt's
// barcode), pick lines, quantities and their condition, preview the refund (with any
// discount a broken promotion recovers), confirm with an Idempotency-Key kept across
// retries, print the return receipt. Store managers may also return without a receipt.
document.addEventListener("alpine:init", function () {
  "use strict";
  var T = window.csTill;
  var config = T.readConfig("returns-config");
  var text = config.text;
  var seq = 0;

  Alpine.data("returnsPage", function () {
    return {
      text: text,
      reasons: config.reasons || [],
      mode: "receipt",
      code: "",
      sale: null,
      rows: [],
      reason: "",
      refundKind: "cash",
      preview: null,
      pending: null,
      uncertain: false,
      done: null,
      busy: false,
      messages: [],

      init: function () {
        var self = this;
        this.$nextTick(function () { self.focusScan(); });
        if (config.original) {
          this.code = config.original;
          this.scan();
        }
      },

      yuan: function (value) {
        return T.yuan(typeof value === "number" ? value : T.toFen(value));
      },

      qty: function (value) {
        return T.qty(T.toMilli(value));
      },

      time: function (iso) {
        return iso ? new Date(iso).toLocaleString() : "";
      },

      focusScan: function () {
        if (this.$refs.scan && !this.$refs.scan.disabled) this.$refs.scan.focus();
      },

      flash: function (level, message) {
        seq += 1;
        this.messages = [{ id: seq, level: level, text: message }];
      },

      onKey: function (event) {
        if (event.key === "Escape" && !this.uncertain) {
          event.preventDefault();
          if (this.code) this.code = "";
          else this.reset();
        } else if (event.key === "F9" && this.preview && !this.done) {
          event.preventDefault();
          this.confirm();
        }
      },

      setMode: function (mode) {
        if (this.uncertain) return;
        this.mode = mode;
        this.reset();
      },

      reset: function () {
        if (this.uncertain) return;
        this.sale = null;
        this.rows = [];
        this.preview = null;
        this.pending = null;
        this.done = null;
        this.reason = "";
        this.code = "";
        this.messages = [];
        var self = this;
        this.$nextTick(function () { self.focusScan(); });
      },

      get picked() {
        return this.rows.filter(function (r) { return r.quantity > 0; });
      },

      // How the refund is paid: points and gift cards back to themselves, the rest in cash
      // (without a receipt, the kind the cashier picked).
      get refundParts() {
        var p = this.preview;
        if (!p) return [];
        if (this.mode === "unreceipted" && this.refundKind !== "cash") {
          return [{ kind: this.refundKind, amount: p.refund_total }];
        }
        return p.refunds || [];
      },

      get recovered() {
        var p = this.preview;
        if (!p) return [];
        var list = Array.isArray(p.recovered) ? p.recovered : [];
        return list.map(function (r, i) {
          return { key: i, name: r.name || r.promotion || r.code || "", amount: r.amount, explanation: r.explanation || "" };
        });
      },

      scan: async function () {
        if (this.uncertain) return; // keep the sent return as it is until it is settled
        var code = this.code.trim();
        this.code = "";
        if (!code || this.busy) return;
        if (this.mode === "unreceipted") {
          this.addScan(code);
          return;
        }
        this.busy = true;
        var result = await T.api(config, "GET", "/sales/by-number/" + encodeURIComponent(code));
        this.busy = false;
        if (!result.ok) {
          this.flash("danger", result.status === 404 ? text.notFound + " (" + code + ")" : T.errorText(config, result));
          return;
        }
        if (result.data.kind && result.data.kind !== "sale") {
          this.flash("danger", text.notSale);
          return;
        }
        this.load(result.data);
      },

      load: function (sale) {
        if (this.uncertain) return; // keep the sent return as it is until it is settled
        this.sale = sale;
        this.preview = null;
        this.pending = null;
        this.messages = [];
        this.rows = (sale.lines || []).map(function (line) {
          var sold = T.toMilli(line.quantity);
          var returned = T.toMilli(line.returned_quantity || "0");
          return {
            key: "l" + line.line_no,
            line_no: line.line_no,
            name: line.name,
            sku: line.sku,
            gift: !!line.is_gift,
            weighed: line.unit === "kg",
            sold: T.qty(sold),
            returned: returned ? T.qty(returned) : "",
            returnable: sold - returned,
            net: T.yuan(T.toFen(line.net)),
            quantity: 0,
            quantityText: "0",
            condition: "sellable",
          };
        });
      },

      addScan: function (code) {
        if (this.uncertain) return; // keep the sent return as it is until it is settled
        var found = this.rows.find(function (r) { return r.scan === code; });
        if (found) {
          this.stepLine(found, 1);
          return;
        }
        seq += 1;
        this.rows.push({
          key: "u" + seq, scan: code, name: code, sku: "", gift: false, weighed: false,
          sold: "", returned: "", returnable: Infinity, net: "",
          quantity: 1000, quantityText: "1", condition: "sellable",
        });
        this.preview = null;
      },

      stepLine: function (row, delta) {
        var step = row.weighed ? row.returnable : 1000;
        this.putQuantity(row, Math.max(0, row.quantity + delta * step));
      },

      setLine: function (row, value) {
        var milli = T.toMilli(value);
        this.putQuantity(row, isNaN(milli) ? 0 : milli);
      },

      putQuantity: function (row, milli) {
        if (this.uncertain) return; // keep the sent return as it is until it is settled
        if (milli > row.returnable) {
          this.flash("warning", text.tooMany);
          milli = row.returnable;
        }
        row.quantity = milli;
        row.quantityText = T.qty(milli);
        if (this.mode === "unreceipted" && milli === 0) {
          this.rows.splice(this.rows.indexOf(row), 1);
        }
        this.preview = null;
        this.pending = null;
      },

      setCondition: function (row, value) {
        if (this.uncertain) return; // keep the sent return as it is until it is settled
        row.condition = value;
        this.preview = null;
        this.pending = null;
      },

      body: function () {
        var body = { store: config.store, till: config.till, reason: this.reason.trim() };
        if (this.mode === "receipt") {
          body.original = this.sale.number;
          body.lines = this.picked.map(function (r) {
            return { line_no: r.line_no, quantity: T.qty(r.quantity), condition: r.condition };
          });
        } else {
          body.lines = this.picked.map(function (r) {
            return { scan: r.scan, quantity: T.qty(r.quantity), condition: r.condition };
          });
          if (this.refundKind !== "cash" && this.preview) {
            body.refund = [{ kind: this.refundKind, amount: this.preview.refund_total }];
          }
        }
        return body;
      },

      runPreview: async function () {
        if (this.uncertain) return; // keep the sent return as it is until it is settled
        if (!this.picked.length) {
          this.flash("warning", text.nothingPicked);
          return;
        }
        if (!this.reason.trim()) {
          this.flash("warning", text.needReason);
          this.$refs.reason.focus();
          return;
        }
        this.busy = true;
        var result = await T.api(config, "POST", "/returns/preview", this.body());
        this.busy = false;
        if (!result.ok) {
          this.flash("danger", T.errorText(config, result));
          return;
        }
        this.messages = [];
        this.preview = result.data;
        this.pending = null;
        if (this.mode === "unreceipted") this.learnNames(result.data);
      },

      learnNames: function (preview) {
        var self = this;
        (preview.lines || []).forEach(function (line, i) {
          var row = self.picked[i];
          if (row) { row.name = line.name; row.sku = line.sku; }
        });
      },

      confirm: async function () {
        if (this.busy || !this.preview) return;
        if (!this.pending) this.pending = { key: T.newKey("return"), body: this.body() };
        this.busy = true;
        var result = await T.api(config, "POST", "/returns", this.pending.body, { "Idempotency-Key": this.pending.key });
        this.busy = false;
        if (result.ok) {
          this.pending = null;
          this.uncertain = false;
          this.done = result.data;
          this.flash("success", text.done);
          return;
        }
        if (result.status === 0 || result.status >= 500) {
          this.uncertain = true; // same key on retry: it cannot refund twice
          this.flash("warning", text.uncertain);
          return;
        }
        this.pending = null;
        this.uncertain = false;
        this.preview = null;
        this.flash("danger", T.errorText(config, result));
      },

      receiptHref: function (id) {
        return config.receiptUrl.replace("/0/", "/" + id + "/");
      },
    };
  });
});
