// Phone picking (Alpine.js): one task at a time in route order. Scan the bin, then the item
// (and the lot when the barcode does not carry it); each confirmation posts to
// /api/v1/fulfilment/pick-tasks/{id}/pick with an Idempotency-Key made for this attempt,
// so a resend after a lost answer is answered from the first result and moves nothing.
// Works with a wedge scanner (types + Enter) and with the camera (html5-qrcode).
// Config (API base, CSRF token, the list in route order, texts) comes from #pick-config.
document.addEventListener("alpine:init", function () {
  "use strict";
  var seq = 0;
  var config = JSON.parse(document.getElementById("pick-config").textContent);

  function newKey(prefix) {
    if (window.crypto && window.crypto.randomUUID) return prefix + "-" + window.crypto.randomUUID();
    return prefix + "-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  // "2.000" -> "2", "0.450" -> "0.45": quantities as people read them.
  function fmt(text) {
    var n = decimal(text);
    return isFinite(n) ? String(Math.round(n * 1000) / 1000) : String(text);
  }

  function decimal(text) {
    var n = Number(String(text).replace(",", "."));
    return isFinite(n) ? n : NaN;
  }

  Alpine.data("picking", function () {
    return {
      text: config.text,
      fmt: fmt,
      tasks: config.pickList.tasks,
      current: null,
      finished: false,
      step: "bin",
      binCode: "",
      itemCode: "",
      lotCode: "",
      quantity: "",
      found: "0",
      key: "",
      shortKey: "",
      shortOpen: false,
      busy: false,
      messages: [],
      cameraOpen: false,
      cameraField: null,
      camera: null,

      init: function () {
        this.current = this.tasks.find(function (t) { return t.status === "open"; }) || null;
        this.finished = this.tasks.length > 0 && !this.current && config.pickList.status !== "open";
        this.resetForm();
      },

      get doneCount() {
        return this.tasks.filter(function (t) { return t.status !== "open"; }).length;
      },

      get percent() {
        return this.tasks.length ? Math.round((this.doneCount / this.tasks.length) * 100) : 0;
      },

      resetForm: function () {
        this.binCode = "";
        this.itemCode = "";
        this.lotCode = "";
        this.quantity = this.current ? String(decimal(this.current.remaining)) : "";
        this.found = "0";
        this.key = newKey("pick");
        this.shortOpen = false;
        this.focus("bin");
      },

      focus: function (field) {
        this.step = field;
        var self = this;
        this.$nextTick(function () {
          var el = self.$refs[field];
          if (el && !self.cameraOpen) el.focus();
        });
      },

      flash: function (level, text) {
        seq += 1;
        var id = seq;
        this.messages = [{ id: id, level: level, text: text }].concat(this.messages).slice(0, 2);
        if (level === "success") {
          var self = this;
          setTimeout(function () { self.dismiss(id); }, 3000);
        } else if (level === "danger" && navigator.vibrate) {
          navigator.vibrate(200);
        }
      },

      dismiss: function (id) {
        this.messages = this.messages.filter(function (m) { return m.id !== id; });
      },

      onBin: function () {
        var code = this.binCode.trim();
        if (!code || !this.current) return;
        if (code.toUpperCase() !== this.current.bin.toUpperCase()) {
          this.flash("warning", this.text.otherBin);
        }
        this.focus("item");
      },

      onItem: function () {
        var code = this.itemCode.trim();
        if (!code) return;
        // A GS1 code (longer than a GTIN) carries the lot; otherwise ask for it.
        var carriesLot = code.length > 14 || code.indexOf("(10)") >= 0;
        if (this.current.lot_tracked && !this.lotCode.trim() && !carriesLot) {
          this.focus("lot");
          return;
        }
        this.confirm();
      },

      stepQuantity: function (delta) {
        var n = decimal(this.quantity);
        var max = decimal(this.current.remaining);
        if (!isFinite(n)) n = max;
        n = Math.round((n + delta) * 1000) / 1000;
        this.quantity = String(Math.min(Math.max(n, 1), max));
      },

      post: async function (path, body, key) {
        var response = await fetch(config.api + path, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            "X-CSRFToken": config.csrf,
            "Idempotency-Key": key,
          },
          credentials: "same-origin",
          body: JSON.stringify(body),
        });
        var data = null;
        try { data = await response.json(); } catch (e) { data = null; }
        return { ok: response.ok, status: response.status, data: data };
      },

      confirm: async function () {
        if (this.busy || !this.current) return;
        if (!this.binCode.trim()) { this.focus("bin"); return; }
        if (!this.itemCode.trim()) { this.focus("item"); return; }
        this.busy = true;
        var task = this.current;
        try {
          var result = await this.post("/pick-tasks/" + task.id + "/pick", {
            bin: this.binCode.trim(),
            item: this.itemCode.trim(),
            lot: this.lotCode.trim() || null,
            quantity: String(this.quantity).trim(),
          }, this.key);
          if (result.ok) {
            this.replace(result.data.task);
            this.flash("success", this.text.picked + ": " + task.name + " × " + fmt(result.data.picked.quantity));
            this.advance(result.data.next_task);
          } else {
            this.refused(result);
          }
        } catch (e) {
          this.flash("danger", this.text.network);  // same key: resending is safe
        } finally {
          this.busy = false;
        }
      },

      refused: function (result) {
        var data = result.data || {};
        this.flash("danger", data.message || this.text.failed + " (" + result.status + ")");
        var field = {
          unknown_bin: "bin", wrong_bin: "bin",
          wrong_item: "item", unknown_barcode: "item", bad_check_digit: "item", invalid_barcode: "item",
          lot_required: "lot", unknown_lot: "lot", wrong_lot: "lot", lot_expired: "lot", fefo_violation: "lot",
        }[data.code];
        if (field === "bin") this.binCode = "";
        if (field === "item") this.itemCode = "";
        if (field === "lot") { this.lotCode = ""; this.itemCode = this.itemCode.length > 14 ? "" : this.itemCode; }
        if (field) this.focus(field === "lot" && !this.itemCode ? "item" : field);
      },

      replace: function (fresh) {
        if (!fresh) return;
        this.tasks = this.tasks.map(function (t) { return t.id === fresh.id ? fresh : t; });
      },

      advance: function (next) {
        if (next) this.replace(next);
        var stillOpen = this.tasks.find(function (t) { return t.status === "open"; });
        this.current = next || stillOpen || null;
        if (!this.current) {
          this.finished = true;
          return;
        }
        this.resetForm();
      },

      openShort: function () {
        this.shortOpen = true;
        this.shortKey = newKey("short");
        var self = this;
        this.$nextTick(function () { if (self.$refs.found) self.$refs.found.select(); });
      },

      reportShort: async function () {
        if (this.busy || !this.current) return;
        this.busy = true;
        var task = this.current;
        try {
          var result = await this.post(
            "/pick-tasks/" + task.id + "/short", { found: String(this.found).trim() || "0" }, this.shortKey
          );
          if (result.ok) {
            var data = result.data;
            var picked = (decimal(task.picked) + decimal(data.found)).toFixed(3);
            var done = Object.assign({}, task, { status: "short", short: data.short, picked: picked });
            this.replace(done);
            this.flash("warning", this.text.short + ": " + task.name + " − " + fmt(data.short) + ". " +
              (data.decision && !data.resource_error ? this.text.resourced : this.text.backordered));
            this.advance(data.next_task);
          } else {
            this.refused(result);
          }
        } catch (e) {
          this.flash("danger", this.text.network);
        } finally {
          this.busy = false;
        }
      },

      openCamera: async function (field) {
        if (typeof Html5Qrcode === "undefined") {
          this.flash("danger", this.text.noCamera);
          return;
        }
        if (this.cameraOpen) await this.closeCamera();
        this.cameraOpen = true;
        this.cameraField = field;
        var self = this;
        await this.$nextTick();
        try {
          var formats = Html5QrcodeSupportedFormats;
          this.camera = new Html5Qrcode("pick-camera", {
            verbose: false,
            useBarCodeDetectorIfSupported: true,
            formatsToSupport: [
              formats.EAN_13, formats.EAN_8, formats.UPC_A, formats.UPC_E,
              formats.CODE_128, formats.DATA_MATRIX, formats.QR_CODE, formats.ITF, formats.CODE_39,
            ],
          });
          await this.camera.start(
            { facingMode: "environment" },
            { fps: 10, qrbox: function (w, h) { return { width: Math.floor(w * 0.8), height: Math.floor(h * 0.5) }; } },
            function (decoded) {
              var target = self.cameraField;
              self.closeCamera().then(function () {
                if (target === "bin") { self.binCode = decoded; self.onBin(); }
                else if (target === "item") { self.itemCode = decoded; self.onItem(); }
                else { self.lotCode = decoded; self.confirm(); }
              });
            },
            function () { /* no code in this frame */ }
          );
        } catch (e) {
          this.flash("danger", this.text.noCamera);
          this.closeCamera();
        }
      },

      closeCamera: async function () {
        var camera = this.camera;
        this.camera = null;
        this.cameraOpen = false;
        if (camera) {
          try { await camera.stop(); } catch (e) { /* not started */ }
          try { camera.clear(); } catch (e) { /* already cleared */ }
        }
      },
    };
  });
});
