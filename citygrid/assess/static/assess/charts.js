// The assessment overview's ECharts charts. Data from the json_script "assess-data";
// each chart's title from its container's data-title (translated in the template).
(function () {
  const source = document.getElementById("assess-data");
  if (!source || !window.echarts) return;
  const data = JSON.parse(source.textContent);
  const make = (id, option) => {
    const el = document.getElementById(id);
    if (!el) return;
    option.title = {text: el.dataset.title || ""};
    echarts.init(el).setOption(option);
  };
  make("chart-trend", {tooltip: {trigger: "axis"},
    xAxis: {type: "category", data: data.trend.map(t => t[0])}, yAxis: {type: "value"},
    series: [{type: "line", name: "reported", data: data.trend.map(t => t[1])},
             {type: "line", name: "closed", data: data.trend.map(t => t[2])}]});
  make("chart-ranking", {tooltip: {},
    xAxis: {type: "value", max: 100}, yAxis: {type: "category", inverse: true, data: data.ranking.map(r => r[0])},
    series: [{type: "bar", data: data.ranking.map(r => r[1])}]});
  make("chart-mix", {tooltip: {},
    series: [{type: "pie", radius: "60%", data: data.mix.map(m => ({name: m[0], value: m[1]}))}]});
})();
