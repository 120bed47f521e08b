// The checkout screen (Alpine.js): a keyboard- and scanner-first basket priced by the
// server. Every change re-quotes the basket (POST /quote, debounced, the newest answer
// wins); paying posts /sales with one Idempotency-Key per basket attempt, kept across
// retries, so a double click or a lost answer can never charge twice. The basket is kept
// in localStorage per till, so a reload or a crash loses nothing.
//
// Offline (no answer from the server, or the browser says so): scans resolve from the
// store catalog kept on the till and lines are priced at store prices without promotions
// (offline.js); paying keeps the sale in the till's queue with its own idempotency key and
// prints an offline receipt; the queue is uploaded with /batches when the server answers.
document.addEventListener("alpine:init", function () {
  "use strict";
  var T = window.csTill;
  var O = window.csOffline;
  var config = T.readConfig("checkout-config");
  var text = config.text;
  var STORAGE = "cs-pos:" + config.store + ":" + config.till;
  var QUOTE_DELAY_MS = 120;
  var SCAN_QTY = /^(\d+(?:\.\d{1,3})?)\s*[*×]\s*(.*)$/;
  var seq = 0;
  var CATALOG_REFRESH_MS = 10 * 60 * 1000;
  var PROBE_MS = 15 * 1000;
  var OFFLINE_TENDERS = ["cash", "bank_card", "wechat_pay", "alipay"];
  // Kept out of Alpine's reactive state: 20,000 rows need no proxies.
  var catalogRecord = null;
  var catalogIndex = null;
  var nextChangeTimer = null;

  function isScaleCode(code) {
    return /^2\d{12}$/.test(code);
  }

  function asList(data) {
    if (!data) return [];
    if (Array.isArray(data)) return data;
    if (Array.isArray(data.items)) return data.items;
    if (Array.isArray(data.results)) return data.results;
    if (Array.isArray(data.members)) return data.members;
    return [data];
  }

  Alpine.data("checkout", function () {
    return {
      config: config,
      text: text,
      items: [],
      version: 0,
      quote: null,
      quoteSeq: 0,
      quoteTimer: null,
      quoting: false,
      quoteError: "",
      lastAdded: null,
      member: null,
      memberQuery: "",
      memberResults: [],
      memberError: "",
      selected: -1,
      code: "",
      messages: [],
      busy: false,
      dialog: null,
      softKeyboard: !window.matchMedia("(pointer: coarse)").matches,
      floatAmount: "",
      offline: false,
      catalogInfo: null,
      queueCount: 0,
      problems: [],
      syncing: false,
      syncError: "",
      quantityText: "",
      suspendLabel: "",
      suspendedList: [],
      suspendedIndex: 0,
      tenders: [],
      tenderKind: "cash",
      tenderAmount: "",
      tenderReference: "",
      tenderPoints: "",
      tenderCard: "",
      giftCard: null,
      tenderError: "",
      paying: false,
      pending: null,
      uncertain: false,
      done: null,
      payAfterQuote: null,
      autoPrint: window.localStorage.getItem("cs-pos-autoprint") === "1",

      // -- helpers for the template --------------------------------------------------
      toFen: T.toFen,
      money: T.money,
      yuan: T.yuan,

      init: function () {
        var self = this;
        this.restore();
        this.startOffline();
        if (this.items.length) this.scheduleQuote(0);
        this.$nextTick(function () { self.focusScan(); });
        // Keep the scan box focused for wedge scanners (they type + Enter).
        document.addEventListener("click", function (event) {
          if (self.dialog) return;
          if (event.target.closest("input, select, textarea, summary, form[action]")) return;
          self.$nextTick(function () { self.focusScan(); });
        });
        this.$refs.scan.addEventListener("blur", function () {
          setTimeout(function () {
            var active = document.activeElement;
            if (!self.dialog && (!active || active === document.body)) self.focusScan();
          }, 60);
        });
      },

      focusScan: function () {
        var el = this.$refs.scan;
        if (el && !this.dialog && !el.disabled) el.focus();
      },

      flash: function (level, message) {
        seq += 1;
        var id = seq;
        this.messages = [{ id: id, level: level, text: message }].concat(this.messages).slice(0, 3);
        if (level === "success" || level === "info") {
          var self = this;
          setTimeout(function () { self.dismiss(id); }, 3500);
        }
      },

      dismiss: function (id) {
        this.messages = this.messages.filter(function (m) { return m.id !== id; });
      },

      // -- persistence ---------------------------------------------------------------
      persist: function () {
        var state = { items: this.items, member: this.member, pending: this.pending };
        try { window.localStorage.setItem(STORAGE, JSON.stringify(state)); } catch (e) { /* full */ }
      },

      restore: function () {
        var state = null;
        try { state = JSON.parse(window.localStorage.getItem(STORAGE) || "null"); } catch (e) { state = null; }
        if (!state) return;
        this.items = (state.items || []).map(function (item) {
          seq += 1;
          return Object.assign({}, item, { id: seq });
        });
        this.member = state.member || null;
        this.pending = state.pending || null;
        this.uncertain = !!this.pending;
      },

      // -- the basket ----------------------------------------------------------------
      get pendingQuantity() {
        var m = SCAN_QTY.exec(this.code.trim());
        return m ? m[1] : "";
      },

      get quoteStale() {
        return !this.quote || this.quote.forVersion !== this.version;
      },

      get lineByItem() {
        var map = {};
        var q = this.quote;
        if (!q) return map;
        var paid = q.lines.filter(function (l) { return !l.is_gift; });
        q.itemIds.forEach(function (id, i) { if (paid[i]) map[id] = paid[i]; });
        return map;
      },

      get rows() {
        var self = this;
        var byItem = this.lineByItem;
        var stale = this.quoteStale;
        var rows = this.items.map(function (item, index) {
          var line = byItem[item.id];
          var quantity = item.quantity !== null && item.quantity !== undefined
            ? T.qty(item.quantity)
            : (line ? T.qty(T.toMilli(line.quantity)) : "1");
          return {
            key: "i" + item.id,
            index: index,
            gift: false,
            name: line ? line.name : item.name || item.scan || item.sku,
            sku: line ? line.sku : item.sku || "",
            lot: line ? line.lot || "" : "",
            unit: line && line.unit !== "pcs" ? line.unit || "" : "",
            quantity: quantity,
            price: line ? line.unit_price : "",
            gross: line ? line.gross : "",
            net: line ? line.net : "…",
            weighed: !!item.weighed,
            stale: stale || !line,
            discounts: line ? self.discountsOf(line, "i" + item.id) : [],
            classes: (index === self.selected ? "table-primary cs-selected" : "") + (stale ? " cs-stale" : ""),
          };
        });
        if (this.quote) {
          this.quote.lines.filter(function (l) { return l.is_gift; }).forEach(function (line) {
            rows.push({
              key: "g" + line.line_no,
              index: -1,
              gift: true,
              name: line.name,
              sku: line.sku,
              lot: line.lot || "",
              unit: line.unit !== "pcs" ? line.unit || "" : "",
              quantity: T.qty(T.toMilli(line.quantity)),
              price: line.unit_price,
              gross: line.gross,
              net: line.net,
              weighed: false,
              stale: stale,
              discounts: self.discountsOf(line, "g" + line.line_no),
              classes: "cs-gift" + (stale ? " cs-stale" : ""),
            });
          });
        }
        return rows;
      },

      discountsOf: function (line, key) {
        return (line.discounts || []).map(function (d, i) {
          return { key: key + "-" + i, name: d.name || d.promotion, amount: d.amount };
        });
      },

      get selectedRow() {
        var self = this;
        return this.rows.find(function (r) { return r.index === self.selected && !r.gift; }) || null;
      },

      get itemCount() {
        var byItem = this.lineByItem;
        var count = 0;
        this.items.forEach(function (item) {
          var milli = item.quantity !== null && item.quantity !== undefined ? item.quantity
            : (byItem[item.id] ? T.toMilli(byItem[item.id].quantity) : 1000);
          count += item.weighed ? 1 : Math.round(milli / 1000);
        });
        return count;
      },

      get promotions() {
        if (!this.quote) return [];
        return (this.quote.promotions || []).map(function (p) {
          var amount = T.toFen(p.amount);
          var gift = T.toFen(p.gift_value);
          return {
            code: p.code,
            name: p.name,
            explanation: p.explanation,
            saving: amount > 0 ? "-" + T.yuan(amount) : (gift > 0 ? "+" + T.yuan(gift) : ""),
          };
        });
      },

      quoteMoney: function (field) {
        if (!this.quote || !this.items.length) return T.yuan(0);
        return T.yuan(T.toFen(this.quote[field]));
      },

      get discountText() {
        if (!this.quote || !this.items.length) return T.yuan(0);
        var fen = T.toFen(this.quote.discount);
        return fen ? "-" + T.yuan(fen) : T.yuan(0);
      },

      // Settled: the shown quote is for the basket as it is (tests and the pay keys wait on it).
      get ready() {
        return !this.quoting && (!this.items.length || !this.quoteStale) && !this.quoteError;
      },

      get quoteOffline() {
        return !!(this.quote && this.quote.offline);
      },

      get canPay() {
        return !!((this.config.shift || this.quoteOffline) && this.items.length && this.quote && !this.quoteStale &&
          !this.quoting && !this.quoteError && !this.paying && !this.uncertain);
      },

      currentMilli: function (item) {
        if (item.quantity !== null && item.quantity !== undefined) return item.quantity;
        var line = this.lineByItem[item.id];
        return line ? T.toMilli(line.quantity) : 1000;
      },

      changed: function () {
        this.version += 1;
        this.persist();
        this.scheduleQuote(QUOTE_DELAY_MS);
      },

      submitScan: function () {
        var raw = this.code.trim();
        this.code = "";
        if (!raw || this.uncertain) return;
        var m = SCAN_QTY.exec(raw);
        if (!m) {
          this.add(raw, null);
          return;
        }
        var milli = T.toMilli(m[1]);
        if (isNaN(milli) || milli <= 0) {
          this.flash("danger", text.badQuantity);
          return;
        }
        var rest = m[2].trim();
        if (rest) this.add(rest, milli);
        else this.setQuantity(this.selected, milli);
      },

      add: function (scan, milli) {
        var found = isScaleCode(scan) ? null : this.items.find(function (item) {
          return item.scan === scan && !item.weighed;
        });
        if (found) {
          found.quantity = this.currentMilli(found) + (milli || 1000);
          this.selected = this.items.indexOf(found);
        } else {
          seq += 1;
          this.items.push({ id: seq, scan: scan, sku: null, name: null, quantity: milli, weighed: false });
          this.selected = this.items.length - 1;
          this.lastAdded = seq;
        }
        this.changed();
      },

      select: function (index) {
        this.selected = index;
      },

      moveSelection: function (delta) {
        if (!this.items.length) return;
        var next = this.selected < 0 ? (delta > 0 ? 0 : this.items.length - 1) : this.selected + delta;
        this.selected = Math.max(0, Math.min(this.items.length - 1, next));
      },

      step: function (index, delta) {
        var item = this.items[index];
        if (!item || this.uncertain) return;
        if (item.weighed) {
          this.flash("warning", text.weighed);
          return;
        }
        var next = this.currentMilli(item) + delta * 1000;
        if (next < 1000) return; // Delete removes a line; minus stops at one
        item.quantity = next;
        this.selected = index;
        this.changed();
      },

      setQuantity: function (index, milli) {
        var item = this.items[index];
        if (!item) {
          this.flash("warning", text.noLine);
          return;
        }
        if (!item.weighed && milli % 1000) {
          this.flash("danger", text.badQuantity);
          return;
        }
        item.quantity = milli;
        this.flash("info", text.quantitySet + ": " + T.qty(milli));
        this.changed();
      },

      remove: function (index) {
        var item = this.items[index];
        if (!item || this.uncertain) return;
        this.items.splice(index, 1);
        if (this.selected >= this.items.length) this.selected = this.items.length - 1;
        this.flash("info", text.removed + ": " + (this.rowName(item)));
        this.changed();
      },

      rowName: function (item) {
        var line = this.lineByItem[item.id];
        return line ? line.name : item.name || item.scan || item.sku;
      },

      // -- pricing -------------------------------------------------------------------
      basketBody: function () {
        var body = {
          store: config.store,
          till: config.till,
          lines: this.items.map(function (item) {
            var line = item.scan ? { scan: item.scan } : { sku: item.sku };
            if (item.quantity !== null && item.quantity !== undefined) line.quantity = T.qty(item.quantity);
            if (item.lot) line.lot = item.lot;
            return line;
          }),
        };
        if (this.member) body.member = this.member.card_number;
        return body;
      },

      scheduleQuote: function (delay) {
        var self = this;
        clearTimeout(this.quoteTimer);
        if (!this.items.length) {
          this.quote = null;
          this.quoteError = "";
          this.quoting = false;
          this.quoteSeq += 1; // drop answers still on their way
          return;
        }
        this.quoting = true;
        this.quoteTimer = setTimeout(function () { self.runQuote(); }, delay);
      },

      runQuote: async function () {
        this.quoteSeq += 1;
        var mine = this.quoteSeq;
        var version = this.version;
        var ids = this.items.map(function (item) { return item.id; });
        this.quoting = true;
        var result = { status: 0 };
        if (!this.offline) {
          result = await T.api(config, "POST", "/quote", this.basketBody());
          if (mine !== this.quoteSeq) return; // a newer quote is on its way
        }
        this.quoting = false;
        if (result.status === 0) {
          this.goOffline(false);
          this.offlineQuote(version, ids);
          return;
        }
        if (result.ok) {
          result.data.itemIds = ids;
          result.data.forVersion = version;
          this.learn(result.data, ids);
          this.quote = result.data;
          this.quoteError = "";
          if (result.data.member) this.member = result.data.member;
          if (version !== this.version) this.scheduleQuote(0);
          else if (this.payAfterQuote && !this.dialog) this.openPay(this.payAfterQuote);
          return;
        }
        this.payAfterQuote = null;
        this.onQuoteError(result);
      },

      learn: function (quote, ids) {
        var self = this;
        var paid = quote.lines.filter(function (l) { return !l.is_gift; });
        ids.forEach(function (id, i) {
          var item = self.items.find(function (it) { return it.id === id; });
          var line = paid[i];
          if (!item || !line) return;
          item.name = line.name;
          item.sku = line.sku;
          item.weighed = line.weighed === true || line.unit === "kg";
        });
        this.persist();
      },

      onQuoteError: function (result) {
        var self = this;
        var data = result.data || {};
        var details = data.details || {};
        var message = T.errorText(config, result);
        if (result.status === 0 || result.status >= 500) {
          this.quoteError = message;
          this.flash("danger", message);
          this.quoteTimer = setTimeout(function () { self.scheduleQuote(0); }, 3000);
          return;
        }
        if (data.code === "member_not_found" || data.code === "member_inactive") {
          this.member = null;
          this.flash("danger", message);
          this.changed();
          return;
        }
        var culprit = this.culprit(details);
        if (culprit) {
          this.items.splice(this.items.indexOf(culprit), 1);
          if (this.selected >= this.items.length) this.selected = this.items.length - 1;
          this.flash("danger", message);
          this.changed();
          return;
        }
        this.quoteError = message;
        this.flash("danger", message);
      },

      // The basket line a refused quote is about: by its index, its scan, else the newest.
      culprit: function (details) {
        var items = this.items;
        var index = [details.line, details.line_no, details.index].find(function (v) { return typeof v === "number"; });
        if (index !== undefined) {
          var byIndex = details.index !== undefined && details.line === undefined && details.line_no === undefined
            ? items[index] : items[index - 1];
          if (byIndex) return byIndex;
        }
        var code = details.scan || details.barcode;
        if (code) {
          var byScan = items.find(function (item) { return item.scan === code; });
          if (byScan) return byScan;
        }
        var self = this;
        return items.find(function (item) { return item.id === self.lastAdded; }) || null;
      },

      // -- offline -------------------------------------------------------------------
      startOffline: function () {
        var self = this;
        this.refreshQueue();
        O.keepPage(config);
        O.loadCatalog(config.store).then(function (record) {
          if (record && !catalogRecord) self.useCatalog(record);
          if (navigator.onLine === false) self.goOffline(true);
          else self.refreshCatalog();
        });
        window.addEventListener("offline", function () { self.goOffline(true); });
        window.addEventListener("online", function () { self.probe(); });
        window.addEventListener("storage", function () { self.refreshQueue(); });
        setInterval(function () { if (!self.offline) self.refreshCatalog(); }, CATALOG_REFRESH_MS);
        setInterval(function () {
          if (self.offline) self.probe();
          else if (self.queueCount) self.sync();
        }, PROBE_MS);
        if (navigator.onLine !== false && this.queueCount) this.sync();
      },

      useCatalog: function (record) {
        catalogRecord = record;
        catalogIndex = O.index(record);
        this.catalogInfo = { version: record.version, generatedAt: record.generated_at, count: catalogIndex.size };
        if (this.offline && this.quoteError && this.items.length && !this.dialog && !this.uncertain) {
          this.version += 1; // priced before the catalog was there: again now
          this.scheduleQuote(0);
        }
      },

      refreshCatalog: async function () {
        var self = this;
        var result = await O.refreshCatalog(config, catalogRecord);
        if (result.status === 0) {
          this.goOffline(true);
          return;
        }
        if (result.status === 200) this.useCatalog(result.record);
        // Fetch again when a price list starts or ends before the next regular refresh.
        clearTimeout(nextChangeTimer);
        var next = catalogRecord && catalogRecord.next_change_at ? Date.parse(catalogRecord.next_change_at) - Date.now() : NaN;
        if (next > 0 && next < CATALOG_REFRESH_MS) {
          nextChangeTimer = setTimeout(function () { self.refreshCatalog(); }, next + 1000);
        }
      },

      // Does the server answer? (any HTTP answer counts; only no answer is offline)
      probe: async function () {
        var result = await T.api(config, "GET", "/shifts/current?store=" + encodeURIComponent(config.store) +
          "&till=" + encodeURIComponent(config.till));
        if (result.status === 0) this.goOffline(true);
        else this.goOnline();
      },

      goOffline: function (requote) {
        if (this.offline) return;
        this.offline = true;
        this.flash("warning", catalogIndex ? text.offlineOn : text.offlineNoCatalog);
        if (requote && this.items.length && !this.dialog && !this.uncertain) {
          this.version += 1;
          this.scheduleQuote(0);
        }
      },

      goOnline: function () {
        if (this.offline) {
          this.offline = false;
          this.flash("success", text.offlineOff);
          if (this.items.length && !this.dialog && !this.uncertain) {
            this.version += 1; // the server prices the basket again, with promotions
            this.scheduleQuote(0);
          }
          this.refreshCatalog();
        }
        if (this.queueCount) this.sync();
      },

      // Price the basket from the kept catalog: store prices, no promotions, no gifts.
      offlineQuote: function (version, ids) {
        if (!catalogIndex) {
          this.quoteError = text.offlineNoCatalog;
          this.flash("danger", text.offlineNoCatalog);
          return;
        }
        var lines = [];
        var subtotal = 0;
        var tax = 0;
        var bad = null;
        var message = "";
        this.items.forEach(function (item, i) {
          if (bad) return;
          var found = item.scan ? O.resolve(catalogIndex, item.scan) : { row: catalogIndex.byCode.get(item.sku) };
          var code = item.scan || item.sku;
          if (!found.row || found.error) {
            bad = item;
            message = code + ": " + ({ check_digit: text.offlineCheckDigit, not_weighed: text.offlineNotWeighed }[found.error] || text.offlineUnknown);
            return;
          }
          var row = found.row;
          var milli = item.quantity !== null && item.quantity !== undefined ? item.quantity : null;
          if (found.grams) {
            var labels = milli === null ? 1000 : milli; // with a scale label: how many labels
            if (labels % 1000) { bad = item; message = text.badQuantity; return; }
            milli = found.grams * (labels / 1000);
          } else if (milli === null) {
            if (row.weighed) { bad = item; message = code + ": " + text.weighed; return; }
            milli = 1000;
          }
          if (!row.weighed && milli % 1000) { bad = item; message = text.badQuantity; return; }
          var price = T.toFen(row.price);
          var gross = O.lineGross(price, milli, row.weighed);
          subtotal += gross;
          tax += O.lineTax(gross, row.tax_rate_bp);
          lines.push({
            line_no: i + 1, sku: row.code, name: row.name, unit: row.unit, weighed: row.weighed,
            quantity: T.qty(milli), lot: null, unit_price: T.money(price), gross: T.money(gross),
            discounts: [], net: T.money(gross), is_gift: false,
          });
        });
        if (bad) {
          this.items.splice(this.items.indexOf(bad), 1);
          if (this.selected >= this.items.length) this.selected = this.items.length - 1;
          this.flash("danger", message);
          this.changed();
          return;
        }
        var quote = {
          lines: lines, promotions: [], subtotal: T.money(subtotal), discount: "0.00",
          total: T.money(subtotal), tax: T.money(tax), gift_value: "0.00", points_to_earn: 0,
          member: this.member, optimal: true, offline: true, itemIds: ids, forVersion: version,
        };
        this.learn(quote, ids);
        this.quote = quote;
        this.quoteError = "";
        if (version !== this.version) this.scheduleQuote(0);
        else if (this.payAfterQuote && !this.dialog) this.openPay(this.payAfterQuote);
      },

      // What the offline receipt shows (kept with the queued sale). `body` is the sale as
      // uploaded: its tenders and the total the shopper was told.
      receiptOf: function (number, soldAt, body) {
        var samePrices = !!this.quote && this.quote.total === body.expected_total;
        var change = 0;
        var tenders = body.tenders.map(function (t) {
          if (t.kind === "cash" && t.tendered) change += T.toFen(t.tendered) - T.toFen(t.amount);
          return { label: text[t.kind] || t.kind, amount: t.tendered || t.amount, reference: t.reference || "" };
        });
        return {
          number: number,
          storeName: config.storeName || config.store,
          till: config.till,
          cashier: config.user,
          sold_at: soldAt,
          lines: (this.quote ? this.quote.lines : []).map(function (l) {
            var unit = l.unit && l.unit !== "pcs" ? " " + l.unit : "";
            return {
              name: (l.is_gift ? "🎁 " : "") + l.name, quantity: T.qty(T.toMilli(l.quantity)) + unit,
              unit_price: samePrices ? l.unit_price : "", net: samePrices ? l.net : "",
            };
          }),
          total: body.expected_total,
          change: T.money(change),
          tenders: tenders,
        };
      },

      // Pay offline: the sale is kept on the till (durably, before it counts as paid).
      queueSale: function () {
        var quote = this.quote;
        var local = O.nextLocalNumber(config);
        var soldAt = new Date().toISOString();
        var body = this.saleBody();
        var sale = {
          idempotency_key: T.newKey(config.store + "-" + config.till + "-off"),
          sold_at: soldAt,
          priced_by: "client",
          expected_total: quote.total,
          lines: quote.lines.map(function (l) { return { sku: l.sku, quantity: l.quantity, unit_price: l.unit_price }; }),
          tenders: body.tenders,
        };
        if (this.member) sale.member = this.member.card_number;
        this.keep({ key: sale.idempotency_key, kind: "batch", seq: local.seq, number: local.number, body: sale,
          receipt: this.receiptOf(local.number, soldAt, sale) });
      },

      // The payment got no answer: keep it (same key, same body) for the upload and go on.
      keepForUpload: function () {
        if (!this.pending) return;
        var local = O.nextLocalNumber(config);
        var body = this.pending.body;
        this.keep({ key: this.pending.key, kind: "live", seq: local.seq, number: local.number, body: body,
          receipt: this.receiptOf(local.number, new Date().toISOString(), body) });
      },

      keep: function (entry) {
        entry.cashier = config.user;
        entry.total = entry.receipt.total;
        entry.sold_at = entry.receipt.sold_at;
        try {
          O.enqueue(config, entry);
        } catch (e) {
          this.tenderError = text.offlineStoreFailed;
          return;
        }
        this.refreshQueue();
        this.paid({
          id: null, offline: true, number: entry.number, change: entry.receipt.change,
          total: entry.receipt.total, discount: "0.00", member: null, entry: entry,
        });
        if (!this.offline) this.sync();
      },

      refreshQueue: function () {
        this.queueCount = O.readQueue(config).length;
        this.problems = O.readProblems(config);
      },

      sync: async function () {
        if (this.syncing) return;
        this.refreshQueue();
        if (!this.queueCount) return;
        this.syncing = true;
        var outcome;
        try { outcome = await O.sync(config); } finally { this.syncing = false; }
        this.refreshQueue();
        if (outcome.busy) return;
        this.syncError = outcome.error;
        var uploaded = outcome.created + outcome.replayed;
        if (uploaded) this.flash("success", text.synced + ": " + uploaded);
        if (outcome.rejected) this.flash("danger", text.syncRejected);
        if (outcome.network) this.goOffline(true);
        else if (this.offline) this.goOnline();
      },

      retryProblem: function (key) {
        O.retryProblem(config, key);
        this.refreshQueue();
        if (!this.offline) this.sync();
      },

      dismissProblem: function (key) {
        if (!window.confirm(text.dismissProblem)) return;
        O.dismissProblem(config, key);
        this.refreshQueue();
      },

      // -- keyboard ------------------------------------------------------------------
      onKey: function (event) {
        var key = event.key;
        if (this.dialog) {
          this.dialogKey(event);
          return;
        }
        var inScan = event.target === this.$refs.scan || event.target === document.body;
        var fkeys = { F2: "member", F3: "quantity", F4: "suspend", F6: "resume", F8: "return", F9: "cash", F10: "bank_card" };
        if (fkeys[key]) {
          event.preventDefault();
          if (this.uncertain && key !== "F9" && key !== "F10") return;
          if (key === "F2") this.openDialog("member");
          else if (key === "F3") this.openQuantity();
          else if (key === "F4") this.openSuspend();
          else if (key === "F6") this.openResume();
          else if (key === "F8") { if (config.canReturn) window.location.href = config.returnsUrl; }
          else this.openPay(fkeys[key]);
          return;
        }
        if (!inScan || this.uncertain) return;
        var empty = this.code.trim() === "";
        if (key === "ArrowDown" || key === "ArrowUp") {
          event.preventDefault();
          this.moveSelection(key === "ArrowDown" ? 1 : -1);
        } else if (key === "Delete" && empty) {
          event.preventDefault();
          this.remove(this.selected);
        } else if ((key === "+" || key === "-") && empty) {
          event.preventDefault();
          if (this.selected < 0) this.flash("warning", text.noLine);
          else this.step(this.selected, key === "+" ? 1 : -1);
        } else if (key === "Escape") {
          event.preventDefault();
          if (!empty) this.code = "";
          else if (this.items.length) this.confirmClear();
        }
      },

      dialogKey: function (event) {
        var key = event.key;
        if (/^F\d+$/.test(key)) event.preventDefault();
        if (this.dialog === "done") {
          if (key === "Enter" || key === "Escape") {
            event.preventDefault();
            this.newSale();
          } else if ((key === "p" || key === "P") && event.target.tagName !== "INPUT") {
            event.preventDefault();
            this.printSale(this.done);
          }
          return;
        }
        if (key === "Escape") {
          event.preventDefault();
          this.closeDialog();
          return;
        }
        if (this.dialog === "tender" && (key === "F9" || key === "F10")) {
          this.chooseKind(key === "F9" ? "cash" : "bank_card");
        } else if (this.dialog === "resume") {
          if (key === "ArrowDown" || key === "ArrowUp") {
            event.preventDefault();
            var n = this.suspendedList.length;
            if (n) this.suspendedIndex = (this.suspendedIndex + (key === "ArrowDown" ? 1 : n - 1)) % n;
          } else if (key === "Enter" && this.suspendedList[this.suspendedIndex]) {
            event.preventDefault();
            this.resume(this.suspendedList[this.suspendedIndex]);
          }
        } else if (this.dialog === "clear" && key === "Enter") {
          event.preventDefault();
          this.clearBasket();
        }
      },

      // -- dialogs -------------------------------------------------------------------
      openDialog: function (name) {
        if (this.uncertain && name !== "tender") return;
        var self = this;
        this.dialog = name;
        if (name === "member") {
          this.memberQuery = "";
          this.memberError = "";
          this.memberResults = [];
        }
        var refs = { member: "memberQuery", quantity: "quantityInput", suspend: "suspendLabel", tender: "tenderInput", clear: "clearConfirm" };
        this.$nextTick(function () {
          var el = self.$refs[refs[name]];
          if (el) { el.focus(); if (el.select) el.select(); }
        });
      },

      closeDialog: function () {
        if (this.dialog === "done") {
          this.newSale();
          return;
        }
        var self = this;
        this.dialog = null;
        this.tenderError = "";
        this.$nextTick(function () { self.focusScan(); });
      },

      keypad: function (field, key) {
        var value = String(this[field] || "");
        this[field] = key === "⌫" ? value.slice(0, -1) : value + key;
      },

      openQuantity: function () {
        if (this.selected < 0 || !this.items[this.selected]) {
          this.flash("warning", text.noLine);
          return;
        }
        this.quantityText = T.qty(this.currentMilli(this.items[this.selected]));
        this.openDialog("quantity");
      },

      applyQuantity: function () {
        var milli = T.toMilli(this.quantityText);
        if (isNaN(milli) || milli <= 0) {
          this.flash("danger", text.badQuantity);
          return;
        }
        this.closeDialog();
        this.setQuantity(this.selected, milli);
      },

      confirmClear: function () {
        if (this.items.length) this.openDialog("clear");
      },

      clearBasket: function () {
        this.items = [];
        this.member = null;
        this.selected = -1;
        this.closeDialog();
        this.changed();
      },

      // -- member --------------------------------------------------------------------
      lookupMember: async function () {
        var q = this.memberQuery.trim();
        if (!q || this.busy) return;
        this.busy = true;
        this.memberError = "";
        var result = await T.api(config, "GET", "/members/lookup?q=" + encodeURIComponent(q));
        this.busy = false;
        if (!result.ok) {
          this.memberError = result.status === 404 ? text.memberNotFound : T.errorText(config, result);
          return;
        }
        var found = asList(result.data);
        if (!found.length) this.memberError = text.memberNotFound;
        else if (found.length === 1) this.setMember(found[0]);
        else this.memberResults = found;
      },

      setMember: function (member) {
        this.member = member;
        this.closeDialog();
        this.flash("success", text.memberAttached + ": " + (member.name || member.card_number));
        this.changed();
      },

      clearMember: function () {
        this.member = null;
        this.flash("info", text.memberRemoved);
        this.changed();
      },

      // -- suspend / resume ------------------------------------------------------------
      openSuspend: function () {
        if (!this.items.length) {
          this.flash("warning", text.emptyBasket);
          return;
        }
        this.suspendLabel = this.member ? this.member.name || this.member.card_number : "";
        this.openDialog("suspend");
      },

      suspend: async function () {
        if (this.busy) return;
        this.busy = true;
        var payload = {
          items: this.items.map(function (item) {
            return { scan: item.scan, sku: item.sku, name: item.name, quantity: item.quantity, lot: item.lot || null, weighed: !!item.weighed };
          }),
          member: this.member,
        };
        var result = await T.api(config, "POST", "/suspended", {
          store: config.store, till: config.till, label: this.suspendLabel.trim(), payload: payload,
        });
        this.busy = false;
        if (!result.ok) {
          this.flash("danger", T.errorText(config, result));
          return;
        }
        this.items = [];
        this.member = null;
        this.selected = -1;
        this.closeDialog();
        this.flash("success", text.suspended);
        this.changed();
      },

      openResume: async function () {
        if (this.items.length) {
          this.flash("warning", text.finishFirst);
          return;
        }
        var result = await T.api(config, "GET", "/suspended?store=" + encodeURIComponent(config.store));
        if (!result.ok) {
          this.flash("danger", T.errorText(config, result));
          return;
        }
        this.suspendedList = asList(result.data).map(function (b) {
          var when = b.created_at ? new Date(b.created_at) : null;
          var summary = [b.cashier || "", b.till || "", when ? when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : ""];
          return Object.assign({}, b, { summary: summary.filter(Boolean).join(" · ") });
        });
        this.suspendedIndex = 0;
        if (!this.suspendedList.length) {
          this.flash("info", text.noSuspended);
          return;
        }
        this.openDialog("resume");
      },

      resume: async function (basket) {
        if (this.busy) return;
        this.busy = true;
        var result = await T.api(config, "POST", "/suspended/" + basket.id + "/resume", {});
        this.busy = false;
        if (!result.ok) {
          this.flash("danger", T.errorText(config, result));
          return;
        }
        var payload = (result.data && result.data.payload) || {};
        this.items = (payload.items || []).map(function (item) {
          seq += 1;
          return {
            id: seq, scan: item.scan || null, sku: item.sku || null, name: item.name || null,
            quantity: item.quantity === undefined ? null : item.quantity, lot: item.lot || null, weighed: !!item.weighed,
          };
        });
        this.member = payload.member || null;
        this.selected = this.items.length - 1;
        this.closeDialog();
        this.flash("success", text.resumed + (basket.label ? ": " + basket.label : ""));
        this.changed();
      },

      // -- shift -----------------------------------------------------------------------
      openShift: async function () {
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
        window.location.reload();
      },

      // -- tenders -------------------------------------------------------------------
      get tenderKinds() {
        var offline = this.quoteOffline;
        return [
          { kind: "cash", label: text.cash, key: "F9" },
          { kind: "bank_card", label: text.bank_card, key: "F10" },
          { kind: "wechat_pay", label: text.wechat_pay, key: "" },
          { kind: "alipay", label: text.alipay, key: "" },
          { kind: "points", label: text.points, key: "" },
          { kind: "gift_card", label: text.gift_card, key: "" },
        ].filter(function (k) { return !offline || OFFLINE_TENDERS.indexOf(k.kind) >= 0; });
      },

      tenderLabel: function (kind) {
        return text[kind] || kind;
      },

      get dueFen() {
        return this.quote ? T.toFen(this.quote.total) : 0;
      },

      get paidFen() {
        return this.tenders.reduce(function (sum, t) { return sum + t.amount; }, 0);
      },

      get remainingFen() {
        return Math.max(0, this.dueFen - this.paidFen);
      },

      get cashNotes() {
        var due = this.remainingFen;
        var notes = [];
        [1000, 5000, 10000, 20000, 50000].forEach(function (step) {
          var note = Math.ceil(due / step) * step;
          if (note > due && notes.indexOf(note) < 0) notes.push(note);
        });
        return notes.slice(0, 4);
      },

      get liveChangeFen() {
        if (this.tenderKind !== "cash") return 0;
        var received = this.tenderAmount.trim() === "" ? this.remainingFen : T.toFen(this.tenderAmount);
        return isNaN(received) ? 0 : Math.max(0, received - this.remainingFen);
      },

      get pointsPerYuan() {
        return config.pointsPerYuan || 100;
      },

      get maxPoints() {
        // The most points whose value (points * 100 // rate fen) still fits what is due.
        if (!this.member) return 0;
        var fits = Math.floor((this.remainingFen * this.pointsPerYuan) / 100);
        return Math.min(this.member.points_balance || 0, fits);
      },

      get pointsTyped() {
        return this.tenderPoints.trim() === "" ? this.maxPoints : parseInt(this.tenderPoints, 10);
      },

      get pointsValueFen() {
        var points = this.pointsTyped;
        if (isNaN(points) || points <= 0) return 0;
        return Math.floor((points * 100) / this.pointsPerYuan);
      },

      get giftCardDefault() {
        if (!this.giftCard) return this.remainingFen;
        return Math.min(this.giftCard.balance_fen, this.remainingFen);
      },

      get enterCompletes() {
        if (this.remainingFen === 0) return true;
        if (this.tenderKind === "cash") {
          var received = this.tenderAmount.trim() === "" ? this.remainingFen : T.toFen(this.tenderAmount);
          return received >= this.remainingFen;
        }
        if (this.tenderKind === "points") return this.pointsValueFen >= this.remainingFen;
        var amount = this.tenderAmount.trim() === ""
          ? (this.tenderKind === "gift_card" ? this.giftCardDefault : this.remainingFen)
          : T.toFen(this.tenderAmount);
        return amount >= this.remainingFen;
      },

      openPay: function (kind) {
        if (this.uncertain) {
          this.openDialog("tender");
          return;
        }
        if (!this.items.length) {
          this.flash("warning", text.emptyBasket);
          return;
        }
        if (!this.config.shift && !this.offline) {
          this.flash("warning", text.noShift);
          return;
        }
        if (this.offline && this.quote && !this.quote.offline) {
          // Gone offline since the server priced it: price it again from the catalog.
          this.payAfterQuote = kind;
          this.version += 1;
          this.scheduleQuote(0);
          return;
        }
        if (!this.canPay) {
          // F9 right after the last scan: pay as soon as the basket is priced.
          if ((this.quoting || this.quoteStale) && !this.quoteError && !this.paying) this.payAfterQuote = kind;
          return;
        }
        this.payAfterQuote = null;
        this.tenders = [];
        this.tenderError = "";
        this.chooseKind(kind);
        this.openDialog("tender");
      },

      chooseKind: function (kind) {
        if (this.quoteOffline && OFFLINE_TENDERS.indexOf(kind) < 0) kind = "cash";
        if (kind === "points" && !this.member) {
          this.tenderError = text.needMember;
          return;
        }
        var self = this;
        this.tenderKind = kind;
        this.tenderAmount = "";
        this.tenderReference = "";
        this.tenderPoints = "";
        this.tenderCard = "";
        this.giftCard = null;
        this.tenderError = "";
        this.$nextTick(function () {
          var el = self.$refs.tenderInput;
          if (el) el.focus();
        });
      },

      checkGiftCard: async function () {
        var number = this.tenderCard.trim();
        this.giftCard = null;
        if (!number) return;
        var result = await T.api(config, "GET", "/gift-cards/" + encodeURIComponent(number));
        if (!result.ok) {
          this.tenderError = result.status === 404 ? text.giftCardNotFound : T.errorText(config, result);
          return;
        }
        this.giftCard = { number: number, balance_fen: T.toFen(result.data.balance) };
      },

      // Enter in the tender dialog: take the current input as a tender; pay when covered.
      enterTender: function () {
        this.tenderError = "";
        if (this.remainingFen === 0 && this.tenders.length) {
          this.submitSale();
          return;
        }
        var tender = this.readTender();
        if (!tender) return;
        this.tenders.push(tender);
        if (this.remainingFen === 0) this.submitSale();
        else this.chooseKind("cash");
      },

      readTender: function () {
        var remaining = this.remainingFen;
        var kind = this.tenderKind;
        var typed = this.tenderAmount.trim();
        if (kind === "cash") {
          var received = typed === "" ? remaining : T.toFen(typed);
          if (isNaN(received) || received <= 0) return this.refuse(text.badAmount);
          return { kind: kind, amount: Math.min(received, remaining), tendered: received };
        }
        if (kind === "points") {
          var points = this.pointsTyped;
          if (!this.member) return this.refuse(text.needMember);
          if (isNaN(points) || points <= 0 || points > this.maxPoints || this.pointsValueFen <= 0) {
            return this.refuse(text.pointsRange + " " + this.maxPoints);
          }
          return { kind: kind, amount: this.pointsValueFen, points: points };
        }
        var fallback = kind === "gift_card" ? this.giftCardDefault : remaining;
        var amount = typed === "" ? fallback : T.toFen(typed);
        if (isNaN(amount) || amount <= 0) return this.refuse(text.tenderShort);
        if (amount > remaining) return this.refuse(text.tenderOver);
        if (kind === "gift_card") {
          var card = this.tenderCard.trim();
          if (!card) return this.refuse(text.giftCardNotFound);
          return { kind: kind, amount: amount, card: card };
        }
        return { kind: kind, amount: amount, reference: this.tenderReference.trim() };
      },

      refuse: function (message) {
        this.tenderError = message;
        return null;
      },

      saleBody: function () {
        var body = this.basketBody();
        body.expected_total = this.quote.total;
        body.tenders = this.tenders.map(function (t) {
          var out = { kind: t.kind, amount: T.money(t.amount) };
          if (t.kind === "cash") out.tendered = T.money(t.tendered);
          if (t.reference) out.reference = t.reference;
          if (t.kind === "points") out.points = t.points;
          if (t.kind === "gift_card") out.card = t.card;
          return out;
        });
        return body;
      },

      submitSale: async function () {
        if (this.paying) return;
        if (this.quoteOffline && !this.pending) {
          this.queueSale();
          return;
        }
        if (!this.pending) {
          // One key per payment attempt of this basket; a retry re-sends the same body.
          this.pending = { key: T.newKey("sale"), body: this.saleBody() };
          this.persist();
        }
        this.paying = true;
        this.tenderError = "";
        var result = await T.api(config, "POST", "/sales", this.pending.body, { "Idempotency-Key": this.pending.key });
        this.paying = false;
        if (result.ok) {
          this.paid(result.data);
          return;
        }
        if (result.status === 0 || result.status >= 500) {
          this.uncertain = true; // keep the key: the sale may have gone through
          if (result.status === 0) this.goOffline(false);
          this.persist();
          this.flash("warning", text.uncertain);
          return;
        }
        // A definite refusal: nothing was sold; the next attempt gets a new key.
        this.pending = null;
        this.uncertain = false;
        this.persist();
        var data = result.data || {};
        if (data.code === "price_changed") {
          this.tenders = [];
          this.tenderError = text.priceChanged;
          this.version += 1;
          this.scheduleQuote(0);
        } else {
          this.tenderError = T.errorText(config, result);
        }
      },

      forgetPayment: function () {
        if (!window.confirm(text.giveUp)) return;
        this.pending = null;
        this.uncertain = false;
        this.persist();
        this.closeDialog();
      },

      paid: function (sale) {
        var self = this;
        this.pending = null;
        this.uncertain = false;
        this.done = sale;
        this.items = [];
        this.member = null;
        this.tenders = [];
        this.selected = -1;
        this.quote = null;
        this.version += 1;
        this.persist();
        this.dialog = "done";
        this.$nextTick(function () { if (self.$refs.newSale) self.$refs.newSale.focus(); });
        if (this.autoPrint) this.printSale(sale);
      },

      newSale: function () {
        var self = this;
        this.done = null;
        this.dialog = null;
        this.$nextTick(function () { self.focusScan(); });
      },

      receiptHref: function (id, print) {
        return config.receiptUrl.replace("/0/", "/" + id + "/") + (print ? "?print=1" : "");
      },

      printSale: function (sale) {
        if (!sale) return;
        if (!sale.offline) {
          this.printReceipt(sale.id);
          return;
        }
        var frame = this.$refs.printFrame;
        frame.onload = function () {
          frame.onload = null;
          try { frame.contentWindow.print(); } catch (e) { /* no printer */ }
        };
        frame.removeAttribute("src");
        frame.srcdoc = O.receiptHtml(sale.entry, text, document.documentElement.lang || "en");
      },

      printReceipt: function (id) {
        if (!id) return;
        this.$refs.printFrame.src = this.receiptHref(id, true);
      },

      saveAutoPrint: function () {
        window.localStorage.setItem("cs-pos-autoprint", this.autoPrint ? "1" : "0");
      },
    };
  });
});
