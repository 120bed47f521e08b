// The shift page (Alpine.js): open a shift with the float, the running X report, close
// with the counted cash and see the variance. All through /api/v1/pos/shifts.
document.addEventListener("alpine:init", function () {
  "use strict";
  var T = window.csTill;
  var config = T.readConfig("shift-config");
  var text = config.text;

  Alpine.data("shiftPage", function () {
    return {
      text: text,
      shift: null,
      report: null,
      floatAmount: "",
      counted: "",
      note: "",
      busy: false,
      messages: [],
      seq: 0,

      init: function () {
        var self = this;
        if (config.shift) this.load(config.shift.id);
        else this.$nextTick(function () { if (self.$refs.float) self.$refs.float.focus(); });
      },

      yuan: function (value) {
        return value === null || value === undefined ? "—" : T.yuan(T.toFen(value));
      },

      signed: function (value) {
        if (value === null || value === undefined) return "—";
        var fen = T.toFen(value);
        return (fen > 0 ? "+" : "") + T.yuan(fen);
      },

      varianceClass: function (value) {
        var fen = T.toFen(value);
        if (isNaN(fen)) return "";
        return fen === 0 ? "text-success" : "text-danger";
      },

      get varianceBorder() {
        if (!this.shift || this.shift.variance === null || this.shift.variance === undefined) return "";
        return T.toFen(this.shift.variance) === 0 ? "border-success" : "border-danger";
      },

      get previewVariance() {
        var counted = T.toFen(this.counted);
        if (isNaN(counted) || !this.report) return null;
        return T.money(counted - T.toFen(this.report.cash.expected));
      },

      time: function (iso) {
        return iso ? new Date(iso).toLocaleString() : "";
      },

      flash: function (level, message) {
        this.seq += 1;
        this.messages = [{ id: this.seq, level: level, text: message }];
      },

      load: async function (id) {
        var result = await T.api(config, "GET", "/shifts/" + id);
        if (!result.ok) {
          this.flash("danger", T.errorText(config, result));
          return;
        }
        this.shift = result.data;
        await this.loadReport();
      },

      loadReport: async function () {
        if (!this.shift) return;
        var result = await T.api(config, "GET", "/shifts/" + this.shift.id + "/x-report");
        if (!result.ok) {
          this.flash("danger", T.errorText(config, result));
          return;
        }
        this.report = result.data;
      },

      open: async function () {
        var fen = this.floatAmount.trim() === "" ? 0 : T.toFen(this.floatAmount);
        if (isNaN(fen) || fen < 0) {
          this.flash("danger", text.badAmount);
          return;
        }
        this.busy = true;
        var result = await T.api(config, "POST", "/shifts", {
          store: config.store, till: config.till, opening_float: T.money(fen),
        });
        this.busy = false;
        if (!result.ok) {
          this.flash("danger", T.errorText(config, result));
          return;
        }
        this.flash("success", text.opened);
        this.floatAmount = "";
        this.shift = result.data;
        await this.loadReport();
      },

      close: async function () {
        var fen = T.toFen(this.counted);
        if (isNaN(fen) || fen < 0) {
          this.flash("danger", text.badAmount);
          return;
        }
        if (!window.confirm(text.confirmClose)) return;
        this.busy = true;
        var result = await T.api(config, "POST", "/shifts/" + this.shift.id + "/close", {
          counted_cash: T.money(fen), note: this.note.trim(),
        });
        this.busy = false;
        if (!result.ok) {
          this.flash("danger", T.errorText(config, result));
          return;
        }
        this.flash("success", text.closed);
        this.shift = result.data;
        this.counted = "";
        this.note = "";
        await this.loadReport();
      },
    };
  });
});
