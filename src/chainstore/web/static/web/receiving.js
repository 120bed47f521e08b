// Receiving draft (Alpine.js): scans become lines; the form posts them as parallel lists.
// Config (URLs, CSRF token, texts, lines to restore) comes from #receiving-config.
document.addEventListener("alpine:init", function () {
  "use strict";
  var seq = 0;
  var config = JSON.parse(document.getElementById("receiving-config").textContent);

  Alpine.data("receiving", function () {
    return {
      lines: [],
      code: "",
      messages: [],
      busy: false,
      posting: false,
      cameraOpen: false,
      camera: null,
      lastId: null,

      init: function () {
        var self = this;
        this.lines = (config.lines || []).map(function (l) { return self.line(l); });
        this.$nextTick(function () { self.focusScan(); });
        // Keep the scan box focused for wedge scanners, unless the user works in a field.
        document.addEventListener("click", function (event) {
          if (!event.target.closest("input, select, textarea, button, a, label, #camera-reader")) {
            self.focusScan();
          }
        });
      },

      line: function (data) {
        seq += 1;
        return {
          id: seq,
          sku: data.sku,
          code: data.code,
          name: data.name,
          unit: data.unit,
          lot_tracked: !!data.lot_tracked,
          gs1: !!data.gs1,
          lot: data.lot || "",
          expiry: data.expiry || "",
          quantity: String(data.quantity || "1"),
        };
      },

      focusScan: function () {
        var el = this.$refs.scan;
        if (el && !this.cameraOpen) el.focus();
      },

      flash: function (level, text) {
        seq += 1;
        var id = seq;
        this.messages = [{ id: id, level: level, text: text }].concat(this.messages).slice(0, 2);
        if (level === "success") {
          var self = this;
          setTimeout(function () { self.dismiss(id); }, 4000);
        }
      },

      dismiss: function (id) {
        this.messages = this.messages.filter(function (m) { return m.id !== id; });
      },

      scan: async function (raw) {
        var code = (raw !== undefined ? raw : this.code).trim();
        this.code = "";
        if (!code || this.busy) return;
        this.busy = true;
        var site = document.getElementById("id_site");
        var body = new URLSearchParams({ code: code, site: site ? site.value : "" });
        try {
          var response = await fetch(config.scanUrl, {
            method: "POST",
            headers: { "X-CSRFToken": config.csrf, Accept: "application/json" },
            body: body,
            credentials: "same-origin",
          });
          var data = null;
          try { data = await response.json(); } catch (e) { data = null; }
          if (!data) {
            this.flash("danger", config.text.failed + " (" + response.status + ")");
          } else if (!data.ok) {
            this.flash("danger", data.message);
          } else {
            this.add(data.line);
          }
        } catch (e) {
          this.flash("danger", config.text.network);
        } finally {
          this.busy = false;
          var self = this;
          this.$nextTick(function () { self.focusScan(); });
        }
      },

      add: function (data) {
        var found = this.lines.find(function (l) {
          if (l.sku !== data.sku) return false;
          return data.gs1 ? l.gs1 && l.lot === data.lot && l.expiry === data.expiry : !l.gs1;
        });
        if (found) {
          this.step(found, 1);
          this.lastId = found.id;
          this.flash("success", found.name + " × " + found.quantity);
          return;
        }
        var line = this.line(data);
        this.lines.unshift(line);
        this.lastId = line.id;
        this.flash("success", config.text.added + ": " + line.name);
        if (line.lot_tracked && !line.gs1) {
          this.flash("warning", config.text.enterLot);
        }
      },

      step: function (line, delta) {
        var n = Number(line.quantity);
        if (!isFinite(n)) n = 0;
        n = Math.round((n + delta) * 1000) / 1000;
        line.quantity = String(n > 0 ? n : 1);
      },

      remove: function (index) {
        this.lines.splice(index, 1);
        this.focusScan();
      },

      submit: function (event) {
        if (this.lines.length === 0 || this.posting) {
          event.preventDefault();
          return;
        }
        this.posting = true; // the idempotency key makes a resend harmless; this avoids the wait
      },

      openCamera: async function () {
        if (typeof Html5Qrcode === "undefined") {
          this.flash("danger", config.text.noCamera);
          return;
        }
        this.cameraOpen = true;
        var self = this;
        await this.$nextTick();
        try {
          var formats = Html5QrcodeSupportedFormats;
          this.camera = new Html5Qrcode("camera-reader", {
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
            function (text) {
              self.closeCamera();
              self.scan(text);
            },
            function () {}
          );
        } catch (e) {
          this.flash("danger", config.text.noCamera);
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
        this.focusScan();
      },
    };
  });
});
