// Outbound check (复核) on a phone (Alpine.js over /api/v1/fulfilment, session + CSRF):
// find the shipment, scan every item against the checklist, weigh, pack, ship, print.
// Config (URLs, CSRF token, texts, sites) comes from #check-config.
document.addEventListener("alpine:init", function () {
  "use strict";
  var seq = 0;
  var config = JSON.parse(document.getElementById("check-config").textContent);

  function milli(value) {
    var n = Number(value);
    return isFinite(n) ? Math.round(n * 1000) : NaN;
  }

  function shipKey(number) {
    // One key per shipment hand-over, kept across reloads: a retry after a lost answer
    // replays the first shipment instead of shipping twice.
    var name = "chainstore.ship." + number;
    var key = window.sessionStorage.getItem(name);
    if (!key) {
      key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
      window.sessionStorage.setItem(name, key);
    }
    return key;
  }

  Alpine.data("outboundCheck", function () {
    return {
      config: config,
      site: config.site,
      docScan: config.scan,
      itemScan: "",
      itemQty: "",
      weight: "",
      choices: [],
      shipment: null,
      parcels: [],
      editing: false,
      mismatch: false,
      messages: [],
      busy: false,
      lastLine: null,

      init: function () {
        var self = this;
        if (this.docScan && this.site) this.lookup();
        this.$nextTick(function () { self.focus(); });
        document.addEventListener("click", function (event) {
          if (!event.target.closest("input, select, textarea, button, a, label")) self.focus();
        });
      },

      focus: function () {
        var el = this.shipment ? this.$refs.item : this.$refs.doc;
        if (el && !el.disabled && el.offsetParent !== null) el.focus();
      },

      flash: function (level, text, code) {
        seq += 1;
        var id = seq;
        this.messages = [{ id: id, level: level, text: text, code: code || "" }].concat(this.messages).slice(0, 3);
        if (level === "success") {
          var self = this;
          setTimeout(function () { self.dismiss(id); }, 3500);
        }
      },

      dismiss: function (id) {
        this.messages = this.messages.filter(function (m) { return m.id !== id; });
      },

      call: async function (method, url, body, headers) {
        this.busy = true;
        try {
          var response = await fetch(url, {
            method: method,
            headers: Object.assign(
              { "X-CSRFToken": config.csrf, Accept: "application/json", "Content-Type": "application/json" },
              headers || {}
            ),
            body: body === undefined ? undefined : JSON.stringify(body),
            credentials: "same-origin",
          });
          var data = null;
          try { data = await response.json(); } catch (e) { data = null; }
          if (!response.ok) {
            var message = data && data.message ? data.message : config.text.failed + " (" + response.status + ")";
            this.flash("danger", message, data && data.code);
            return { ok: false, data: data };
          }
          return { ok: true, data: data };
        } catch (e) {
          this.flash("danger", config.text.network);
          return { ok: false, data: null };
        } finally {
          this.busy = false;
          var self = this;
          this.$nextTick(function () { self.focus(); });
        }
      },

      url: function (number, suffix) {
        return config.shipmentUrl.replace(config.placeholder, encodeURIComponent(number)) + (suffix || "");
      },

      detailUrl: function () {
        return this.shipment ? config.detailUrl.replace(config.placeholder, encodeURIComponent(this.shipment.number)) : "#";
      },

      // -- finding the shipment --------------------------------------------------------
      lookup: async function () {
        var scan = this.docScan.trim();
        if (!scan) return;
        if (!this.site) { this.flash("warning", config.text.chooseSite); return; }
        var query = new URLSearchParams({ scan: scan, site: this.site });
        var result = await this.call("GET", config.lookupUrl + "?" + query.toString());
        if (!result.ok) return;
        this.choices = result.data;
        if (this.choices.length === 1) this.open(this.choices[0].number);
      },

      open: async function (number) {
        var result = await this.call("GET", this.url(number));
        if (result.ok) this.show(result.data);
      },

      close: function () {
        this.shipment = null;
        this.choices = [];
        this.docScan = "";
        this.weight = "";
        this.mismatch = false;
        this.editing = false;
        var self = this;
        this.$nextTick(function () { self.focus(); });
      },

      show: function (data) {
        this.shipment = data;
        this.choices = [];
        if (data.status === "checked") this.defaultParcels();
        if (data.status === "packed") this.parcelsFrom(data.parcels);
        if (data.weight_g && !this.weight) this.weight = String(data.weight_g);
      },

      // -- the checklist ---------------------------------------------------------------
      num: function (value) { return Number(value); },
      done: function (line) { return Number(line.checked) >= Number(line.picked) && Number(line.picked) > 0; },
      pct: function (line) {
        var picked = Number(line.picked);
        return picked > 0 ? Math.min(100, Math.round(100 * Number(line.checked) / picked)) : 0;
      },
      progress: function () {
        var lines = this.shipment ? this.shipment.lines : [];
        var checked = 0, picked = 0;
        lines.forEach(function (l) { checked += Number(l.checked); picked += Number(l.picked); });
        return checked + " / " + picked;
      },
      statusClass: function () {
        var s = this.shipment && this.shipment.status;
        return { picked: "text-bg-warning", checked: "text-bg-info", packed: "text-bg-primary", shipped: "text-bg-success", delivered: "text-bg-success" }[s] || "text-bg-secondary";
      },

      scanItem: async function () {
        var code = this.itemScan.trim();
        this.itemScan = "";
        if (!code || this.busy) return;
        var body = { scan: code };
        if (this.itemQty !== "" && Number(this.itemQty) > 0) body.quantity = String(this.itemQty);
        var result = await this.call("POST", this.url(this.shipment.number, "/check-scan"), body);
        this.itemQty = "";
        if (!result.ok) return;
        this.shipment = result.data.shipment;
        this.lastLine = result.data.line_id;
        var line = this.shipment.lines.find(function (l) { return l.id === result.data.line_id; });
        var text = config.text.counted + ": " + (line ? line.name : result.data.sku) +
          (result.data.lot ? " [" + result.data.lot + "]" : "") + " × " + Number(result.data.quantity);
        this.flash("success", text);
        if (result.data.complete) {
          this.flash("success", config.text.allChecked);
          this.$nextTick(function () { document.getElementById("weight").focus(); });
        }
      },

      resetCount: async function () {
        if (!window.confirm(config.text.confirmReset)) return;
        var result = await this.call("POST", this.url(this.shipment.number, "/reset-check"));
        if (result.ok) { this.show(result.data); this.flash("warning", config.text.reset); }
      },

      complete: async function (override) {
        if (override && !window.confirm(config.text.confirmOverride)) return;
        var body = { weight_g: parseInt(this.weight, 10), override: !!override };
        var result = await this.call("POST", this.url(this.shipment.number, "/complete-check"), body);
        this.mismatch = !result.ok && result.data && result.data.code === "weight_mismatch";
        if (!result.ok) return;
        this.show(result.data);
        this.flash("success", config.text.checked);
      },

      // -- parcels ---------------------------------------------------------------------
      newParcel: function () {
        seq += 1;
        return { id: seq, weight: "", items: {} };
      },

      defaultParcels: function () {
        var parcel = this.newParcel();
        this.shipment.lines.forEach(function (l) { parcel.items[l.id] = String(Number(l.checked)); });
        this.parcels = [parcel];
      },

      parcelsFrom: function (existing) {
        var self = this;
        this.parcels = existing.map(function (p) {
          var parcel = self.newParcel();
          parcel.weight = String(p.weight_g);
          p.items.forEach(function (item) {
            var before = Number(parcel.items[item.line_id] || 0);
            parcel.items[item.line_id] = String(before + Number(item.quantity));
          });
          return parcel;
        });
      },

      addParcel: function () {
        var parcel = this.newParcel();
        this.shipment.lines.forEach(function (l) { parcel.items[l.id] = "0"; });
        this.parcels.push(parcel);
      },

      removeParcel: function (index) {
        var gone = this.parcels.splice(index, 1)[0];
        var first = this.parcels[0];
        Object.keys(gone.items).forEach(function (id) {
          first.items[id] = String(Number(first.items[id] || 0) + Number(gone.items[id] || 0));
        });
      },

      packBalanced: function () {
        if (!this.shipment) return false;
        var parcels = this.parcels;
        return this.shipment.lines.every(function (l) {
          var total = 0;
          parcels.forEach(function (p) { total += milli(p.items[l.id] || 0); });
          return total === milli(l.checked);
        }) && parcels.every(function (p) {
          return Object.keys(p.items).some(function (id) { return milli(p.items[id]) > 0; });
        });
      },

      pack: async function () {
        var body = {
          parcels: this.parcels.map(function (p) {
            var items = [];
            Object.keys(p.items).forEach(function (id) {
              if (milli(p.items[id]) > 0) items.push({ line_id: Number(id), quantity: String(p.items[id]) });
            });
            var parcel = { items: items };
            if (p.weight !== "" && Number(p.weight) > 0) parcel.weight_g = parseInt(p.weight, 10);
            return parcel;
          }),
        };
        var result = await this.call("POST", this.url(this.shipment.number, "/pack"), body);
        if (!result.ok) return;
        this.editing = false;
        this.show(result.data);
        this.flash("success", config.text.packed);
      },

      ship: async function () {
        var headers = { "Idempotency-Key": shipKey(this.shipment.number) };
        var result = await this.call("POST", this.url(this.shipment.number, "/ship"), undefined, headers);
        if (!result.ok) return;
        this.show(result.data);
        this.flash("success", config.text.shipped);
      },
    };
  });
});
