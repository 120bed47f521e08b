// Shared helpers of the till screens: exact money (integer fen, never floats for
// arithmetic), quantities, idempotency keys and the JSON API with the session + CSRF.
(function () {
  "use strict";

  // "12.50" / "12.5" / "12" / "-3.10" -> integer fen; NaN when not a money amount.
  function toFen(text) {
    var s = String(text === undefined || text === null ? "" : text).trim().replace(/[,¥￥\s]/g, "");
    var m = /^(-?)(\d*)(?:\.(\d{0,2}))?$/.exec(s);
    if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) return NaN;
    var fen = Number(m[2] || "0") * 100 + Number(((m[3] || "") + "00").slice(0, 2));
    return m[1] ? -fen : fen;
  }

  // integer fen -> "12.50"
  function money(fen) {
    if (fen === null || fen === undefined || isNaN(fen)) return "";
    var sign = fen < 0 ? "-" : "";
    var abs = Math.abs(Math.round(fen));
    var cents = String(abs % 100);
    return sign + String(Math.floor(abs / 100)) + "." + (cents.length < 2 ? "0" + cents : cents);
  }

  // integer fen -> "¥12.50"
  function yuan(fen) {
    if (fen === null || fen === undefined || isNaN(fen)) return "";
    return fen < 0 ? "-¥" + money(-fen) : "¥" + money(fen);
  }

  // "3" / "0.5" / "1.250" -> integer thousandths; NaN when not a quantity.
  function toMilli(text) {
    var s = String(text === undefined || text === null ? "" : text).trim();
    var m = /^(\d*)(?:\.(\d{0,3}))?$/.exec(s);
    if (!m || (m[1] === "" && !m[2])) return NaN;
    return Number(m[1] || "0") * 1000 + Number(((m[2] || "") + "000").slice(0, 3));
  }

  // integer thousandths -> "3" / "0.5"
  function qty(milli) {
    if (milli === null || milli === undefined || isNaN(milli)) return "";
    var whole = Math.floor(milli / 1000);
    var frac = String(milli % 1000);
    while (frac.length < 3) frac = "0" + frac;
    frac = frac.replace(/0+$/, "");
    return frac ? whole + "." + frac : String(whole);
  }

  // A random key (crypto.getRandomValues also works on plain-HTTP LAN tills).
  function newKey(prefix) {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    return (prefix || "till") + "-" + hex;
  }

  // Call the API: resolves to {ok, status, data}; status 0 = no answer (network).
  async function api(config, method, path, body, extraHeaders) {
    var headers = { Accept: "application/json", "X-CSRFToken": config.csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    Object.assign(headers, extraHeaders || {});
    var response;
    try {
      response = await fetch(config.api + path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch (e) {
      return { ok: false, status: 0, data: null };
    }
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (response.status === 401 && config.loginUrl) {
      // The session ran out: log in again; the basket waits in localStorage.
      window.location.href = config.loginUrl;
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  // One line for the cashier from an API error answer.
  function errorText(config, result) {
    if (result.status === 0) return config.text.network;
    var data = result.data || {};
    var text = data.message || config.text.failed + " (" + result.status + ")";
    var details = data.details || {};
    var subject = ["sku", "barcode", "scan", "lot", "number"]
      .map(function (k) { return details[k]; })
      .filter(function (v) { return v !== undefined && v !== null && v !== "" && typeof v !== "object"; })
      .join(" / ");
    return subject ? subject + ": " + text : text;
  }

  function readConfig(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  window.csTill = {
    toFen: toFen, money: money, yuan: yuan, toMilli: toMilli, qty: qty,
    newKey: newKey, api: api, errorText: errorText, readConfig: readConfig,
  };
})();
