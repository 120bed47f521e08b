// Dashboard charts (Apache ECharts). Data comes from json_script blocks rendered by the view.
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var charts = [];
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === "undefined") return;
    var c = echarts.init(el, null, { renderer: "svg" });
    c.setOption(option);
    charts.push(c);
  }
  var grid = { left: 8, right: 16, top: 16, bottom: 8, containLabel: true };
  var value = data("value-chart-data");
  if (value && value.sites.length) {
    chart("chart-value", {
      grid: grid,
      tooltip: {
        trigger: "axis",
        formatter: function (p) {
          var i = p[0].dataIndex;
          return value.sites[i] + " " + value.names[i] + "<br>¥" +
            Number(value.values[i]).toLocaleString(undefined, { minimumFractionDigits: 2 });
        },
      },
      xAxis: { type: "category", data: value.sites, axisLabel: { interval: 0, rotate: value.sites.length > 6 ? 45 : 0 } },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return "¥" + v.toLocaleString(); } } },
      series: [{ type: "bar", data: value.values.map(Number), itemStyle: { color: "#0d6efd" }, barMaxWidth: 48 }],
    });
  }
  var expiry = data("expiry-chart-data");
  if (expiry) {
    chart("chart-expiry", {
      grid: grid,
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: expiry.labels, axisLabel: { interval: 0, fontSize: 11 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        type: "bar",
        barMaxWidth: 40,
        data: expiry.values.map(function (v, i) {
          return { value: v, itemStyle: { color: i === 0 ? "#dc3545" : "#ffc107" } };
        }),
      }],
    });
  }
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
