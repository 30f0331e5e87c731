/* Draw each statistics table's chart with Apache ECharts (served from our own static files).
   The table under each chart holds the same figures: with no script, or no ECharts, nothing is lost. */
(function () {
  "use strict";
  function build(spec) {
    var many = spec.categories.length > 6;
    return {
      color: spec.colors || ["#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#c62828", "#00838f", "#5d4037"],
      animation: false,
      tooltip: {trigger: "axis"},
      legend: {type: "scroll", top: 0},
      grid: {left: 8, right: 16, bottom: 8, top: 36, containLabel: true},
      xAxis: {type: "category", data: spec.categories, axisLabel: {interval: 0, rotate: many ? 35 : 0}},
      yAxis: {type: "value", minInterval: 1},
      series: spec.series.map(function (series) {
        return {name: series.name, type: spec.type, data: series.data, stack: spec.stack ? "total" : undefined};
      })
    };
  }
  function draw() {
    var source = document.getElementById("chart-data");
    if (!source || typeof echarts === "undefined") { return; }
    var specs = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      var spec = specs[box.getAttribute("data-chart")];
      if (!spec || !spec.categories || !spec.categories.length) { return; }
      var chart = echarts.init(box, null, {renderer: "svg"});
      chart.setOption(build(spec));
      box.setAttribute("data-drawn", "yes");
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (chart) { chart.resize(); }); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
