// The transfer tracking map (templates/transfers/_exec_tracking.html): a plain SVG with the
// source, the destination and the carrier's events in between, scaled to their bounding box
// (equirectangular; enough for a route inside China). No map tiles, no library.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";

  function point(lat, lon, name, kind) {
    var la = parseFloat(lat), lo = parseFloat(lon);
    return isFinite(la) && isFinite(lo) ? { lat: la, lon: lo, name: name || "", kind: kind } : null;
  }
  function el(tag, attrs) {
    var node = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function draw(box) {
    var d = box.dataset;
    var pts = [point(d.sourceLat, d.sourceLon, d.sourceName, "source")];
    var list = box.parentNode.querySelectorAll(".cs-transfer-events li");
    Array.prototype.forEach.call(list, function (li) {
      pts.push(point(li.dataset.lat, li.dataset.lon, li.dataset.place, "event"));
    });
    pts.push(point(d.destLat, d.destLon, d.destName, "destination"));
    pts = pts.filter(Boolean);
    if (pts.length < 2) { box.hidden = true; return; }
    var w = 400, h = 200, pad = 24;
    var lats = pts.map(function (p) { return p.lat; }), lons = pts.map(function (p) { return p.lon; });
    var minLat = Math.min.apply(null, lats), maxLat = Math.max.apply(null, lats);
    var minLon = Math.min.apply(null, lons), maxLon = Math.max.apply(null, lons);
    var span = Math.max(maxLat - minLat, maxLon - minLon, 0.01);
    function xy(p) {
      return [pad + ((p.lon - minLon) / span) * (w - 2 * pad), h - pad - ((p.lat - minLat) / span) * (h - 2 * pad)];
    }
    var svg = el("svg", { viewBox: "0 0 " + w + " " + h, width: "100%", height: "100%", "data-testid": "tracking-map" });
    svg.appendChild(el("polyline", {
      points: pts.map(function (p) { return xy(p).join(","); }).join(" "),
      fill: "none", stroke: "#0d6efd", "stroke-width": 2, "stroke-dasharray": "4 3",
    }));
    pts.forEach(function (p) {
      var c = xy(p);
      var colour = p.kind === "source" ? "#198754" : p.kind === "destination" ? "#dc3545" : "#0d6efd";
      svg.appendChild(el("circle", { cx: c[0], cy: c[1], r: p.kind === "event" ? 3.5 : 6, fill: colour }));
      if (p.kind !== "event" && p.name) {
        var t = el("text", { x: c[0] + 8, y: c[1] - 6, "font-size": 12, fill: "currentColor" });
        t.textContent = p.name;
        svg.appendChild(t);
      }
    });
    box.appendChild(svg);
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".cs-transfer-map"), function (box) {
      if (!box.firstChild) draw(box);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
