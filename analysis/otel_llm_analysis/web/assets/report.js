/* otel-llm report and live dashboard: renders the views of otel_llm_analysis.web.views.
 *
 * Static mode: every filter combination's views are embedded (DATA.pool, DATA.states).
 * Live mode: the same views come from /api/<view> and refresh when /api/status changes.
 * Charts are hand-drawn SVG; nothing is fetched from anywhere else. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("otel-llm-data").textContent);
  var META = DATA.meta;
  var LIVE = META.mode === "live";
  var VIEWS = META.views;
  var SVG = "http://www.w3.org/2000/svg";
  var filters = { range: "", project: "", model: "", since: "", until: "" };
  var shown = {};
  var choices = META.choices;
  var version = LIVE ? META.version : null;  // the data version the page's first views are of
  var loading = 0;

  // --- formatting ---------------------------------------------------------------
  function sig(v, digits) { return Number(v.toPrecision(digits)).toString(); }
  function group(v, decimals) {
    return v.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  }
  function usd(v) {
    if (v === null || v === undefined) return "–";
    var a = Math.abs(v);
    if (a === 0) return "$0";
    if (a >= 100) return "$" + group(v, 0);
    if (a >= 1) return "$" + group(v, 2);
    if (a >= 0.01) return "$" + v.toFixed(3);
    return "$" + sig(v, 2);
  }
  function ms(v) {
    if (v === null || v === undefined) return "–";
    if (Math.abs(v) >= 10000) return group(v / 1000, 1) + " s";
    if (Math.abs(v) >= 1000) return group(v / 1000, 2) + " s";
    if (Math.abs(v) >= 10) return group(v, 0) + " ms";
    return sig(v, 2) + " ms";
  }
  function pct(v) {
    if (v === null || v === undefined) return "–";
    var p = v * 100;
    if (p !== 0 && Math.abs(p) < 0.1) return sig(p, 2) + "%";
    return p.toFixed(1) + "%";
  }
  function when(v) {
    if (!v) return "–";
    return String(v).replace("T", " ").replace(/(:\d\d)(\.\d+)?(\+00:00|Z)?$/, "$1").replace(/ 00:00:00$/, "");
  }
  function between(since, until) {  // a half-open [since, until) as people read it: whole days inclusive
    var a = when(since), b = when(until);
    if (/^\d{4}-\d\d-\d\d$/.test(a) && /^\d{4}-\d\d-\d\d$/.test(b)) {
      b = addDays(b, -1);
      return a === b ? a : a + " – " + b;
    }
    return a.slice(0, 16) + " – " + b.slice(0, 16) + " (exclusive)";
  }
  function cell(row, column) {  // a cost the row's calls lack (their model has no price) reads "unpriced", not "–"
    var v = row[column.key], cost = column.format === "usd" || column.format === "usd_1k" || /cost/.test(column.key);
    if ((v === null || v === undefined) && cost && (row.llm_calls || row.calls || 0) > 0) return "unpriced";
    return fmt(v, column.format);
  }
  function fmt(v, format) {
    if (v === null || v === undefined || v === "") return "–";
    switch (format) {
      case "int": return group(v, 0);
      case "usd": return usd(v);
      case "usd_1k": return usd(v * 1000);
      case "pct": return pct(v);
      case "ms": return ms(v);
      case "num": return Math.abs(v) >= 100 ? group(v, 0) : group(v, 1);
      case "time": return when(v);
      case "bool": return v ? "✓ best" : "";
      default: return String(v);
    }
  }

  // --- DOM helpers --------------------------------------------------------------
  // Names and messages come from the traced app: a bidi control in one (U+202E RIGHT-TO-LEFT OVERRIDE, ...) would
  // reorder the text after it - a note reading backwards - and a control character hide in it. Shown as escapes
  // (\u202e), as the terminal's tables show them (terminal.visible); Arabic or Hebrew text shows as it is, and
  // filter values and downloads keep the names whole.
  var CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
  function visible(text) {
    return String(text).replace(CONTROL, function (c) { return "\\u" + ("000" + c.charCodeAt(0).toString(16)).slice(-4); });
  }
  var SAID = { title: true, "aria-label": true };  // attributes read out or shown, like text
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") node.textContent = visible(attrs[k]);
      else if (k === "cls") node.className = attrs[k];
      else node.setAttribute(k, SAID[k] ? visible(attrs[k]) : attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(visible(c)) : c); });
    return node;
  }
  function svg(tag, attrs, parent) {
    var node = document.createElementNS(SVG, tag);
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }
  function download(name, type, text) {
    var url = URL.createObjectURL(new Blob([text], { type: type }));
    var a = el("a", { href: url, download: name });
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 0);
  }
  // As otel-llm's other CSV (export.to_csv): RFC 4180 rows (CRLF; a cell holding a CR or LF quoted), and text
  // a spreadsheet would run as a formula (a name from the app starting with "=", "+", ...) marked with a quote.
  function csv(columns, rows) {
    var formula = META.csv_formula_start || [];
    function cell(v) {
      if (v === null || v === undefined) return "";
      var s = typeof v === "object" ? JSON.stringify(v) : String(v);
      if (typeof v === "string" && formula.indexOf(s.charAt(0)) >= 0) s = "'" + s;
      return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    }
    var lines = [columns.map(cell).join(",")];
    rows.forEach(function (r) { lines.push(columns.map(function (c) { return cell(r[c]); }).join(",")); });
    return lines.join("\r\n") + "\r\n";
  }
  function slug() {
    return ["otel-llm", filters.range || "all", filters.project, filters.model].filter(Boolean).join("-")
      .replace(/[^A-Za-z0-9._-]+/g, "_");
  }

  // --- data ---------------------------------------------------------------------
  function stateKey() { return JSON.stringify([filters.range, filters.project, filters.model]); }
  function params() {
    var p = new URLSearchParams();
    var range = choices.ranges.filter(function (r) { return r.key === filters.range; })[0];
    var since = filters.since || (range && range.since) || "";
    var until = filters.until ? addDays(filters.until, 1) : (range && range.until) || "";  // "to" is inclusive
    if (since) p.set("since", since.replace(/(\+00:00|Z)$/, ""));
    if (until) p.set("until", until.replace(/(\+00:00|Z)$/, ""));
    if (filters.project) p.set("project", filters.project);
    if (filters.model) p.set("model", filters.model);
    return p.toString();
  }
  function viewQuery(name) {  // the filters, and for the logs the service, logger or trace they are narrowed to
    var p = new URLSearchParams(params());
    if (name === "logs") for (var k in logSources) if (logSources[k]) p.set(k, logSources[k]);
    return p.toString();
  }
  function expand(value) {  // the inverse of static.columnar()
    if (Array.isArray(value)) return value.map(expand);
    if (value && typeof value === "object") {
      if (value.$cols && value.$rows) {
        return value.$rows.map(function (row) {
          var record = {};
          value.$cols.forEach(function (c, i) { record[c] = expand(row[i]); });
          return record;
        });
      }
      var out = {};
      for (var k in value) out[k] = expand(value[k]);
      return out;
    }
    return value;
  }
  var expanded = {};
  // The views the page draws first, as soon as they come (the cards and the budget bars, at its top): the
  // dashboard's server answers one request at a time (one store), so the whole page's views take seconds on a
  // big store, and the charts and tables follow.
  var FIRST = ["summary", "budgets"];
  // The views ``names`` as {views, versions}: ``versions`` (live) names the version of the data each was computed
  // from (the server's X-Otel-Llm-Version header); the static page has one version, the file's. ``views`` is null
  // when the report holds no such combination of filters.
  function getViews(names) {
    if (!LIVE) {
      var entry = DATA.states[stateKey()];
      if (!entry) return Promise.resolve({ views: null, versions: {} });
      var out = {};
      for (var name in entry) {
        var slot = entry[name];
        if (!(slot in expanded)) expanded[slot] = expand(DATA.pool[slot]);
        out[name] = expanded[slot];
      }
      return Promise.resolve({ views: out, versions: {} });
    }
    return Promise.all(names.map(function (name) {
      var query = viewQuery(name);
      return fetch("api/" + name + (query ? "?" + query : "")).then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.detail || r.statusText);
          return { body: body, version: Number(r.headers.get("X-Otel-Llm-Version")) };
        });
      });
    })).then(function (answers) {
      var got = { views: {}, versions: {} };
      names.forEach(function (n, i) { got.views[n] = answers[i].body; got.versions[n] = answers[i].version; });
      return got;
    });
  }
  // ``got`` with every view of one version of the data, the newest it holds: an ingest ending between two of the
  // page's requests leaves some views of the data before it, and those are asked for again (drawn together,
  // views of two versions read as wrong numbers: cards counting calls the tables do not). Null when a newer load
  // of the page began meanwhile (``ticket``).
  function oneVersion(got, ticket) {
    if (ticket !== loading) return Promise.resolve(null);
    var names = Object.keys(got.versions);
    var newest = Math.max.apply(null, names.map(function (n) { return got.versions[n]; }).concat([-Infinity]));
    var older = names.filter(function (n) { return got.versions[n] !== newest; });
    if (!older.length) return Promise.resolve(got);
    return getViews(older).then(function (again) {
      older.forEach(function (n) { got.views[n] = again.views[n]; got.versions[n] = again.versions[n]; });
      return oneVersion(got, ticket);
    });
  }

  // --- charts -------------------------------------------------------------------
  var W = 560, H = 230, M = { l: 62, r: 12, t: 14, b: 40 };
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v) return steps[i] * p;
    return 10 * p;
  }
  // A count axis (calls, tokens): its four steps are whole numbers (1, 2, 2.5 or 5 × 10^k, at least 1), so no
  // tick reads 1.3 or 2.5 calls and no two ticks round to the same label.
  function countMax(v) {
    var step = niceMax(Math.max(v, 0) / 4);
    if (step % 1) step = step < 1 ? 1 : Math.ceil(step / 5) * 5;  // 2.5 -> 5, 0.5 -> 1
    return 4 * step;
  }
  function periodLabel(iso, period) {
    var s = when(iso);
    return period === "hour" ? s.slice(5, 16) : s.slice(5, 10);  // the years are in the page's subtitle
  }
  function frame(box, labels, maxY, yfmt, period) {
    var named = box.querySelector("h3");  // the chart's title names it (not its axis labels run together)
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": named ? named.textContent : "" }, box);
    var ticks = [0, 1, 2, 3, 4].map(function (i) { return yfmt(maxY * i / 4); });
    // the y labels' margin fits the widest one (11px text: at most 7 units a character), so none is cut
    var left = Math.max(M.l, 10 + 7 * Math.max.apply(null, ticks.map(function (t) { return t.length; })));
    var iw = W - left - M.r, ih = H - M.t - M.b;
    var grid = svg("g", { "class": "grid" }, root);
    var axis = svg("g", { "class": "axis" }, root);
    for (var i = 0; i <= 4; i++) {
      var y = M.t + ih - ih * i / 4;
      svg("line", { x1: left, x2: left + iw, y1: y, y2: y }, grid);
      var t = svg("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, axis);
      t.textContent = ticks[i];
    }
    svg("line", { x1: left, x2: left + iw, y1: M.t + ih, y2: M.t + ih }, axis);
    var n = labels.length, every = Math.max(1, Math.ceil(n / 7));
    for (var j = 0; j < n; j += every) {
      var x = left + iw * (j + 0.5) / n;
      var lab = svg("text", { x: x, y: M.t + ih + 16, "text-anchor": "middle" }, axis);
      lab.textContent = periodLabel(labels[j], period);
    }
    return { root: root, x: function (k) { return left + iw * k / n; }, bw: iw / n,
             y: function (v) { return M.t + ih - ih * Math.min(v, maxY) / maxY; }, ih: ih, iw: iw, left: left };
  }
  function legend(box, items) {
    var l = el("div", { cls: "legend" });
    items.forEach(function (it) {
      var swatch = el("i", { cls: it.cls || "" });
      if (!it.cls) swatch.style.background = it.color;
      if (it.cls === "spike") swatch.textContent = "▲";
      l.appendChild(el("span", {}, [swatch, it.label]));
    });
    box.appendChild(l);
  }
  function chartBox(parent, name, title) {
    var box = el("div", { cls: "chart", "data-chart": name }, [el("h3", { text: title })]);
    parent.appendChild(box);
    return box;
  }
  function bars(box, labels, series, opts) {
    var totals = labels.map(function (_, i) {
      return series.reduce(function (s, se) { return s + (se.values[i] || 0); }, 0);
    });
    var tallest = Math.max.apply(null, totals.concat([0]));
    var max = opts.counts ? countMax(tallest) : niceMax(tallest);
    var f = frame(box, labels, max, opts.yfmt, opts.period);
    var gap = Math.min(2, f.bw * 0.2);
    labels.forEach(function (label, i) {
      var base = 0;
      series.forEach(function (se) {
        var v = se.values[i] || 0;
        if (v <= 0) return;
        var r = svg("rect", { x: f.x(i) + gap / 2, width: Math.max(1, f.bw - gap), y: f.y(base + v),
                              height: Math.max(0.5, f.y(base) - f.y(base + v)), fill: se.color }, f.root);
        svg("title", {}, r).textContent = visible(periodLabel(label, opts.period) + " · " + se.name + ": " + opts.yfmt(v));
        base += v;
      });
    });
    marks(f, labels, totals, opts);
    legend(box, series.map(function (s) { return { color: s.color, label: s.name }; }).concat(opts.extraLegend || []));
    return f;
  }
  function lines(box, labels, series, opts) {
    var all = [];
    series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null && v !== undefined) all.push(v); }); });
    var max = niceMax(Math.max.apply(null, all.concat([opts.floor || 0])));
    var f = frame(box, labels, max, opts.yfmt, opts.period);
    series.forEach(function (se) {
      var d = "", pen = false;
      se.values.forEach(function (v, i) {
        if (v === null || v === undefined) { pen = false; return; }
        var x = f.x(i + 0.5), y = f.y(v);
        d += (pen ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
        pen = true;
        var dot = svg("circle", { cx: x, cy: y, r: 2.5, fill: se.color }, f.root);
        svg("title", {}, dot).textContent = visible(periodLabel(labels[i], opts.period) + " · " + se.name + ": " + opts.yfmt(v));
      });
      if (d) svg("path", { d: d, fill: "none", stroke: se.color, "stroke-width": 2,
                           "stroke-dasharray": se.dash ? "6 4" : "none" }, f.root);
    });
    marks(f, labels, series[0] ? series[0].values : [], opts);
    legend(box, series.map(function (s) { return s.dash ? { cls: "dash", label: s.name } : { color: s.color, label: s.name }; })
      .concat(opts.extraLegend || []));
    return f;
  }
  function marks(f, labels, tops, opts) {
    (opts.spikes || []).forEach(function (i) {
      var x = f.x(i + 0.5), y = f.y(tops[i] || 0) - 4;
      var m = svg("text", { x: x, y: Math.max(10, y), "text-anchor": "middle", fill: "#D55E00", "class": "spike-mark" }, f.root);
      m.textContent = "▲";
      svg("title", {}, m).textContent = "spike: " + periodLabel(labels[i], opts.period);
    });
  }
  function spikeIndices(trends, metric) {
    var out = [];
    trends.spikes.filter(function (s) { return s.metric === metric; }).forEach(function (s) {
      var day = String(s.period).slice(0, 10);
      trends.points.forEach(function (p, i) {
        var start = String(p.period).slice(0, 10);
        if (trends.period === "week" ? (start <= day && day < addDays(start, 7)) : start === day) {
          if (trends.period !== "hour" || out.indexOf(i) < 0) out.push(i);
        }
      });
    });
    // hourly: mark only the busiest hour of a spike day
    if (trends.period === "hour" && out.length) {
      var byDay = {};
      out.forEach(function (i) {
        var d = String(trends.points[i].period).slice(0, 10);
        if (byDay[d] === undefined || trends.points[i][metric] > trends.points[byDay[d]][metric]) byDay[d] = i;
      });
      out = Object.keys(byDay).map(function (d) { return byDay[d]; });
    }
    return out;
  }
  function addDays(iso, n) {
    var d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  var SPIKE = { cls: "spike", label: "spike (robust z > 3.5 vs the 7 days before)" };

  function renderTrends(parent, trends, budgets) {
    var wrap = el("div", { cls: "charts" });
    parent.appendChild(wrap);
    var pts = trends.points, labels = pts.map(function (p) { return p.period; });
    var period = trends.period;
    if (!pts.length) { wrap.appendChild(el("p", { cls: "empty", text: "No LLM calls in this range." })); return; }
    var costSeries = trends.cost_by_model.map(function (s) { return { name: s.model, color: s.color, values: s.cost_usd }; });
    var costSpikes = spikeIndices(trends, "cost_usd");
    var unpriced = (trends.unpriced_models || []).map(keyLabel);
    bars(chartBox(wrap, "cost", "Cost per " + period + ", stacked by model"), labels, costSeries,
         { yfmt: usd, period: period, spikes: costSpikes, extraLegend: (costSpikes.length ? [SPIKE] : []).concat(
           unpriced.length ? [{ cls: "none", label: "not in the chart, no price known: " + unpriced.join(", ") }] : []) });
    renderForecast(chartBox(wrap, "forecast", "Spend this month and the month-end forecast"), trends.forecast, budgets);
    bars(chartBox(wrap, "calls", "LLM calls per " + period), labels, [
      { name: "succeeded", color: "#0072B2", values: pts.map(function (p) { return p.calls - p.errors; }) },
      { name: "failed", color: "#D55E00", values: pts.map(function (p) { return p.errors; }) }],
      { yfmt: function (v) { return group(v, 0); }, period: period, counts: true });
    bars(chartBox(wrap, "tokens", "Tokens per " + period), labels, [
      { name: "input", color: "#56B4E9", values: pts.map(function (p) { return p.input_tokens; }) },
      { name: "output", color: "#E69F00", values: pts.map(function (p) { return p.output_tokens; }) }],
      { yfmt: function (v) { return v >= 1e6 ? sig(v / 1e6, 3) + "M" : v >= 1e3 ? sig(v / 1e3, 3) + "k" : group(v, 0); },
        period: period, counts: true });
    lines(chartBox(wrap, "p95", "p95 LLM-call latency per " + period), labels,
          [{ name: "p95 latency", color: "#CC79A7", values: pts.map(function (p) { return p.p95_ms; }) }],
          { yfmt: ms, period: period });
    // the charts' figures as a table: readable with the keyboard and by a screen reader, not by hovering only
    var view = VIEWS.trends, figures = el("details", { cls: "figures" }, [
      el("summary", { text: "The charts' figures per " + period + " as a table" })]);
    figures.appendChild(table(view.key.label, view.columns, pts, { key: view.key.key, keyFormat: view.key.format,
                                                                   label: "Trends per " + period }));
    parent.appendChild(figures);
    var errSpikes = spikeIndices(trends, "error_rate");
    lines(chartBox(wrap, "error_rate", "Error rate per " + period), labels,
          [{ name: "failed / all LLM calls", color: "#D55E00", values: pts.map(function (p) { return p.error_rate; }) }],
          { yfmt: pct, period: period, spikes: errSpikes, extraLegend: errSpikes.length ? [SPIKE] : [] });
    // periods whose calls only metric points record, weeks partly so: what the charts' figures leave out
    (trends.notes || []).forEach(function (n) { parent.appendChild(el("p", { cls: "note left-out", text: n })); });
  }
  function renderForecast(box, fc, budgets) {
    var days = fc.days_in_month, labels = [], actual = [], projected = [], sum = 0;
    for (var d = 1; d <= days; d++) labels.push(fc.month + "-" + (d < 10 ? "0" : "") + d);
    fc.daily_costs.forEach(function (c) { sum += c; actual.push(sum); });
    for (var i = 0; i < days; i++) {
      if (i < fc.daily_costs.length - 1) projected.push(null);
      else if (i === fc.daily_costs.length - 1) projected.push(sum);
      else if (fc.projected_month_end === null) projected.push(null);  // unknown: no line drawn
      else { sum += Math.max(0, fc.intercept + fc.slope * (i + 1)); projected.push(sum); }
    }
    while (actual.length < days) actual.push(null);
    var limits = (budgets.rows || []).filter(function (b) { return !b.project && !b.model; });
    var floor = limits.reduce(function (m, b) { return Math.max(m, b.monthly_usd); }, 0);
    var f = lines(box, labels, [
      { name: "spent so far", color: "#0072B2", values: actual },
      { name: "forecast (least squares over the days so far)", color: "#3d4452", dash: true, values: projected }],
      { yfmt: usd, period: "day", floor: Math.max(floor, fc.projected_month_end) });
    var lastLabel = -Infinity;
    limits.slice().sort(function (a, b) { return a.monthly_usd - b.monthly_usd; }).forEach(function (b) {
      var y = f.y(b.monthly_usd);
      var line = svg("line", { x1: f.left, x2: f.left + f.iw, y1: y, y2: y, stroke: "#D55E00", "stroke-width": 1.5,
                               "stroke-dasharray": "2 3" }, f.root);
      svg("title", {}, line).textContent = visible(b.budget + " budget " + usd(b.monthly_usd));
      if (lastLabel - y >= 13 || lastLabel === -Infinity) {  // labels only where they do not overlap
        svg("text", { x: f.left + 4, y: y - 4, "text-anchor": "start" }, f.root).textContent =
          visible(b.budget + " budget " + usd(b.monthly_usd));
        lastLabel = y;
      }
    });
    if (limits.length) {
      legend(box, [{ color: "#D55E00", label: "monthly budgets: " + limits.map(function (b) {
        return b.budget + " " + usd(b.monthly_usd); }).join(", ") }]);
    }
    box.appendChild(el("p", { cls: "note", text: fc.cost_unknown ? "Month-end forecast unknown: spend " + fc.cost_unknown :
      "Month-end forecast " + usd(fc.projected_month_end) + " (spent " + usd(fc.spent) + " in " + fc.days_elapsed +
      " of " + days + " days)." }));
  }

  // --- sections -----------------------------------------------------------------
  function section(name, title, exportRows) {
    var actions = el("span", { cls: "actions" }), file = slug();  // the filters these figures are of
    if (exportRows) {
      var csvButton = el("button", { type: "button", "data-export": name + ".csv", text: "CSV",
                                     "aria-label": "Download " + title + " as CSV" });
      csvButton.onclick = function () { var e = exportRows(); download(file + "-" + name + ".csv", "text/csv", csv(e.columns, e.rows)); };
      var jsonButton = el("button", { type: "button", "data-export": name + ".json", text: "JSON",
                                      "aria-label": "Download " + title + " as JSON" });
      jsonButton.onclick = function () { download(file + "-" + name + ".json", "application/json", JSON.stringify(exportRows().rows, null, 2)); };
      actions.appendChild(csvButton);
      actions.appendChild(jsonButton);
    }
    // the buttons sit beside the heading, not in it: a heading's name is its title alone
    var s = el("section", { id: "view-" + name, "aria-labelledby": "title-" + name },
               [el("div", { cls: "head" }, [el("h2", { id: "title-" + name, text: title }), actions])]);
    var view = VIEWS[name];
    if (view && view.note) s.appendChild(el("p", { cls: "note", text: view.note }));
    var ignored = ["project", "model"].filter(function (f) { return view && filters[f] && view.filtered_by.indexOf(f) < 0; });
    if (ignored.length) {  // a filter chosen above that this view's records cannot follow: say so, not in silence
      s.appendChild(el("p", { cls: "note unfiltered", text: "Not filtered by " + ignored.map(function (f) {
        return f + " " + filters[f]; }).join(" or ") + ": this section shows the same for every " +
        ignored.join(" and every ") + "." }));
    }
    return s;
  }
  function keyLabel(key) { return key === null || key === undefined ? "(none)" : String(key); }
  function table(keyTitle, columns, rows, opts) {
    opts = opts || {};
    var body = el("tbody");
    // a key column of times (the log records') says UTC as the time columns do, unless its label does
    var keyHead = opts.keyFormat === "time" && !/UTC/.test(keyTitle) ? keyTitle + " (UTC)" : keyTitle;
    var head = el("tr", {}, [sortable(el("th", { text: keyHead }), body, 0, opts.keyFormat)].concat(columns.map(function (c, i) {
      // times are UTC (as the date filters' days): a header says so, not to be read as local time
      return sortable(el("th", { text: c.label + (c.format === "time" ? " (UTC)" : ""), cls: c.format === "text" ? "text" : "" }),
                      body, i + 1, c.format);
    })));
    rows.forEach(function (r) {
      var tr = el("tr", { cls: (r.best ? "best " : "") + (r[opts.key || "key"] === null ? "none" : "") });
      var id = r[opts.key || "key"];
      var first = el("td", { text: opts.keyFormat && id !== null && id !== undefined ? fmt(id, opts.keyFormat) : keyLabel(id),
                             "data-value": id === null || id === undefined ? "" : String(id) });
      if (opts.drill) drillable(first, opts.drill, id);
      // some of the row's calls are only in metric points: its figures are its spans' calls' (the notes say more)
      if (r.only_in_metrics) first.appendChild(el("div", { cls: "unpriced partial", text: "partial", title: r.only_in_metrics.said }));
      tr.appendChild(first);
      columns.forEach(function (c) {
        tr.appendChild(el("td", { text: cell(r, c), cls: c.format === "text" ? "text" : "",
                                   "data-key": c.key, "data-value": r[c.key] === null || r[c.key] === undefined ? "" : String(r[c.key]) }));
      });
      body.appendChild(tr);
      if (opts.after) opts.after(tr, r, body, columns.length + 1);
    });
    if (!rows.length) body.appendChild(el("tr", {}, [el("td", { cls: "empty", colspan: columns.length + 1, text: "No data in this range." })]));
    return el("div", { cls: "table-wrap" }, [el("table", opts.label ? { "aria-label": opts.label } : {},
                                                [el("thead", {}, [head]), body])]);
  }
  // A header is a button sorting its table by that column: a figure biggest first, then smallest first; a
  // name or time A to Z, then Z to A; an unknown figure (an unpriced cost, "(none)") last either way. A row's
  // span tree (tr.tree) moves with it.
  var TEXTUAL = { text: 1, time: 1 };
  function sortable(th, body, index, format) {
    var numeric = format && !TEXTUAL[format];
    var button = el("button", { type: "button", cls: "sort", text: th.textContent, title: "sort by " + th.textContent });
    th.textContent = "";
    th.appendChild(button);
    button.onclick = function () {
      var now = th.getAttribute("aria-sort"), down = now ? now === "ascending" : !!numeric;
      Array.prototype.forEach.call(th.parentNode.children, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", down ? "descending" : "ascending");
      var groups = [];
      Array.prototype.forEach.call(body.children, function (tr) {
        if (tr.classList.contains("tree") && groups.length) groups[groups.length - 1].push(tr); else groups.push([tr]);
      });
      function value(group) {
        var v = group[0].cells[index] ? group[0].cells[index].dataset.value : undefined;
        if (v === undefined || v === "" || (index === 0 && group[0].classList.contains("none"))) return null;
        return numeric ? Number(v) : v.toLowerCase();
      }
      groups.sort(function (a, b) {
        var x = value(a), y = value(b);
        if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
        return (x < y ? -1 : x > y ? 1 : 0) * (down ? -1 : 1);
      });
      groups.forEach(function (group) { group.forEach(function (tr) { body.appendChild(tr); }); });
    };
    return th;
  }
  // From a number to what is behind it: a project's or model's name in its row is a button choosing it in the
  // filter above (so the page, its traces included, shows that group alone) - a step the back button returns
  // from. Only a name the filter offers: not "(none)", nor one the report left out to stay small.
  var DRILL = { projects: "f-project", models: "f-model" };
  function drillable(td, selectId, key) {
    var select = document.getElementById(selectId);
    if (key === null || key === undefined || select.value === String(key) ||
        !Array.prototype.some.call(select.options, function (o) { return o.value === String(key); })) return;
    var what = selectId === "f-project" ? "project" : "model";
    var button = el("button", { type: "button", cls: "drill", text: String(key),
                                title: "Show only " + what + " " + key + ": its figures and traces" });
    button.onclick = function () { select.value = String(key); onFilter({ target: select }); };
    td.textContent = "";
    td.appendChild(button);
  }
  // A per-call cost is shown per 1,000 calls (format usd_1k): a download holds the figure shown, named for it
  // (cost_per_call -> cost_per_1k_calls), so a number read off the file is the page's.
  function exportName(column) {
    return column.format === "usd_1k" ? column.key.replace(/_per_call$/, "") + "_per_1k_calls" : column.key;
  }
  function exportValue(v, format) { return format === "usd_1k" && typeof v === "number" ? v * 1000 : v; }
  function exported(columns, rows, lead) {  // lead: the identifying fields, copied as they are
    return { columns: lead.concat(columns.map(exportName)), rows: rows.map(function (r) {
      var out = {};
      lead.forEach(function (k) { out[k] = r[k]; });
      columns.forEach(function (c) { out[exportName(c)] = exportValue(r[c.key], c.format); });
      return out;
    }) };
  }
  function exportOf(columns, rows, key) {
    return function () { return exported(columns, rows, [key || "key"]); };
  }
  var UNRECORDED = { total_tokens: 1, cost_usd: 1, cost_per_call: 1 };  // the cards kpi_view's cost_unknown empties
  // the cards of the spans' calls: only part of the window's calls when some days' are only in metric points
  var OF_CALLS = { llm_calls: 1, total_tokens: 1, cost_usd: 1, cost_per_call: 1, error_rate: 1, p95_ms: 1, ttft_p95_ms: 1 };
  function renderKpis(parent, summary) {
    var s = section("summary", "Key figures", function () {
      return { columns: ["key", "label", "value", "previous", "change"], rows: summary.cards.map(function (c) {
        return { key: exportName(c), label: c.label, value: exportValue(c.value, c.format),
                 previous: exportValue(c.previous, c.format), change: c.change };
      }) };
    });
    var grid = el("div", { cls: "cards" });
    var previous = summary.previous_window ? between(summary.previous_window[0], summary.previous_window[1]) : "";
    var current = {};
    summary.cards.forEach(function (c) { current[c.key] = c.value; });
    summary.cards.forEach(function (c) {
      var change = "no earlier data";
      if (c.change !== null && c.change !== undefined) {
        var arrow = c.change > 0 ? "▲ " : c.change < 0 ? "▼ " : "";
        change = arrow + (c.change > 0 ? "+" : "") + (c.change * 100).toFixed(1) + "% vs previous period";
      } else if (c.previous === 0 && c.value) change = "new: none in the previous period";
      var left = c.format === "usd" || c.format === "usd_1k" ? summary.unpriced_calls || 0 : 0;
      var made = current.llm_calls || 0, priced = summary.priced_calls || 0;
      // calls only metric points record: their tokens and cost are unknown, and the card says why (never $0)
      var unknown = summary.cost_unknown && c.value === null && UNRECORDED[c.key];
      var missing = unknown ? summary.cost_unknown :
        c.format === "usd" && left ? group(left, 0) + " unpriced LLM call" + (left === 1 ? "" : "s") +
        " not included: " + summary.unpriced_reasons :  // why, as the CLI says it (the SDK's refusal, no price, ...)
        c.format === "usd_1k" && priced < made ? "per priced call: " + group(priced, 0) + " of " + group(made, 0) +
        " LLM calls have a cost" : "";
      var shown = unknown ? "unknown" : c.value === null && left ? "unpriced" : fmt(c.value, c.format);  // a long figure wraps, in smaller type
      var card = el("div", { cls: "card", "data-kpi": c.key, "data-value": c.value === null ? "" : String(c.value) }, [
        el("div", { cls: "label", text: c.label }),
        el("div", { cls: "value" + (shown.length > 10 ? " long" : ""), text: shown }),
        el("div", { cls: "change", text: change, title: "previous: " + fmt(c.previous, c.format) + (previous ? " (" + previous + ")" : "") }),
        missing ? el("div", { cls: "unpriced", text: missing }) : null,
        summary.only_in_metrics && OF_CALLS[c.key] ? el("div", { cls: "unpriced partial", text: "partial: the spans' calls only (below)" }) : null]);
      grid.appendChild(card);
    });
    s.appendChild(grid);
    if (summary.only_in_metrics) s.appendChild(el("p", { cls: "unpriced partial", text: summary.only_in_metrics.said }));
    s.appendChild(el("p", { cls: "note", text: "Change is against the previous period of the same length" +
      (previous ? " (" + previous + ")" : "") + ". Per-call costs are shown per 1,000 calls (and downloaded so, as cost_per_1k_calls); tokens and cost count LLM calls only." }));
    parent.appendChild(s);
  }
  function renderBudgets(parent, budgets) {
    var rows = budgets.rows || [];
    var s = section("budgets", "Budgets" + (budgets.month ? " — " + budgets.month + (budgets.as_of ? " as of " + budgets.as_of : "") : ""),
                    rows.length ? exportOf([{ key: "monthly_usd" }, { key: "spent" }, { key: "remaining_usd" },
                                            { key: "percent_used" }, { key: "status" },
                                            { key: "projected_month_end" }, { key: "runs_out_on" },
                                            { key: "unpriced_calls" }], rows, "budget") : null);
    if (!rows.length) {
      s.appendChild(el("p", { cls: "empty", text: "No budget set: add --monthly 50 or --budgets budgets.yaml (ok below 70 %, warning 70–90 %, critical from 90 %)." }));
    }
    rows.forEach(function (b) {
      var symbol = { ok: "✓ ok", warning: "! warning", critical: "✕ critical", unknown: "? unknown" }[b.status];
      // a spend of calls none of which has a cost (no price known, or only metric points record them) is not $0
      var unknown = b.status === "unknown";
      // some days' calls only in metric points: the spend of the others is a lower bound, the projection unknown
      var atLeast = b.cost_unknown && b.calls > 0;
      var used = b.percent_used.toFixed(1);  // past 100 % the meter's range grows to hold it (valuenow ≤ valuemax)
      var bar = el("div", { cls: "bar", role: "meter", "aria-label": b.budget + " budget used", "aria-valuenow": used,
                            "aria-valuetext": unknown ? "spend unknown" : used + "% used", "aria-valuemin": "0",
                            "aria-valuemax": b.percent_used > 100 ? used : "100" },
                   [el("div", { cls: "fill", style: "width:" + Math.min(100, b.percent_used).toFixed(2) + "%" }),
                    el("div", { cls: "tick", style: "left:70%" }), el("div", { cls: "tick", style: "left:90%" })]);
      var row = el("div", { cls: "budget status-" + b.status, "data-budget": b.budget, "data-status": b.status }, [
        el("div", { cls: "name" }, [b.budget + " ", el("span", { cls: "badge " + b.status, text: symbol })]),
        bar,
        el("div", { cls: "detail", text: (atLeast ? "at least " + usd(b.spent) + " of " + usd(b.monthly_usd) + " (" +
          b.percent_used.toFixed(1) + "% used or more)" :
          unknown ? "spend unknown of " + usd(b.monthly_usd) + (b.cost_unknown ? "" :
          ": none of the month's " + group(b.calls, 0) + " LLM call" + (b.calls === 1 ? "" : "s") + " has a cost") :
          usd(b.spent) + " of " + usd(b.monthly_usd) + " (" + b.percent_used.toFixed(1) +
          "% used) · " + (b.remaining_usd < 0 ? usd(-b.remaining_usd) + " over" : usd(b.remaining_usd) + " left") +
          " · projected month-end " + usd(b.projected_month_end) + " · " +
          (b.runs_out_on ? "runs out on " + b.runs_out_on : "does not run out this month")) +
          (b.unpriced_calls ? " · " + group(b.unpriced_calls, 0) + " unpriced LLM call" + (b.unpriced_calls === 1 ? "" : "s") +
           " not in the spend (no price known for their model)" : "") +
          (b.cost_unknown ? " · " + b.cost_unknown : "") })]);
      s.appendChild(row);
    });
    parent.appendChild(s);
  }
  function renderTable(parent, name, data) {
    var view = VIEWS[name];
    var rows = data.rows;
    // a view judged at a moment (what was running) names it: a report opened later says then, never now
    var s = section(name, view.title + (data.as_of ? " as of " + when(data.as_of) + " UTC" : ""),
                    exportOf(view.columns, rows, view.key.key));
    if (data.as_of && !LIVE) {
      s.appendChild(el("p", { cls: "note said", text: "This report was generated " + when(META.generated) +
        " UTC: these states are those of " + when(data.as_of) + " UTC, not now." }));
    }
    (data.notes || []).forEach(function (said) { s.appendChild(el("p", { cls: "note said", text: said })); });
    s.appendChild(table(view.key.label, view.columns, rows, { key: view.key.key, keyFormat: view.key.format,
                                                             label: view.title, drill: DRILL[name] }));
    parent.appendChild(s);
    return s;
  }
  // Log patterns and the newest records; on the dashboard, searched by words and severity and narrowed by
  // service, logger or trace as `otel-llm logs` is (the report holds the unsearched ERROR ones: its note says
  // where to search them).
  var LOG_RECORDS = { key: { key: "time", label: "Time", format: "time" }, columns: [
    { key: "severity_text", label: "Severity" }, { key: "service_name", label: "Service" },
    { key: "body", label: "Message", format: "text" }, { key: "trace_id", label: "Trace" }] };
  var SEVERITIES = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
  var logSources = { text: "", severity: "", service: "", logger: "", trace_id: "" }, logLoading = 0;
  function renderLogs(parent, data) {
    var block = el("div", { cls: "logs" });
    var s = renderTable(block, "logs", data);
    var records = data.records || [], total = data.records_total === undefined ? records.length : data.records_total;
    var patterns = data.patterns_total === undefined ? data.rows.length : data.patterns_total;
    if (patterns > data.rows.length) {  // the commonest listed: the count of the others, never a silent cut
      s.appendChild(el("p", { cls: "note said", text: "The " + group(data.rows.length, 0) + " commonest of " +
        group(patterns, 0) + " patterns; " + group(patterns - data.rows.length, 0) + " rarer not listed." }));
    }
    var title = (total > records.length ? "Newest " + group(records.length, 0) + " of " + group(total, 0) + " " : "Newest ") +
      (data.severity || "ERROR") + "+ log records" + (logSources.text ? " holding “" + logSources.text + "”" : "");
    var list = section("log-records", title, exportOf(LOG_RECORDS.columns, records, "time"));
    if (total > records.length) {
      list.appendChild(el("p", { cls: "note said", text: group(total - records.length, 0) + " older record" +
        (total - records.length === 1 ? "" : "s") + " of this range not listed" + (LIVE ? ": search or narrow them above." :
        ": otel-llm logs --search, or the dashboard (otel-llm serve), lists them.") }));
    }
    list.appendChild(table(LOG_RECORDS.key.label, LOG_RECORDS.columns, records, { key: "time", keyFormat: "time", label: title }));
    block.appendChild(list);
    parent.appendChild(block);
    if (!LIVE) return;
    var form = el("div", { cls: "filters log-sources" });
    var fields = [["text", "Search words"], ["service", "Service"], ["logger", "Logger"], ["trace_id", "Trace id"]];
    fields.forEach(function (f) {
      var input = el("input", { type: "search", id: "log-" + f[0], value: logSources[f[0]], "aria-label": f[0] === "text" ?
                                "Search the log messages" : "Logs of " + f[1] });
      input.addEventListener("change", function () { logSources[f[0]] = input.value.trim(); reloadLogs(block); });
      form.appendChild(el("label", {}, [f[1] + " ", input]));
    });
    var level = el("select", { id: "log-severity", "aria-label": "Lowest log severity" });
    SEVERITIES.forEach(function (v) { level.appendChild(el("option", { value: v, text: v + " and above" })); });
    level.value = logSources.severity || data.severity || "ERROR";
    level.addEventListener("change", function () { logSources.severity = level.value; reloadLogs(block); });
    form.insertBefore(el("label", {}, ["Severity ", level]), form.children[1]);
    s.insertBefore(form, s.querySelector(".table-wrap"));
  }
  // The logs' own request, not a new load of the page: a load of new filters under way goes on (and asks for
  // the logs searched so); this answer is dropped when such a load began after it was asked.
  function reloadLogs(block) {
    var page = loading, mine = ++logLoading, alone = complete;
    if (alone) busy(true);
    fetch("api/logs?" + viewQuery("logs")).then(function (r) {
      return r.json().then(function (body) { if (!r.ok) throw new Error(body.detail || r.statusText); return body; });
    }).then(function (body) {
      if (page !== loading || mine !== logLoading) return;
      shown.logs = body;
      var holder = el("div");
      renderLogs(holder, body);
      block.replaceWith(holder.firstChild);
      if (alone) busy(false);
      window.otelLlmRenders = (window.otelLlmRenders || 0) + 1;
    }).catch(function (err) {
      if (page !== loading || mine !== logLoading) return;
      block.appendChild(el("p", { cls: "empty", text: "Could not load: " + err.message }));
      if (alone) busy(false);
    });
  }
  function renderCompare(parent, data) {
    var view = VIEWS.compare;
    var s = section("compare", view.title, function () {
      var rows = [];
      data.groups.forEach(function (g) { g.rows.forEach(function (r) { rows.push(Object.assign({ by: g.by }, r)); }); });
      return exported(view.columns, rows, ["by", "key"]);
    });
    if (!data.groups.length) s.appendChild(el("p", { cls: "empty", text: "Nothing to compare: every grouping has a single group in this range." }));
    data.groups.forEach(function (g) {
      var title = g.by === "model" ? "Model vs model" : g.by.replace("run_config.", "Run config: ") + " vs each other";
      s.appendChild(el("h3", { text: title }));
      (g.notes || []).forEach(function (said) { s.appendChild(el("p", { cls: "note said", text: said })); });
      s.appendChild(table(g.by, view.columns, g.rows, { label: title }));
    });
    parent.appendChild(s);
  }
  function spanLine(node) {
    var bits = [ms(node.duration_ms)];
    if (node.model) bits.push(node.model);
    var tokens = (node.input_tokens || 0) + (node.output_tokens || 0);
    if (tokens) bits.push(group(tokens, 0) + " tok");
    if (node.cost_usd !== null && node.cost_usd !== undefined) bits.push(usd(node.cost_usd));
    var failed = node.status_code === 2;
    var line = el("div", { cls: "span" + (failed ? " error" : ""), "data-status": failed ? "error" : "ok" }, [
      el("span", { cls: "n", style: "padding-left:" + (node.depth - 1) * 16 + "px",
                   text: (failed ? "✕ " : "") + node.name + (failed ? " (error)" : "") }),
      el("span", { cls: "m", text: bits.join(" · ") })]);
    return line;
  }
  // One trace's span lines. A long tree holds its first spans only (views.TREE_MAX, in pre-order): say how many
  // the trace has and where the whole tree is.
  function spanTree(data, traceId) {
    var tree = data.trees ? data.trees[traceId] || [] : (DATA.trees[traceId] || []).map(function (values) {
      var node = {};
      DATA.tree_fields.forEach(function (f, i) { node[f] = values[i]; });
      return node;
    });
    var box = el("div", {}, tree.map(spanLine));
    var total = (data.tree_spans || {})[traceId];
    if (total) moreSpans(box, traceId, tree.length, total, tree.length);
    return box;
  }
  // Under a cut tree: how many spans it shows of how many, and on the dashboard a button asking the server
  // for the next ``step`` of them (api/traces/<id> answers a page at a time, never the whole tree at once).
  function moreSpans(box, traceId, shownSpans, total, step) {
    var left = total - shownSpans;
    var note = el("p", { cls: "note tree-more", role: "status", text: "Showing the first " + group(shownSpans, 0) +
      " of its " + group(total, 0) + " spans (" + group(left, 0) + " not shown); the whole tree: " +
      (LIVE ? "the button below, api/traces/" + traceId + "?offset=" + shownSpans + " or " : "") +
      "otel-llm traces --tree with the same filters." });
    box.appendChild(note);
    if (!LIVE || left <= 0) return;
    var button = el("button", { type: "button", cls: "more", text: "Show the next " + group(Math.min(step, left), 0) + " spans" });
    button.onclick = function () {
      button.disabled = true;
      fetch("api/traces/" + traceId + "?offset=" + shownSpans + "&limit=" + step).then(function (r) {
        return r.json().then(function (body) { if (!r.ok) throw new Error(body.detail || r.statusText); return body; });
      }).then(function (page) {
        note.remove();
        button.remove();
        page.spans.forEach(function (node) { box.appendChild(spanLine(node)); });
        moreSpans(box, traceId, shownSpans + page.spans.length, page.total_spans, step);
      }).catch(function (err) {
        button.disabled = false;
        note.textContent += " Could not load more: " + err.message;
      });
    };
    box.appendChild(button);
  }
  function renderTraces(parent, data) {
    var view = VIEWS.traces;
    ["cost", "duration"].forEach(function (by) {
      var rows = data[by];
      var title = by === "cost" ? "Most expensive traces" : "Slowest traces";
      var s = section("traces-" + by, title, exportOf(view.columns, rows, view.key.key));
      s.appendChild(el("p", { cls: "note", text: "Click ▸ to open a trace's span tree; failed spans are marked ✕." }));
      s.appendChild(table(view.key.label, view.columns, rows, { key: view.key.key, label: title, after: function (tr, r, body, width) {
        var button = el("button", { cls: "toggle", type: "button", "aria-expanded": "false", text: "▸", title: "show the span tree",
                                    "aria-label": "Span tree of trace " + r.trace_id });
        tr.firstChild.insertBefore(button, tr.firstChild.firstChild);
        tr.firstChild.lastChild.textContent = String(r.trace_id).slice(0, 16) + "…";
        tr.firstChild.title = r.trace_id;
        var detail = el("tr", { cls: "tree", hidden: "" }, [el("td", { colspan: width })]);
        body.appendChild(detail);
        button.onclick = function () {
          if (!detail.firstChild.firstChild) detail.firstChild.appendChild(spanTree(data, r.trace_id));  // drawn when opened
          var open = detail.hasAttribute("hidden");
          if (open) detail.removeAttribute("hidden"); else detail.setAttribute("hidden", "");
          button.textContent = open ? "▾" : "▸";
          button.setAttribute("aria-expanded", String(open));
        };
      } }));
      parent.appendChild(s);
    });
  }

  // Draws the views; with ``partial``, those of FIRST only, saying the rest is on its way.
  function render(views, partial) {
    var app = document.getElementById("app");
    app.textContent = "";
    shown = views || {};
    if (!views) {
      app.appendChild(el("p", { cls: "empty", text: "No data for this combination of filters." }));
      window.otelLlmRenders = (window.otelLlmRenders || 0) + 1;
      return;
    }
    renderKpis(app, views.summary);
    renderBudgets(app, views.budgets);
    if (partial) {
      app.appendChild(el("p", { cls: "empty", id: "loading-rest", role: "status", text: "Loading the charts and tables…" }));
      window.otelLlmFirstPaints = (window.otelLlmFirstPaints || 0) + 1;
      return;
    }
    var t = section("trends", "Trends", exportOf(VIEWS.trends.columns, views.trends.points, VIEWS.trends.key.key));
    renderTrends(t, views.trends, views.budgets);
    app.appendChild(t);
    ["projects", "models", "operations", "nodes", "collections", "evaluations"].forEach(function (name) {
      renderTable(app, name, views[name]);
    });
    renderCompare(app, views.compare);
    renderTraces(app, views.traces);
    renderLogs(app, views.logs);
    for (var name in views) {  // views added to the registry later render as plain tables
      if (!document.getElementById("view-" + name) && views[name] && views[name].rows && VIEWS[name]) renderTable(app, name, views[name]);
    }
    var w = views.summary.window;
    document.getElementById("subtitle").textContent = visible((w ? "Data " + between(w[0], w[1]) + " UTC · " : "") +
      (META.source ? META.source + " · " : "") + (LIVE ? "live" : "generated " + when(META.generated) + " UTC"));
    window.otelLlmRenders = (window.otelLlmRenders || 0) + 1;  // lets tests wait for a re-render
  }

  // --- filters ------------------------------------------------------------------
  function fillSelect(id, values, labels, first) {
    var select = document.getElementById(id);
    var current = select.value;
    select.textContent = "";
    if (first) select.appendChild(el("option", { value: "", text: first }));
    values.forEach(function (v, i) { select.appendChild(el("option", { value: v, text: labels ? labels[i] : v })); });
    if (values.indexOf(current) >= 0 || current === "") select.value = current;
  }
  var CUSTOM = "custom";
  function fillChoices() {
    var keys = choices.ranges.map(function (r) { return r.key; }), labels = choices.ranges.map(function (r) { return r.label; });
    if (LIVE) { keys.push(CUSTOM); labels.push("the dates typed in"); }
    fillSelect("f-range", keys, labels);
    fillSelect("f-project", choices.projects, null, "all projects");
    fillSelect("f-model", choices.models, null, "all models");
    var note = [];
    if (META.unfinished) note.push("Incomplete: " + META.unfinished + ".");
    if (META.span_coverage) note.push("Part of the calls: " + META.span_coverage + ".");
    (choices.unnamed || []).forEach(function (what) {  // "" is the value of "all projects" / "all models"
      note.push("A " + what + ' named "" (empty) cannot be picked: its calls are counted in "all ' + what + 's".');
    });
    if (!LIVE && !META.combined && choices.projects.length && choices.models.length) note.push("Pick a project or a model (this report holds each alone, not combined: narrow it with otel-llm report --project).");
    var omitted = META.omitted ? META.omitted.projects.concat(META.omitted.models, META.omitted.ranges || []) : [];
    if (!LIVE && omitted.length) note.push("Not selectable here (the report would grow too large): " + omitted.join(", ") + ".");
    var f = META.filters || {};
    if (f.project || f.model) note.push("Report limited to " + [f.project && "project " + f.project, f.model && "model " + f.model].filter(Boolean).join(", ") + ".");
    if (addressNote) note.push(addressNote);
    document.getElementById("filter-note").textContent = visible(note.join(" "));
  }
  // While the views of new filters load (seconds on a big store), the figures shown are the previous filters':
  // the page says so (busy, dimmed, "updating") until the new ones are drawn or fail.
  function busy(on) {
    document.getElementById("app").setAttribute("aria-busy", String(on));
    document.getElementById("busy").textContent = on ? "updating the figures for the filters chosen…" : "";
  }
  // Whether every view of the filters chosen is drawn (``complete``) or their load failed (``failure``): the
  // page's export waits for one of the two, so it never holds the views of a half-loaded page or another
  // filter's. ``settled`` are the callbacks waiting for it.
  var complete = false, failure = null, settled = [];
  function settle() {
    var waiting = settled;
    settled = [];
    waiting.forEach(function (then) { then(); });
  }
  function whenSettled(then) {
    if (complete || failure) then(); else settled.push(function () { whenSettled(then); });
  }
  function refresh() {
    var ticket = ++loading;
    complete = false;
    failure = null;
    busy(true);
    var all = Object.keys(VIEWS), first = LIVE ? FIRST.filter(function (n) { return all.indexOf(n) >= 0; }) : [];
    var rest = LIVE ? all.filter(function (n) { return first.indexOf(n) < 0; }) : all;
    var drawn = first.length ? getViews(first).then(function (got) { return oneVersion(got, ticket); }).then(function (got) {
      if (got === null) return null;
      render(got.views, true);  // the figures shown now are the new filters': not dimmed, the rest said loading
      document.getElementById("app").setAttribute("aria-busy", "false");
      return got;
    }) : Promise.resolve({ views: {}, versions: {} });
    return drawn.then(function (firstGot) {  // the rest asked for once the first came: it answers them next
      if (firstGot === null) return null;
      return getViews(rest).then(function (got) {
        if (got.views === null) return got;
        Object.assign(got.views, firstGot.views);
        Object.assign(got.versions, firstGot.versions);
        return oneVersion(got, ticket);
      }).then(function (got) {
        if (got === null || ticket !== loading) return;
        render(got.views);
        busy(false);
        complete = true;
        settle();
      });
    }).catch(function (err) {
      if (ticket !== loading) return;
      document.getElementById("app").textContent = "";
      document.getElementById("app").appendChild(el("p", { cls: "empty", text: "Could not load: " + err.message }));
      busy(false);
      failure = err.message;
      settle();
    });
  }
  function onFilter(event) {
    var target = event && event.target.id;
    if (LIVE && target === "f-range") {  // a preset replaces any dates typed in
      document.getElementById("f-since").value = document.getElementById("f-until").value = "";
    } else if (LIVE && (target === "f-since" || target === "f-until")) {
      document.getElementById("f-range").value = CUSTOM;
    }
    filters.range = document.getElementById("f-range").value;
    filters.project = document.getElementById("f-project").value;
    filters.model = document.getElementById("f-model").value;
    if (LIVE) {
      filters.since = document.getElementById("f-since").value;
      filters.until = document.getElementById("f-until").value;
    } else if (!META.combined && filters.project && filters.model) {
      if (target === "f-project") document.getElementById("f-model").value = filters.model = "";
      else document.getElementById("f-project").value = filters.project = "";
    }
    if (event) {  // a choice made on the page: a step the back button returns from
      var address = addressOf();
      if (address !== location.hash.slice(1)) history.pushState(null, "", "#" + address);
      if (addressNote) { addressNote = ""; fillChoices(); }
    }
    refresh();
  }
  // The filters chosen live in the address (#range=7d&project=...): a link or a reload opens the same figures,
  // and the browser's back and forward buttons step through the filters chosen. A link's value the page does
  // not offer is said (above the figures), and that filter left at "all".
  var ADDRESS = [["range", "f-range"], ["project", "f-project"], ["model", "f-model"]];
  var addressNote = "";
  function addressOf() {
    var p = new URLSearchParams();
    ["range", "project", "model", "since", "until"].forEach(function (k) { if (filters[k]) p.set(k, filters[k]); });
    return p.toString();
  }
  function fromAddress() {
    var p = new URLSearchParams(location.hash.slice(1)), missing = [];
    ADDRESS.forEach(function (pair) {
      var select = document.getElementById(pair[1]), value = p.get(pair[0]) || "";
      var offered = Array.prototype.some.call(select.options, function (o) { return o.value === value; });
      select.value = offered ? value : "";
      if (!offered) missing.push(pair[0] + " " + JSON.stringify(value));
    });
    if (LIVE) {
      document.getElementById("f-since").value = p.get("since") || "";
      document.getElementById("f-until").value = p.get("until") || "";
    }
    addressNote = missing.length ? "Not offered here: the link's " + missing.join(", ") + "; showing all instead." : "";
    fillChoices();
    onFilter(null);
  }
  window.addEventListener("popstate", fromAddress);
  ["f-range", "f-project", "f-model", "f-since", "f-until"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", onFilter);
  });
  // The whole page's download holds what the page shows, as each section's download does: a per-call cost per
  // 1,000 calls, named cost_per_1k_calls, in the cards and in every table.
  function asShown(value, perCall) {
    if (Array.isArray(value)) return value.map(function (v) { return asShown(v, perCall); });
    if (!value || typeof value !== "object") return value;
    var out = {};
    for (var k in value) out[k] = asShown(value[k], perCall);
    if (out.format === "usd_1k" && "label" in out) {  // a KPI card
      out.key = exportName(out);
      out.value = exportValue(out.value, out.format);
      out.previous = exportValue(out.previous, out.format);
    }
    perCall.forEach(function (c) {
      if (c.key in out) { out[exportName(c)] = exportValue(out[c.key], c.format); delete out[c.key]; }
    });
    return out;
  }
  function exportShown() {
    var views = {};
    for (var name in shown) {
      var perCall = ((VIEWS[name] || {}).columns || []).filter(function (c) { return c.format === "usd_1k"; });
      views[name] = asShown(shown[name], name === "summary" ? [] : perCall);
    }
    download(slug() + ".json", "application/json", JSON.stringify({ filters: filters, views: views }, null, 2));
  }
  // Clicked while the views load (seconds on a big store), the export waits for all of them and says so;
  // when they fail to load it says that, rather than download part of the page.
  var exportButton = document.getElementById("export-json"), exportNote = document.getElementById("export-note");
  exportButton.addEventListener("click", function () {
    if (exportButton.disabled) return;
    if (!complete && !failure) {
      exportButton.disabled = true;
      exportNote.textContent = "the export waits until every view of the filters chosen has loaded…";
    }
    whenSettled(function () {
      exportButton.disabled = false;
      exportNote.textContent = failure ? "Export not made: the figures did not load (" + failure + ")." : "";
      if (!failure) exportShown();
    });
  });

  // What /api/status counts: the stored spans within the command line's filters, whatever the page picks
  // (the Spans card counts the page's choice), so the status line names that scope.
  function storeScope() {
    var f = META.filters || {}, limits = [];
    if (f.project !== null && f.project !== undefined) limits.push("project " + f.project);
    if (f.model !== null && f.model !== undefined) limits.push("model " + f.model);
    if (f.since) limits.push("from " + when(f.since));
    if (f.until) limits.push("before " + when(f.until));
    return limits.length ? limits.join(", ") : "all projects and models, every date";
  }
  // While the watcher ingests, the server answers with the data before the ingest, whole (never half of it):
  // the page says an ingest runs and that the figures are from before it, until the version after it shows -
  // once it has run a second (``ingesting_for``): a round finding nothing new every interval is not news.
  var NOTE_AFTER_S = 1;
  function ingestNote(since) {
    var note = document.getElementById("ingest-note");
    note.textContent = since ? "Ingesting… (since " + when(since) + " UTC): the figures are those of the data " +
      "before it, whole; they update when it ends." : "";
    if (since) note.removeAttribute("hidden"); else note.setAttribute("hidden", "");
  }
  // The store file deleted or rebuilt under the server: its figures are of the file it opened, said as such.
  function storeNote(said) {
    var note = document.getElementById("store-note");
    note.textContent = said ? visible(said) : "";
    if (said) note.removeAttribute("hidden"); else note.setAttribute("hidden", "");
  }
  function poll() {
    fetch("api/status").then(function (r) { return r.json(); }).then(function (status) {
      var said = document.getElementById("live-status"), recent = status.recent_problems || [];
      said.textContent = visible("live · " + group(status.spans, 0) + " spans in the store (" + storeScope() + ") · checked " +
        new Date().toISOString().slice(11, 19) + " UTC" +
        (status.ingesting ? " · ingesting since " + when(status.ingesting) + " UTC" : "") +
        (status.last_error ? " · watching failed: " + status.last_error : "") +
        (status.problems ? " · " + group(status.problems, 0) + " line" + (status.problems === 1 ? "" : "s") +
         " not loaded, the latest: " + recent[recent.length - 1] : ""));
      ingestNote(status.ingesting_for >= NOTE_AFTER_S ? status.ingesting : null);
      storeNote(status.store_file);
      if (recent.length) said.title = "not loaded (file:line: reason):\n" + recent.map(visible).join("\n");
      if ((status.unfinished || null) !== (META.unfinished || null) ||  // an ingest left rows, or finished them
          (status.span_coverage || null) !== (META.span_coverage || null)) {  // or read the spans metrics counted
        META.unfinished = status.unfinished || null;
        META.span_coverage = status.span_coverage || null;
        fillChoices();
      }
      if (version !== null && status.version !== version) {
        fetch("api/choices").then(function (r) { return r.json(); }).then(function (c) { choices = c; fillChoices(); refresh(); });
      }
      version = status.version;
    }).catch(function () {
      document.getElementById("live-status").textContent = "live · server not answering";
    }).then(function () { setTimeout(poll, META.refresh_ms || 2000); });
  }

  if (LIVE) document.body.classList.add("live");
  document.getElementById("footer").textContent = "otel-llm · colours: Okabe–Ito colour-blind-safe palette; " +
    "budget status is also written out (✓ ok < 70 % ≤ ! warning < 90 % ≤ ✕ critical).";
  fillChoices();
  if (location.hash.length > 1) fromAddress(); else refresh();
  if (LIVE) poll();
})();
