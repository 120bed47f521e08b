// Offline selling for the checkout screen: the store catalog kept in IndexedDB, scans
// resolved and priced from it (store prices, no promotions), the sales paid offline kept
// in a durable per-till queue (localStorage, written before the sale counts as paid) and
// uploaded in order with POST /pos/batches when the server answers again. Each queued sale
// carries its own idempotency key, so uploading it twice (a lost answer, two tabs) is a
// replay on the server, never a second sale. Sales the server rejects (e.g. short stock at
// a store with the "block" policy) move to a visible "sync problems" list.
(function () {
  "use strict";
  var T = window.csTill;
  var DB_NAME = "cs-pos";
  var DB_STORE = "catalog";
  var CHUNK = 50;
  var PAGE_CACHE = "cs-pos-pages-v1";

  // -- catalog in IndexedDB ----------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) { resolve(null); return; }
      var request;
      try { request = window.indexedDB.open(DB_NAME, 1); } catch (e) { resolve(null); return; }
      request.onupgradeneeded = function () {
        request.result.createObjectStore(DB_STORE, { keyPath: "store" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { resolve(null); };
      request.onblocked = function () { resolve(null); };
    });
  }

  // Run one request in a transaction: its result (get) or true (put); null on failure.
  function idbCall(mode, work) {
    return openDb().then(function (db) {
      if (!db) return null;
      return new Promise(function (resolve) {
        var tx;
        try { tx = db.transaction(DB_STORE, mode); } catch (e) { db.close(); resolve(null); return; }
        var request = work(tx.objectStore(DB_STORE));
        tx.oncomplete = function () {
          db.close();
          resolve(mode === "readonly" ? request.result || null : true);
        };
        tx.onerror = tx.onabort = function () { db.close(); resolve(null); };
      });
    });
  }

  function loadCatalog(store) {
    return idbCall("readonly", function (s) { return s.get(store); });
  }

  function saveCatalog(record) {
    return idbCall("readwrite", function (s) { return s.put(record); });
  }

  // Fetch the catalog if it changed (If-None-Match): the stored record, new or unchanged;
  // {status: 0} when the server is out of reach.
  async function refreshCatalog(config, current) {
    var headers = current && current.etag ? { "If-None-Match": current.etag } : {};
    var response;
    try {
      response = await fetch(config.api + "/catalog?store=" + encodeURIComponent(config.store), {
        headers: Object.assign({ Accept: "application/json" }, headers),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (e) {
      return { status: 0, record: current };
    }
    if (response.status === 304 && current) return { status: 304, record: current };
    if (!response.ok) return { status: response.status, record: current };
    var data = await response.json();
    var record = {
      store: config.store,
      etag: response.headers.get("ETag") || "",
      version: data.version,
      generated_at: data.generated_at,
      next_change_at: data.next_change_at,
      checked_at: new Date().toISOString(),
      skus: data.skus,
    };
    await saveCatalog(record);
    return { status: 200, record: record };
  }

  // -- scans against the catalog (as pos/services/scan.py) -----------------------------
  function index(record) {
    var byBarcode = new Map();
    var byCode = new Map();
    var byPlu = new Map();
    (record && record.skus || []).forEach(function (row) {
      byCode.set(row.code, row);
      row.barcodes.forEach(function (code) { if (!byBarcode.has(code)) byBarcode.set(code, row); });
      row.plu.forEach(function (code) {
        var prev = byPlu.get(code);
        if (!prev || row.code < prev.code) byPlu.set(code, row);
      });
    });
    return { byBarcode: byBarcode, byCode: byCode, byPlu: byPlu, size: byCode.size };
  }

  function gtinCheck(payload) {
    var sum = 0;
    for (var i = 0; i < payload.length; i += 1) {
      var weight = (payload.length - i) % 2 === 1 ? 3 : 1;
      sum += Number(payload[i]) * weight;
    }
    return (10 - (sum % 10)) % 10;
  }

  function gtinKeys(digits) {
    var g14 = ("00000000000000" + digits).slice(-14);
    var keys = [g14, g14.slice(1)];
    if (g14.slice(0, 2) === "00") keys.push(g14.slice(2));
    return keys;
  }

  // A raw scan -> {row, grams} (grams from a scale barcode) or {error: "unknown"|...}.
  function resolve(idx, raw) {
    var text = String(raw || "").trim();
    if (!text || !idx) return { error: "unknown" };
    var gs1 = /^\(01\)(\d{14})/.exec(text);
    if (gs1) text = gs1[1];
    if (idx.byBarcode.has(text)) return { row: idx.byBarcode.get(text) };
    if (/^2\d{12}$/.test(text)) {
      if (gtinCheck(text.slice(0, 12)) !== Number(text[12])) return { error: "check_digit" };
      var plu = text.slice(2, 7);
      var grams = Number(text.slice(7, 12));
      var keys = [plu, plu.replace(/^0+/, "") || "0"];
      var row = null;
      keys.forEach(function (k) { if (!row && idx.byPlu.has(k)) row = idx.byPlu.get(k); });
      keys.forEach(function (k) { if (!row && idx.byCode.has(k)) row = idx.byCode.get(k); });
      if (!row) return { error: "unknown" };
      if (!row.weighed) return { error: "not_weighed", row: row };
      if (grams <= 0) return { error: "no_weight", row: row };
      return { row: row, grams: grams };
    }
    if (/^\d{8,14}$/.test(text)) {
      var found = null;
      gtinKeys(text).forEach(function (k) { if (!found && idx.byBarcode.has(k)) found = idx.byBarcode.get(k); });
      if (found) return { row: found };
    }
    if (idx.byCode.has(text)) return { row: idx.byCode.get(text) };
    return { error: "unknown" };
  }

  // Integer arithmetic as pos/services/pricing.py: weighed = price per kg × kg, half up.
  function lineGross(priceFen, milli, weighed) {
    if (weighed) return Math.floor((priceFen * milli + 500) / 1000);
    return priceFen * Math.floor(milli / 1000);
  }

  function lineTax(netFen, rateBp) {
    var d = 10000 + rateBp;
    return Math.floor((2 * netFen * rateBp + d) / (2 * d));
  }

  // -- the queue of sales paid offline (localStorage, per store and till) --------------
  function queueKey(config) { return "cs-pos-offline:" + config.store + ":" + config.till; }
  function problemsKey(config) { return "cs-pos-sync-problems:" + config.store + ":" + config.till; }
  function counterKey(config) { return "cs-pos-offline-no:" + config.store + ":" + config.till; }

  function read(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "[]") || []; } catch (e) { return []; }
  }

  function write(key, list) {
    window.localStorage.setItem(key, JSON.stringify(list)); // throws when storage is full
  }

  function readQueue(config) { return read(queueKey(config)); }
  function readProblems(config) { return read(problemsKey(config)); }

  // Keep the sale for upload; throws if it could not be stored (then it is not paid).
  function enqueue(config, entry) {
    var queue = readQueue(config);
    queue.push(entry);
    write(queueKey(config), queue);
    if (!readQueue(config).some(function (e) { return e.key === entry.key; })) {
      throw new Error("not stored");
    }
  }

  function nextLocalNumber(config) {
    var n = Number(window.localStorage.getItem(counterKey(config)) || "0") + 1;
    window.localStorage.setItem(counterKey(config), String(n));
    var stamp = new Date();
    var ymd = String(stamp.getFullYear()) + ("0" + (stamp.getMonth() + 1)).slice(-2) + ("0" + stamp.getDate()).slice(-2);
    return { seq: n, number: config.store + "-" + config.till + "-OFF-" + ymd + "-" + ("000" + n).slice(-4) };
  }

  function removeFromQueue(config, keys) {
    var drop = new Set(keys);
    write(queueKey(config), readQueue(config).filter(function (e) { return !drop.has(e.key); }));
  }

  function addProblems(config, entries) {
    var keys = new Set(entries.map(function (e) { return e.key; }));
    var kept = readProblems(config).filter(function (p) { return !keys.has(p.key); });
    write(problemsKey(config), kept.concat(entries));
  }

  // A problem back into the queue (in the order the sales were made).
  function retryProblem(config, key) {
    var problems = readProblems(config);
    var entry = problems.find(function (p) { return p.key === key; });
    if (!entry) return;
    var queue = readQueue(config).filter(function (e) { return e.key !== key; });
    var back = Object.assign({}, entry);
    delete back.error;
    queue.push(back);
    queue.sort(function (a, b) { return a.seq - b.seq; });
    write(queueKey(config), queue);
    write(problemsKey(config), problems.filter(function (p) { return p.key !== key; }));
  }

  function dismissProblem(config, key) {
    write(problemsKey(config), readProblems(config).filter(function (p) { return p.key !== key; }));
  }

  // Upload the queue in order, CHUNK sales per request. Sales created or replayed leave the
  // queue; rejected ones move to the problems (a busy database stays queued); on no answer
  // or a server error everything left stays for the next try.
  async function uploadQueue(config) {
    var outcome = { created: 0, replayed: 0, rejected: 0, network: false, error: "" };
    var size = CHUNK;
    for (;;) {
      var queue = readQueue(config);
      if (!queue.length) break;
      if (queue[0].kind === "live") {
        // A checkout payment that got no answer: the same request again (a replay if it
        // went through).
        var live = await T.api(config, "POST", "/sales", queue[0].body, { "Idempotency-Key": queue[0].key });
        if (live.status === 0 || live.status >= 500) {
          outcome.network = live.status === 0;
          outcome.error = T.errorText(config, live);
          break;
        }
        if (live.ok) {
          outcome[live.status === 201 ? "created" : "replayed"] += 1;
        } else {
          outcome.rejected += 1;
          var code = live.data && live.data.code ? live.data.code : "";
          addProblems(config, [Object.assign({}, queue[0], { error: T.errorText(config, live), code: code })]);
        }
        removeFromQueue(config, [queue[0].key]);
        continue;
      }
      var chunk = [];
      for (var i = 0; i < queue.length && chunk.length < size && queue[i].kind !== "live"; i += 1) chunk.push(queue[i]);
      var result = await T.api(config, "POST", "/batches", {
        store: config.store,
        till: config.till,
        sales: chunk.map(function (e) { return e.body; }),
      });
      if (result.status === 0 || result.status >= 500) {
        outcome.network = result.status === 0;
        outcome.error = T.errorText(config, result);
        break;
      }
      if (!result.ok) {
        var malformed = result.status === 400 || result.status === 422;
        if (malformed && chunk.length > 1) { size = 1; continue; } // find the bad one
        if (malformed) {
          addProblems(config, [Object.assign({}, chunk[0], { error: T.errorText(config, result) })]);
          removeFromQueue(config, [chunk[0].key]);
          outcome.rejected += 1;
          continue;
        }
        outcome.error = T.errorText(config, result); // e.g. 403: keep all, tell the cashier
        break;
      }
      var done = [];
      var problems = [];
      var byKey = new Map(chunk.map(function (e) { return [e.key, e]; }));
      (result.data.results || []).forEach(function (r) {
        var entry = byKey.get(r.idempotency_key);
        if (!entry) return;
        if (r.status === "created" || r.status === "replayed") {
          outcome[r.status] += 1;
          done.push(r.idempotency_key);
        } else if (!(r.error && r.error.code === "database_busy")) {
          outcome.rejected += 1;
          var detail = T.errorText(config, { status: 409, data: r.error || {} });
          problems.push(Object.assign({}, entry, { error: detail, code: r.error ? r.error.code : "" }));
        }
      });
      if (problems.length) addProblems(config, problems);
      var gone = done.concat(problems.map(function (p) { return p.key; }));
      removeFromQueue(config, gone);
      if (gone.length < chunk.length) break; // busy: try the rest later
    }
    return outcome;
  }

  // One upload at a time per till across the tabs of this browser (the keys make a second
  // one harmless anyway).
  function sync(config) {
    var name = "cs-pos-sync:" + config.store + ":" + config.till;
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request(name, { ifAvailable: true }, function (lock) {
        return lock ? uploadQueue(config) : { created: 0, replayed: 0, rejected: 0, network: false, error: "", busy: true };
      });
    }
    return uploadQueue(config);
  }

  // -- the offline receipt (printed from the browser) ----------------------------------
  function esc(value) {
    return String(value === undefined || value === null ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function receiptHtml(entry, text, lang) {
    var r = entry.receipt;
    var lines = r.lines.map(function (ln) {
      return "<tr><td>" + esc(ln.name) + "<br><small>" + esc(ln.quantity) + (ln.unit_price ? " × " + esc(ln.unit_price) : "") +
        "</small></td><td class=n>" + esc(ln.net) + "</td></tr>";
    }).join("");
    var tenders = r.tenders.map(function (t) {
      return "<tr><td>" + esc(t.label) + (t.reference ? " " + esc(t.reference) : "") + "</td><td class=n>" + esc(t.amount) + "</td></tr>";
    }).join("");
    return "<!doctype html><html lang=\"" + esc(lang) + "\"><head><meta charset=utf-8><title>" + esc(r.number) +
      "</title><style>body{font:13px/1.35 monospace;width:72mm;margin:0 auto;padding:4mm 0}" +
      "h1{font-size:15px;text-align:center;margin:0}p{margin:2px 0}table{width:100%;border-collapse:collapse}" +
      "td{vertical-align:top;padding:1px 0}.n{text-align:right;white-space:nowrap}.mark{border:2px solid #000;" +
      "text-align:center;font-weight:bold;padding:3px;margin:6px 0}.t td{font-weight:bold;border-top:1px dashed #000}" +
      "</style></head><body data-testid=offline-receipt><h1>" + esc(r.storeName) + "</h1>" +
      "<div class=mark>" + esc(text.offlineReceipt) + "</div>" +
      "<p>" + esc(r.number) + "</p><p>" + esc(text.till) + " " + esc(r.till) + " · " + esc(r.cashier) + "</p>" +
      "<p>" + esc(new Date(r.sold_at).toLocaleString(lang)) + "</p>" +
      "<table>" + lines + "<tr class=t><td>" + esc(text.total) + "</td><td class=n>¥" + esc(r.total) + "</td></tr>" +
      tenders + "<tr><td>" + esc(text.change) + "</td><td class=n>¥" + esc(r.change) + "</td></tr></table>" +
      "<p>" + esc(text.noPromotions) + "</p></body></html>";
  }

  // -- the checkout page kept for a reload without network (service worker) -----------
  function keepPage(config) {
    if (!config.swUrl || !("serviceWorker" in navigator) || !window.isSecureContext) return;
    navigator.serviceWorker.register(config.swUrl, { scope: config.checkoutUrl }).then(function () {
      if (!window.caches) return;
      var assets = performance.getEntriesByType("resource")
        .map(function (e) { return e.name; })
        .filter(function (u) { return u.indexOf(window.location.origin + config.staticUrl) === 0; });
      return window.caches.open(PAGE_CACHE).then(function (cache) {
        return Promise.all([window.location.pathname].concat(assets).map(function (u) {
          return cache.add(u).catch(function () { return null; });
        }));
      });
    }).catch(function () { return null; });
  }

  window.csOffline = {
    loadCatalog: loadCatalog,
    refreshCatalog: refreshCatalog,
    index: index,
    resolve: resolve,
    lineGross: lineGross,
    lineTax: lineTax,
    readQueue: readQueue,
    readProblems: readProblems,
    enqueue: enqueue,
    nextLocalNumber: nextLocalNumber,
    retryProblem: retryProblem,
    dismissProblem: dismissProblem,
    sync: sync,
    receiptHtml: receiptHtml,
    keepPage: keepPage,
    CHUNK: CHUNK,
  };
})();
