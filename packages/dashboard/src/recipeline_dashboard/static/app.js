// recipeline pipeline dashboard: renders dashboard.json into the page named by <body data-page>.
// Every value from the data goes into the DOM through textContent or attributes built with
// URLSearchParams: this file never assigns innerHTML, so a hostile package name stays text.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const PAGE_ROWS = 500;
  const COLORS = ["#3b5bdb", "#1f7a3d", "#d9480f", "#ae3ec9", "#0c8599", "#e67700", "#c2255c", "#5c940d", "#495057"];

  // --- DOM helpers ---------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function link(page, params, text) {
    const query = new URLSearchParams(params || {}).toString();
    return el("a", { href: page + (query ? "?" + query : "") }, text);
  }

  const packageLink = (id, text) => link("package.html", { id: id }, text === undefined ? id : text);
  // a run by its unique key (batch ids collide in tsuku's data); text when no run is known
  const runLink = (key, text) => (key ? link("run.html", { id: key }, text === undefined ? key : text) : el("span", { class: "muted" }, text === undefined ? "—" : text));
  const failureRunLink = (f) => (f.run ? runLink(f.run, f.run === f.batch_id ? f.batch_id : f.run) : el("span", { class: "muted", title: "no recorded run matches this batch" }, f.batch_id));
  // one failure record: its page (whole cause, links) by the deduplication key
  const failureLink = (f, text) => link("failure.html", { package: f.package, batch: f.batch_id, category: f.category, subcategory: f.subcategory || "" }, text);
  const pill = (text, kind) => el("span", { class: "pill " + (kind || text) }, text);
  const card = (title, ...body) => el("section", { class: "card" }, title ? el("h2", {}, title) : null, ...body);
  const num = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US"));
  const pct = (rate) => (rate === null || rate === undefined ? "—" : (100 * rate).toFixed(0) + "%");
  const when = (t) => (t ? t.replace("T", " ").replace("Z", " UTC") : "—");

  // cls "cards": on a narrow screen each row becomes a card with its cells labelled by their header
  function table(headers, rows, numeric, cls) {
    const numCols = new Set(numeric || []);
    return el("div", { class: "scroll" }, el(
      "table",
      { class: cls || null },
      el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { class: numCols.has(i) ? "num" : null }, h)))),
      el(
        "tbody",
        {},
        rows.map((cells) => el("tr", {}, cells.map((c, i) => el("td", { class: numCols.has(i) ? "num" : c && c.cls ? c.cls : null, "data-label": headers[i] }, c && c.cls ? c.node : c))))
      )
    ));
  }
  const msgCell = (text) => ({ cls: "msg", node: text });
  // the version validation installed, and the registry's newest when they differ
  const versionCell = (p) => (p.latest && p.latest !== p.installed ? el("span", { class: "skew", title: "the registry's newest is " + p.latest }, (p.installed || "?") + " (latest " + p.latest + ")") : p.installed || "—");

  // tsuku's overflowed backoff wrote retry times in 1734: not a date to show as one
  function retryText(p) {
    if (!p.next_retry_at) return "—";
    if (p.next_retry_invalid) return el("span", { class: "skew", title: "an overflowed backoff, not a time: the entry is retried every run" }, "invalid (" + p.next_retry_at.slice(0, 10) + ", overflowed backoff)");
    return when(p.next_retry_at);
  }
  const aliasNote = (p) => (p.aliases && p.aliases.length ? [" ", el("span", { class: "pill alias", title: "the queue lists the same source under several names" }, "alias of " + p.aliases.join(", "))] : null);

  function ago(hours) {
    if (hours === null || hours === undefined) return "never";
    if (hours < 48) return hours.toFixed(1) + " h ago";
    return (hours / 24).toFixed(1) + " days ago";
  }

  function params() {
    return new URLSearchParams(window.location.search);
  }

  // --- data helpers --------------------------------------------------------------------

  // package rows leave out fields at their default: fill them in once
  function allPackages(d) {
    if (!d._packages) {
      d._packages = Object.values(d.queue.packages).flat().map((p) => ({
        confidence: "auto", next_retry_at: null, last_attempt_at: null, batch_id: null,
        reason: "", blocked_by: [], last_failures: [], aliases: [], next_retry_invalid: false, ...p,
      }));
    }
    return d._packages;
  }

  function categoryLabel(f) {
    return f.subcategory ? f.category + " / " + f.subcategory : f.category;
  }

  // --- charts --------------------------------------------------------------------------

  // every chart also says its values in text (no hovering needed): a summary line and a table
  function valuesTable(headers, rows, numeric) {
    return el("details", { class: "values" }, el("summary", {}, "Values (" + rows.length + " days)"), table(headers, rows, numeric));
  }

  function barChart(points, valueKey, labelKey) {
    const w = 640, h = 180, pad = 28, n = Math.max(points.length, 1);
    const max = Math.max(1, ...points.map((p) => p[valueKey]));
    const chart = svg("svg", { viewBox: `0 0 ${w} ${h + pad}`, class: "chart", role: "img", "aria-label": "Recipes merged per day" });
    chart.append(svg("title", {}, "Recipes merged per day"));
    chart.append(svg("line", { x1: pad, y1: h, x2: w, y2: h, class: "axis" }));
    chart.append(svg("text", { x: 2, y: 12 }, max));
    chart.append(svg("text", { x: 2, y: h }, 0));
    const bw = (w - pad) / n;
    points.forEach((p, i) => {
      const bh = (p[valueKey] / max) * (h - 16);
      const bar = svg("rect", { x: pad + i * bw + 1, y: h - bh, width: Math.max(bw - 2, 1), height: bh, class: "bar-value" });
      bar.append(svg("title", {}, `${p[labelKey]}: ${p[valueKey]} merged of ${p.total} in ${p.runs} run(s)`));
      chart.append(bar);
      // the value written on its bar when bars are wide enough to carry it
      if (p[valueKey] > 0 && bw >= 18) chart.append(svg("text", { x: pad + i * bw + bw / 2, y: h - bh - 3, "text-anchor": "middle", class: "value" }, p[valueKey]));
    });
    if (points.length) {
      chart.append(svg("text", { x: pad, y: h + 18 }, points[0][labelKey]));
      chart.append(svg("text", { x: w, y: h + 18, "text-anchor": "end" }, points[points.length - 1][labelKey]));
    }
    const total = points.reduce((a, p) => a + p[valueKey], 0);
    const peak = points.reduce((a, p) => (p[valueKey] > (a ? a[valueKey] : -1) ? p : a), null);
    const last = points[points.length - 1];
    const summary = points.length
      ? `${num(total)} merged over ${points.length} day(s) with runs; most on ${peak[labelKey]} (${num(peak[valueKey])}); last ${last[labelKey]}: ${num(last[valueKey])} of ${num(last.total)} in ${num(last.runs)} run(s)`
      : "No runs recorded.";
    return el("div", { id: "merged-chart" }, chart, el("p", { class: "chart-summary" }, summary),
      points.length ? valuesTable(["day", "merged", "packages", "runs"], points.slice().reverse().map((p) => [p[labelKey], num(p[valueKey]), num(p.total), num(p.runs)]), [1, 2, 3]) : null);
  }

  function lineChart(series) {
    const w = 640, h = 180, pad = 34;
    const dates = [...new Set(Object.values(series).flat().map((p) => p.date))].sort();
    const x = (date) => pad + (dates.length > 1 ? (dates.indexOf(date) / (dates.length - 1)) * (w - pad - 8) : (w - pad) / 2);
    const y = (rate) => h - Math.min(rate, 1) * (h - 12);
    const chart = svg("svg", { viewBox: `0 0 ${w} ${h + 28}`, class: "chart", role: "img", "aria-label": "Success rate per ecosystem" });
    chart.append(svg("title", {}, "Success rate per ecosystem"));
    for (const r of [0, 0.5, 1]) {
      chart.append(svg("line", { x1: pad, y1: y(r), x2: w, y2: y(r), class: "grid-line" }));
      chart.append(svg("text", { x: 0, y: y(r) + 4 }, (r * 100).toFixed(0) + "%"));
    }
    const legend = el("div", { class: "legend" });
    Object.entries(series).forEach(([eco, points], i) => {
      const color = COLORS[i % COLORS.length];
      // a day without packages has no rate (null): the line breaks there, it does not drop to 0%
      let path = "", pen = "M";
      for (const p of points) {
        if (p.rate === null) { pen = "M"; continue; }
        path += pen + x(p.date).toFixed(1) + " " + y(p.rate).toFixed(1) + " ";
        pen = "L";
      }
      if (path) chart.append(svg("path", { d: path.trim(), fill: "none", stroke: color, "stroke-width": 2 }));
      for (const p of points) {
        if (p.rate === null) continue;
        const dot = svg("circle", { cx: x(p.date), cy: y(p.rate), r: 3, fill: color });
        dot.append(svg("title", {}, `${eco} ${p.date}: ${p.merged}/${p.total} (${pct(p.rate)})`));
        chart.append(dot);
      }
      const swatch = el("i", {});
      swatch.style.background = color;
      const rated = points.filter((p) => p.rate !== null);
      const lastRated = rated[rated.length - 1];
      legend.append(el("span", {}, swatch, eco + (lastRated ? ` ${pct(lastRated.rate)} on ${lastRated.date}` : " (no packages yet)")));
    });
    if (dates.length) {
      chart.append(svg("text", { x: pad, y: h + 18 }, dates[0]));
      chart.append(svg("text", { x: w, y: h + 18, "text-anchor": "end" }, dates[dates.length - 1]));
    }
    const rows = [];
    for (const [eco, points] of Object.entries(series)) for (const p of points) if (p.rate !== null) rows.push([p.date, eco, num(p.merged) + " / " + num(p.total), pct(p.rate)]);
    rows.sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : a[1] < b[1] ? -1 : 1));
    return el("div", { id: "rate-chart" }, chart, legend, el("p", { class: "chart-summary" }, "Days whose runs had no package are left out (no rate), not drawn as 0%."),
      rows.length ? valuesTable(["day", "ecosystem", "merged / packages", "rate"], rows, [2, 3]) : null);
  }

  // --- pages ---------------------------------------------------------------------------

  // one line per reason (health.alerts, worst first): red when any says the pipeline does not run
  function healthBanner(hl) {
    const alerts = hl.alerts || [];
    if (!alerts.length) return el("div", { class: "banner ok", id: "health-banner", role: "status" }, "Healthy: runs on schedule, breakers closed, recipes merging, budget fine.");
    const bad = alerts.some((a) => a.level === "bad");
    return el("div", { class: "banner " + (bad ? "bad" : "warn"), id: "health-banner", role: "alert" },
      el("ul", {}, alerts.map((a) => el("li", { class: a.level, "data-code": a.code }, a.message))));
  }

  function pageIndex(d) {
    const hl = d.health, main = [];
    main.push(el("h1", {}, "Pipeline health"));
    main.push(healthBanner(hl));
    const merged = hl.last_successful_batch;
    const staleClass = hl.stale ? "banner warn" : "";
    main.push(
      el(
        "div",
        { class: "grid" },
        card("Since a recipe merged", el("div", { class: "big " + (hl.stale ? "" : ""), id: "hours-since-merge" }, ago(hl.hours_since_recipe_merged)),
          hl.stale ? el("div", { class: staleClass }, "Over " + hl.stale_after_hours + " h: the pipeline is not producing recipes") : el("div", { class: "muted" }, "within " + hl.stale_after_hours + " h")),
        card("Last successful batch", merged ? el("div", {}, el("div", { class: "big" }, num(merged.recipes_merged) + (merged.recipes_merged === 1 ? " recipe" : " recipes")), el("div", {}, runLink(merged.key, merged.batch_id), " · ", merged.ecosystem, " · ", when(merged.timestamp)), el("div", { class: "muted" }, hl.runs_since_last_success + " run(s) since")) : el("div", { class: "muted" }, "none recorded")),
        card("Last run", el("div", { class: "big" + (hl.not_running ? " bad-text" : ""), id: "since-last-run" }, ago(hl.hours_since_last_run)),
          hl.last_run ? el("div", {}, runLink(hl.last_run.key, hl.last_run.batch_id), " · ", hl.last_run.ecosystem, " · ", num(hl.last_run.merged) + " merged of " + num(hl.last_run.total)) : el("div", { class: "muted" }, "no runs recorded"),
          el("div", { class: "muted small" }, "the hourly schedule allows " + hl.run_allowance_hours.toFixed(1) + " h without a run")),
        card("Budget (this week)", budgetView(hl.budget))
      )
    );
    const controlNote = !hl.control_readable ? "batch-control.json cannot be read: its breakers and stops are unknown, and every stage refuses to run until it is fixed." : !hl.control_recorded ? "No batch-control.json: the stages run with the default control (no breaker open, nothing stopped)." : null;
    main.push(card("Ecosystems", breakerTable(hl), controlNote ? el("p", { class: "note", id: "control-note" }, controlNote) : null));
    main.push(el("div", { class: "grid" }, card("Recipes merged per day", barChart(d.series.merged_per_day, "merged", "date")), card("Success rate per ecosystem (per day)", lineChart(d.series.success_rate))));
    main.push(el("div", { class: "grid" }, card("Queue", queueSummary(d)), card("Progress per ecosystem", progressBars(d.queue))));
    main.push(card("Failures by category", categoryTable(d)));
    main.push(card("Recent failures", recentTable(d.recent_failures), el("p", { class: "note" }, link("failures.html", {}, "All failures with filters →"))));
    main.push(card("Top blockers", blockerTable(d.blockers.slice(0, 5)), el("p", { class: "note" }, link("blockers.html", {}, "All top blockers →"))));
    if (d.disambiguations.total) main.push(card("Curated overrides", el("p", {}, `${d.disambiguations.total} records, ${d.disambiguations.need_review} high-risk, used ${d.disambiguations.used_in_runs} time(s) in batches. `, link("queue.html", {}, "The list is on the queue page →"))));
    if (d.errors.count) main.push(card("Data problems", el("p", {}, `${d.errors.count} malformed record(s) were skipped.`), table(["file", "line", "problem"], d.errors.items.slice(0, 10).map((e) => [e.file, e.line === null ? "" : e.line, msgCell(e.message)]))));
    return main;
  }

  function budgetView(b) {
    if (!b) return el("div", { class: "muted" }, "no budget recorded");
    const row = (label, u) => {
      const p = u.percent;
      const bar = el("div", { class: "bar " + (p >= 95 ? "bad" : p >= 80 ? "warn" : "") }, el("span", {}));
      bar.firstChild.style.width = Math.min(p || 0, 100) + "%";
      const limit = u.limit_minutes === null ? " min used (no limit set)" : " / " + num(u.limit_minutes) + " min (" + p + "%)";
      return el("div", {}, el("div", {}, label + ": ", num(u.used_minutes), limit), bar);
    };
    return el("div", {}, row("macOS", b.macos), row("Linux", b.linux), el("div", { class: "muted small" }, "week of ", b.week_start || "—", " · macOS ", b.macos_state));
  }

  function breakerTable(hl) {
    const unknown = !hl.control_readable; // an unreadable control file says nothing about them
    const rows = Object.entries(hl.ecosystems).map(([eco, v]) => unknown ? [link("failures.html", { ecosystem: eco }, eco), pill("unknown", "bad"), "—", "—", "—", pill("unknown", "bad")] : [
      link("failures.html", { ecosystem: eco }, eco),
      pill(v.breaker_state),
      num(v.consecutive_failures),
      when(v.last_failure),
      v.breaker_state === "closed" ? "—" : v.probe_overdue ? el("span", {}, pill("overdue", "bad"), " due by " + when(v.probe_due_by)) : v.breaker_state === "half_open" ? "due by " + when(v.probe_due_by) : "half-open after " + when(v.half_open_after),
      v.stopped ? el("span", {}, pill("stopped"), " ", v.stop_reason) : pill("running", "ok"),
    ]);
    return el("div", { id: "breakers" }, table(["ecosystem", "breaker", "consecutive failures", "last failure", "probe", "stop state"], rows, [2], "cards"));
  }

  function queueSummary(d) {
    const q = d.queue;
    const rows = Object.entries(q.by_status).filter(([, n]) => n > 0).map(([s, n]) => [link("queue.html", { status: s }, s), num(n), pct(q.total ? n / q.total : 0)]);
    return el("div", {}, el("div", { class: "big" }, num(q.total), el("span", { class: "muted small" }, " packages")), table(["status", "packages", "share"], rows, [1, 2]));
  }

  // per ecosystem: how much of its queue is in, failed, blocked, waiting (numbers written out)
  const PROGRESS = [["success", "in"], ["failed", "failed"], ["blocked", "blocked"], ["pending", "pending"]];
  function progressBars(q) {
    const rows = Object.entries(q.by_ecosystem).sort((a, b) => b[1].total - a[1].total || (a[0] < b[0] ? -1 : 1));
    return el("div", { id: "progress" }, rows.map(([eco, v]) => {
      const bar = el("div", { class: "stack", role: "img", "aria-label": `${eco}: ${v.by_status.success} of ${v.total} in` });
      for (const [status] of PROGRESS) {
        const part = el("span", { class: "s-" + status });
        part.style.width = (v.total ? (100 * v.by_status[status]) / v.total : 0) + "%";
        bar.append(part);
      }
      const parts = PROGRESS.filter(([s]) => v.by_status[s]).map(([s, label]) => num(v.by_status[s]) + " " + label).join(" · ");
      return el("div", { class: "progress-row" }, el("div", {}, link("queue.html", { ecosystem: eco }, eco), " ", el("strong", {}, pct(v.total ? v.by_status.success / v.total : 0)), el("span", { class: "muted small" }, " in of " + num(v.total))), bar, el("div", { class: "muted small" }, parts || "empty"));
    }), el("div", { class: "legend" }, PROGRESS.map(([s, label]) => el("span", {}, el("i", { class: "s-" + s }), label))));
  }

  function overridesTable(dz) {
    if (!dz.total) return el("p", { class: "muted" }, "No curated override recorded.");
    return el("div", { id: "overrides" }, table(["tool", "routed to", "reason", "risk", "alternatives"], dz.items.map((c) => [c.tool, packageLink(c.selected), c.selection_reason, c.high_risk ? pill("high risk", "bad") : "—", msgCell(c.alternatives.join(", ") || "—")])), el("p", { class: "note" }, `${dz.total} records; used ${dz.used_in_runs} time(s) in batches; a curated record overrides the queue entry's source at batch time.`));
  }

  function categoryTable(d) {
    const f = d.failures;
    const rows = [];
    for (const [cat, n] of Object.entries(f.by_category)) {
      rows.push([link("failures.html", { category: cat }, cat), "", num(n)]);
      for (const [sub, m] of Object.entries(f.by_subcategory[cat] || {}).sort((a, b) => b[1] - a[1]))
        rows.push(["", link("failures.html", { category: cat, subcategory: sub }, sub), num(m)]);
    }
    return el("div", {}, table(["category", "subcategory", "failures"], rows, [2]), el("p", { class: "note" }, `${num(f.total)} failures (one per package, batch and cause) from ${num(f.raw_total)} recorded lines`));
  }

  function recentTable(rows) {
    return el("div", { id: "recent-failures" }, table(["when", "package", "ecosystem", "category", "message", "run"], rows.map((f) => [failureLink(f, when(f.timestamp)), packageLink(f.package), f.ecosystem, categoryLabel(f), msgCell(f.message), failureRunLink(f)]), [], "cards"));
  }

  function blockerTable(rows) {
    const names = (list) => list.length ? el("span", {}, list.slice(0, 12).map((p, i) => [i ? ", " : "", packageLink(p)]), list.length > 12 ? " … +" + (list.length - 12) : "") : el("span", { class: "muted" }, "—");
    return table(
      ["missing dependency", "blocks (in all)", "directly", "blocked directly", "only through those"],
      rows.map((b) => [packageLink(b.dependency), num(b.count), num(b.direct), msgCell(names(b.direct_packages || b.packages)), msgCell(names(b.transitive_packages || []))]),
      [1, 2]
    );
  }

  function pageBlockers(d) {
    return [el("h1", {}, "Top blockers"), el("p", { class: "muted" }, "Missing dependency recipes, by how many packages wait on them now (a package\u2019s latest failure says what it waits on), directly or only through another blocked package."), card(null, d.blockers.length ? el("div", { id: "blockers" }, blockerTable(d.blockers)) : el("p", { class: "muted" }, "Nothing is blocked."))];
  }

  function filterBar(defs, state, onChange) {
    const bar = el("div", { class: "filters" });
    for (const def of defs) {
      let input;
      if (def.options) {
        input = el("select", { id: "filter-" + def.key, name: def.key }, el("option", { value: "" }, def.all || "all"), def.options.map((o) => el("option", { value: o }, o)));
        input.value = state[def.key] || "";
      } else {
        input = el("input", { type: "search", id: "filter-" + def.key, name: def.key, placeholder: def.placeholder || "" });
        input.value = state[def.key] || "";
      }
      input.addEventListener(def.options ? "change" : "input", () => {
        state[def.key] = input.value;
        const query = new URLSearchParams(Object.entries(state).filter(([, v]) => v)).toString();
        history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
        onChange();
      });
      bar.append(el("label", {}, def.label, input));
    }
    return bar;
  }

  const distinct = (rows, key) => [...new Set(rows.map((r) => r[key]).filter((v) => v !== null && v !== undefined && v !== ""))].sort();

  function pageFailures(d) {
    const rows = d.failure_details;
    const p = params();
    const state = { ecosystem: p.get("ecosystem") || "", category: p.get("category") || "", subcategory: p.get("subcategory") || "", batch: p.get("batch") || "", run: p.get("run") || "", q: p.get("q") || "" };
    const body = el("div", { id: "failure-rows" });
    const count = el("p", { class: "muted", id: "failure-count" });
    function render() {
      const q = state.q.toLowerCase();
      const shown = rows.filter(
        (f) =>
          (!state.ecosystem || f.ecosystem === state.ecosystem) &&
          (!state.category || f.category === state.category) &&
          (!state.subcategory || (f.subcategory || "unspecified") === state.subcategory) &&
          (!state.batch || f.batch_id === state.batch) &&
          (!state.run || f.run === state.run) &&
          (!q || f.package.toLowerCase().includes(q) || f.message.toLowerCase().includes(q))
      );
      count.textContent = `${shown.length} of ${rows.length} failures` + (d.failures.total > rows.length ? ` (the newest ${rows.length} of ${d.failures.total} are listed)` : "");
      if (!shown.length) return body.replaceChildren(el("p", { class: "muted" }, "No failure matches these filters."));
      body.replaceChildren(
        table(
          ["when", "package", "ecosystem", "category", "subcategory", "message", "batch", "run", "environments"],
          shown.slice(0, PAGE_ROWS).map((f) => [failureLink(f, when(f.timestamp)), packageLink(f.package), f.ecosystem, f.category, f.subcategory || "—", msgCell(f.message), msgCell(f.batch_id), failureRunLink(f), msgCell(f.environments.join(", "))]),
          [],
          "cards"
        )
      );
    }
    const subs = distinct(rows.map((f) => ({ s: f.subcategory || "unspecified" })), "s");
    const bar = filterBar(
      [
        { key: "ecosystem", label: "Ecosystem", options: distinct(rows, "ecosystem") },
        { key: "category", label: "Category", options: distinct(rows, "category") },
        { key: "subcategory", label: "Subcategory", options: subs },
        { key: "batch", label: "Batch", options: distinct(rows, "batch_id").reverse() },
        { key: "run", label: "Run", options: distinct(rows, "run").reverse() },
        { key: "q", label: "Package or message", placeholder: "search" },
      ],
      state,
      render
    );
    render();
    return [el("h1", {}, "Failures"), card(null, bar, count, body)];
  }

  function pageQueue(d) {
    const q = d.queue, rows = allPackages(d);
    const p = params();
    const state = { status: p.get("status") || "", ecosystem: p.get("ecosystem") || "", tier: p.get("tier") || "", q: p.get("q") || "" };
    const body = el("div", { id: "queue-rows" });
    const count = el("p", { class: "muted", id: "queue-count" });
    function render() {
      const needle = state.q.toLowerCase();
      const shown = rows.filter((r) => (!state.status || r.status === state.status) && (!state.ecosystem || r.ecosystem === state.ecosystem) && (!state.tier || String(r.priority) === state.tier) && (!needle || r.name.toLowerCase().includes(needle) || r.source.toLowerCase().includes(needle)));
      count.textContent = `${shown.length} of ${rows.length} packages` + (shown.length > PAGE_ROWS ? ` (first ${PAGE_ROWS} shown)` : "");
      if (!shown.length) return body.replaceChildren(el("p", { class: "muted" }, "No package matches these filters."));
      body.replaceChildren(table(["package", "source", "tier", "status", "failures", "next retry", "blocked by"], shown.slice(0, PAGE_ROWS).map((r) => [[packageLink(r.source, r.name), aliasNote(r)], r.source, r.priority, pill(r.status), num(r.failure_count), retryText(r), r.blocked_by.join(", ")]), [4]));
    }
    const ecoRows = Object.entries(q.by_ecosystem).sort().map(([eco, v]) => [link("queue.html", { ecosystem: eco }, eco), num(v.total), num(v.by_status.pending), num(v.by_status.success), num(v.by_status.failed), num(v.by_status.blocked)]);
    const tierRows = Object.entries(q.by_tier).map(([t, v]) => [link("queue.html", { tier: t }, "tier " + t), num(v.total), num(v.by_status.pending), num(v.by_status.success), num(v.by_status.failed), num(v.by_status.blocked)]);
    const bar = filterBar(
      [
        { key: "status", label: "Status", options: Object.keys(q.by_status) },
        { key: "ecosystem", label: "Ecosystem", options: Object.keys(q.by_ecosystem).sort() },
        { key: "tier", label: "Tier", options: ["1", "2", "3"] },
        { key: "q", label: "Name", placeholder: "search" },
      ],
      state,
      render
    );
    render();
    return [
      el("h1", {}, "Queue"),
      el("div", { class: "grid" }, card("By ecosystem", table(["ecosystem", "total", "pending", "success", "failed", "blocked"], ecoRows, [1, 2, 3, 4, 5])), card("By tier", table(["tier", "total", "pending", "success", "failed", "blocked"], tierRows, [1, 2, 3, 4, 5]))),
      card("Progress per ecosystem", progressBars(q)),
      card("Packages", bar, count, body),
      card("Curated overrides", overridesTable(d.disambiguations)),
    ];
  }

  function pagePackage(d) {
    const id = params().get("id") || "";
    const title = el("h1", { id: "package-title" }, id || "(no package named)");
    const matches = allPackages(d).filter((p) => p.source === id || p.name === id);
    const failures = d.failure_details.filter((f) => f.package === id || (matches.length && matches.some((m) => m.source === f.package)));
    if (!matches.length && !failures.length) {
      const asBlocker = d.blockers.find((b) => b.dependency === id);
      return [title, el("div", { class: "answer", id: "answer" }, el("p", {}, "This package is not in any queue and has no recorded failure."), asBlocker ? el("p", {}, `It is a missing dependency that blocks ${asBlocker.count} package(s): add its recipe to unblock them.`) : null), asBlocker ? card("Packages waiting on it", el("div", { id: "package-blockers" }, asBlocker.packages.map((p, i) => [i ? ", " : "", packageLink(p)]))) : null];
    }
    const out = [title];
    for (const p of matches.length ? matches : [null]) {
      // tsuku queues one source under several names: each entry says which it is
      if (matches.length > 1) out.push(el("h2", { class: "entry-title" }, "Queue entry “" + p.name + "”", " ", pill(p.aliases.length ? "alias of " + p.aliases.join(", ") : "entry " + (matches.indexOf(p) + 1), "alias")));
      out.push(...packageView(d, p, id, failures));
    }
    return out;
  }

  function packageView(d, p, id, failures) {
    const eco = p ? p.ecosystem : failures[0].ecosystem;
    const health = d.health.ecosystems[eco];
    const mine = p ? failures.filter((f) => f.package === p.source) : failures;
    const reasons = [];
    const now = Date.parse(d.generated_at);
    if (!p) reasons.push("Not in the queue; failures were recorded under this name.");
    else if (p.status === "success") reasons.push("It is in: the recipe is on the default branch.");
    else if (p.status === "blocked") reasons.push("Blocked: it needs recipes that do not exist yet: " + (p.blocked_by.join(", ") || "(not recorded)") + ".");
    else if (p.status === "failed") reasons.push(`Failed ${p.failure_count} time(s); the last cause is below.`);
    else if (p.status === "pending") reasons.push(`Waiting in the ${eco} queue (tier ${p.priority}).`);
    else if (p.status === "in_progress") reasons.push("In a batch right now (" + (p.batch_id || "batch unknown") + ").");
    else reasons.push(`Status ${p.status}` + (p.reason ? ": " + p.reason : "."));
    if (p && p.status !== "success") {
      if (p.next_retry_invalid) reasons.push("Its retry time (" + p.next_retry_at.slice(0, 10) + ") is an overflowed backoff, not a date: it is eligible at every run.");
      else if (p.next_retry_at) reasons.push(Date.parse(p.next_retry_at) > now ? "Next retry not before " + when(p.next_retry_at) + "." : "Eligible for retry now (backoff ended " + when(p.next_retry_at) + ").");
      if (p.aliases.length) reasons.push("The queue also lists this source as " + p.aliases.join(", ") + " (an alias: one package, one recipe).");
      if (health && health.probe_overdue) reasons.push(`The ${eco} breaker is half-open (${health.consecutive_failures} consecutive failures) and its probe is overdue: due by ${when(health.probe_due_by)}, no run has probed it since.`);
      else if (health && health.breaker_state !== "closed") reasons.push(`The ${eco} breaker is ${health.breaker_state} (${health.consecutive_failures} consecutive failures): batches for ${eco} wait for its probe` + (health.half_open_after ? " after " + when(health.half_open_after) : "") + ".");
      if (health && health.stopped) reasons.push("The emergency stop holds: " + health.stop_reason + ".");
      if (mine.length) reasons.push("Last failure: " + categoryLabel(mine[0]) + " — " + mine[0].message);
    }
    const blockedBy = p ? p.blocked_by : [...new Set(mine.flatMap((f) => f.blocked_by))];
    const facts = el(
      "dl",
      { class: "facts" },
      el("dt", {}, "status"), el("dd", { id: "package-status" }, p ? pill(p.status) : "not queued"),
      el("dt", {}, "source"), el("dd", {}, p ? p.source : mine[0].package),
      el("dt", {}, "ecosystem"), el("dd", {}, eco),
      el("dt", {}, "tier"), el("dd", {}, p ? p.priority : "—"),
      el("dt", {}, "attempts failed"), el("dd", {}, p ? num(p.failure_count) : num(mine.length)),
      el("dt", {}, "last attempt"), el("dd", {}, p ? when(p.last_attempt_at) : "—"),
      el("dt", {}, "next retry"), el("dd", { id: "package-retry" }, p ? retryText(p) : "—"),
      el("dt", {}, "blocked by"), el("dd", { id: "package-blockers" }, blockedBy.length ? blockedBy.map((b, i) => [i ? ", " : "", packageLink(b)]) : "—"),
      el("dt", {}, "breaker"), el("dd", { id: "package-breaker" }, health ? [pill(health.breaker_state), " ", health.consecutive_failures + " consecutive failures"] : "—")
    );
    return [
      el("div", { class: "answer", id: "answer" }, el("strong", {}, "Why isn't it in yet?"), reasons.map((r) => el("p", {}, r))),
      card("Facts", facts),
      card("Failure history", historyView(mine)),
    ];
  }

  // every failure of the package, newest first, HISTORY_ROWS a page (?fpage=N in the URL)
  const HISTORY_ROWS = 20;
  function historyView(rows) {
    if (!rows.length) return el("p", { class: "muted" }, "No failure recorded.");
    const box = el("div", { class: "history" });
    const pages = Math.ceil(rows.length / HISTORY_ROWS);
    let current = Math.min(Math.max(parseInt(params().get("fpage") || "1", 10) || 1, 1), pages);
    function render() {
      const first = (current - 1) * HISTORY_ROWS;
      const shown = rows.slice(first, first + HISTORY_ROWS);
      const nav = el("p", { class: "pager" },
        el("button", { type: "button", id: "history-prev", disabled: current === 1 ? "" : null }, "← newer"), " ",
        el("span", { id: "history-count" }, `failures ${first + 1}–${first + shown.length} of ${rows.length} (page ${current} of ${pages})`), " ",
        el("button", { type: "button", id: "history-next", disabled: current === pages ? "" : null }, "older →"));
      nav.querySelector("#history-prev").addEventListener("click", () => go(current - 1));
      nav.querySelector("#history-next").addEventListener("click", () => go(current + 1));
      box.replaceChildren(nav, el("div", { id: "package-history" }, table(["when", "category", "message", "run", "environments"], shown.map((f) => [failureLink(f, when(f.timestamp)), categoryLabel(f), msgCell(f.message), failureRunLink(f), msgCell(f.environments.join(", "))]), [], "cards")));
    }
    function go(n) {
      current = n;
      const u = new URL(location.href);
      if (n === 1) u.searchParams.delete("fpage"); else u.searchParams.set("fpage", String(n));
      history.replaceState(null, "", u);
      render();
    }
    render();
    return box;
  }

  // one failure record: its whole cause and where it belongs
  function pageFailure(d) {
    const p = params();
    const key = { package: p.get("package") || "", batch: p.get("batch") || "", category: p.get("category") || "", subcategory: p.get("subcategory") || "" };
    const f = d.failure_details.find((x) => x.package === key.package && x.batch_id === key.batch && x.category === key.category && (x.subcategory || "") === key.subcategory);
    const title = el("h1", { id: "failure-title" }, "Failure of " + (key.package || "(no package named)"));
    if (!f) return [title, el("div", { class: "answer", id: "answer" }, el("p", {}, "No such failure is recorded (the key: package, batch, category, subcategory)."), key.package ? el("p", {}, packageLink(key.package, "The package's page →")) : null)];
    const facts = el("dl", { class: "facts", id: "failure-facts" },
      el("dt", {}, "package"), el("dd", { id: "failure-package" }, packageLink(f.package)),
      el("dt", {}, "when"), el("dd", {}, when(f.timestamp)),
      el("dt", {}, "category"), el("dd", {}, categoryLabel(f) + (f.legacy_category ? " (tsuku: " + f.legacy_category + ")" : "")),
      el("dt", {}, "run"), el("dd", { id: "failure-run" }, failureRunLink(f)),
      el("dt", {}, "batch"), el("dd", {}, f.batch_id),
      el("dt", {}, "pull request"), el("dd", { id: "failure-pr" }, f.pull_request ? el("a", { href: f.pull_request }, f.pull_request) : el("span", { class: "muted" }, "none recorded (no batch manifest names one)")),
      el("dt", {}, "recipe"), el("dd", { id: "failure-recipe" }, f.recipe_path ? el("code", {}, f.recipe_path) : el("span", { class: "muted" }, "none written")),
      el("dt", {}, "environments"), el("dd", {}, f.environments.join(", ") || "—"),
      el("dt", {}, "blocked by"), el("dd", {}, f.blocked_by.length ? f.blocked_by.map((b, i) => [i ? ", " : "", packageLink(b)]) : "—"),
      el("dt", {}, "exit code"), el("dd", {}, f.exit_code === null ? "—" : String(f.exit_code)),
      el("dt", {}, "file"), el("dd", {}, el("code", {}, f.file)));
    return [title, el("div", { class: "answer", id: "answer" }, el("strong", {}, "Cause"), el("p", {}, f.message)), card("Whole cause", el("pre", { class: "detail", id: "failure-detail" }, f.detail || f.message)), card("Facts", facts)];
  }

  // runs with packages, newest first; each stretch of empty runs between them is one folded row
  function pageRuns(d) {
    const folds = (d.empty_runs || { folds: [] }).folds;
    const p = params();
    const state = { ecosystem: p.get("ecosystem") || "", outcome: p.get("outcome") || "", q: p.get("q") || "", empty: p.get("empty") || "" };
    const body = el("div", { id: "runs" });
    const count = el("p", { class: "muted", id: "runs-count" });
    const ecosystems = [...new Set([...d.runs.map((r) => r.ecosystem), ...folds.flatMap((f) => f.ecosystems)])].sort();
    const OUTCOMES = { merged: (r) => r.merged > 0, "nothing merged": (r) => r.merged === 0, released: (r) => r.released.length > 0, "with failures": (r) => r.recorded_failures > 0 };
    function render() {
      const needle = state.q.toLowerCase();
      const runs = d.runs.filter((r) => (!state.ecosystem || r.ecosystem === state.ecosystem || r.ecosystems.includes(state.ecosystem)) && (!state.outcome || OUTCOMES[state.outcome](r)) && (!needle || r.key.toLowerCase().includes(needle)));
      // empty runs have no outcome: an outcome filter hides them
      const emptyShown = state.outcome ? [] : folds.filter((f) => !state.ecosystem || f.ecosystems.includes(state.ecosystem)).map((f) => ({ fold: f, runs: f.runs.filter((r) => (!state.ecosystem || r.ecosystem === state.ecosystem) && (!needle || r.key.toLowerCase().includes(needle))) })).filter((x) => x.runs.length);
      const items = [...runs.map((r) => ({ at: r.timestamp, run: r })), ...emptyShown.map((x) => ({ at: x.fold.last_at, fold: x }))].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
      const nEmpty = emptyShown.reduce((a, x) => a + x.runs.length, 0);
      count.textContent = `${runs.length} run(s) with packages and ${nEmpty} empty run(s) shown` + (d.health.runs_recorded > d.runs.length + d.empty_runs.count ? ` (the newest of ${d.health.runs_recorded} runs; the charts cover all of them)` : "");
      if (!items.length) return body.replaceChildren(el("p", { class: "muted" }, "No run matches these filters."));
      const rows = [];
      for (const item of items) {
        if (item.run) {
          const r = item.run;
          rows.push(el("tr", {}, [
            el("td", { "data-label": "run" }, runLink(r.key), r.key !== r.batch_id ? el("div", { class: "muted small" }, "batch id " + r.batch_id + " (shared)") : null, r.released.length ? [" ", pill("released", "bad")] : null),
            el("td", { "data-label": "ecosystem" }, r.ecosystems.length > 1 ? r.ecosystem + " (" + r.ecosystems.join(", ") + ")" : r.ecosystem), el("td", { "data-label": "when" }, when(r.timestamp)),
            el("td", { class: "num", "data-label": "packages" }, num(r.total)), el("td", { class: "num", "data-label": "merged" }, num(r.merged)), el("td", { class: "num", "data-label": "success" }, r.total ? pct(r.success_rate) : "—"),
            el("td", { class: "num", "data-label": "failures" }, r.recorded_failures ? link("failures.html", { run: r.key }, num(r.recorded_failures)) : "0"), el("td", { class: "num", "data-label": "duration" }, r.duration_seconds.toFixed(0) + " s"),
          ]));
          continue;
        }
        const { fold, runs: members } = item.fold;
        const open = state.empty === "shown";
        const fails = members.reduce((a, r) => a + r.recorded_failures, 0);
        const toggle = el("button", { type: "button", class: "fold-toggle", "aria-expanded": String(open) }, open ? "hide" : "show");
        const head = el("tr", { class: "fold" }, el("td", { colspan: 8, "data-label": "empty runs" }, el("strong", {}, num(members.length) + " empty run(s)"), " (no package) · " + when(fold.first_at) + " → " + when(fold.last_at) + " · " + fold.ecosystems.join(", ") + " · ", fails ? num(fails) + " failure(s) recorded in them " : "no failure recorded ", toggle));
        // its runs' rows are made when it is first opened (tsuku's snapshot folds 1,631 runs)
        const build = () => members.map((r) => el("tr", { class: "fold-member" }, el("td", { "data-label": "run" }, runLink(r.key)), el("td", { "data-label": "ecosystem" }, r.ecosystem), el("td", { "data-label": "when" }, when(r.timestamp)), el("td", { class: "num", "data-label": "failures" }, r.recorded_failures ? link("failures.html", { run: r.key }, num(r.recorded_failures)) : "0")));
        let inner = open ? build() : null;
        toggle.addEventListener("click", () => {
          const show = toggle.getAttribute("aria-expanded") !== "true";
          toggle.setAttribute("aria-expanded", String(show));
          toggle.textContent = show ? "hide" : "show";
          if (!inner) {
            inner = build();
            head.after(...inner);
          }
          for (const tr of inner) tr.hidden = !show;
        });
        rows.push(head, ...(inner || []));
      }
      const headers = ["run", "ecosystem", "when", "packages", "merged", "success", "failures", "duration"];
      body.replaceChildren(el("div", { class: "scroll" }, el("table", { class: "cards" }, el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { class: i >= 3 ? "num" : null }, h)))), el("tbody", {}, rows))));
    }
    const bar = filterBar(
      [
        { key: "ecosystem", label: "Ecosystem", options: ecosystems },
        { key: "outcome", label: "Outcome", options: Object.keys(OUTCOMES) },
        { key: "empty", label: "Empty runs", options: ["shown"], all: "folded" },
        { key: "q", label: "Run or batch id", placeholder: "search" },
      ],
      state,
      render
    );
    render();
    return [el("h1", {}, "Runs"), card(null, bar, count, body)];
  }

  function pageRun(d) {
    const id = params().get("id") || "";
    // by its key; an older link by batch id shows every run of that id
    const byKey = d.runs.filter((r) => r.key === id);
    const runs = byKey.length ? byKey : d.runs.filter((r) => r.batch_id === id);
    const keys = new Set(runs.map((r) => r.key));
    const folds = (d.empty_runs || { folds: [] }).folds;
    const fold = folds.find((f) => f.runs.some((r) => r.key === id));
    if (fold) keys.add(id);
    const failures = d.failure_details.filter((f) => keys.has(f.run) || (!keys.size && f.batch_id === id));
    const out = [el("h1", { id: "run-title" }, "Run " + id)];
    if (fold) {
      const r = fold.runs.find((x) => x.key === id);
      out.push(el("div", { class: "answer", id: "answer" }, el("p", {}, "An empty run: it selected no package (" + r.ecosystem + ", " + when(r.timestamp) + ")."), el("p", {}, "One of " + num(fold.count) + " empty runs from " + when(fold.first_at) + " to " + when(fold.last_at) + (r.recorded_failures ? "; " + num(r.recorded_failures) + " failure(s) were recorded in it (a half-open breaker's probes)." : "."))));
    }
    if (!runs.length && !failures.length && !fold) return out.concat(el("p", { class: "muted" }, "No run with this key or batch id is recorded."));
    for (const r of runs) {
      const facts = [["ecosystem", r.ecosystems.length > 1 ? r.ecosystems.join(", ") : r.ecosystem], ["when", when(r.timestamp)], ["packages", num(r.total)], ["generated", num(r.generated)], ["validated (Linux / macOS)", num(r.validated_linux) + " / " + num(r.validated_macos)], ["merged", num(r.merged)], ["failed / blocked / excluded / skipped", [r.failed, r.blocked, r.excluded, r.skipped].map(num).join(" / ")], ["success rate", pct(r.success_rate)], ["curated routing used", num(r.used_disambiguation)], ["duration", r.duration_seconds.toFixed(0) + " s"], ["CI minutes (macOS / Linux)", num(r.macos_minutes) + " / " + num(r.linux_minutes)]];
      out.push(card(r.ecosystem + (r.key !== r.batch_id ? " · batch id " + r.batch_id + " (shared by several runs)" : ""), el("dl", { class: "facts" }, facts.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]))));
      const m = r.manifest;
      if (m) {
        out.push(card("Pull request and gates", el("p", {}, m.pull_request ? el("a", { href: m.pull_request, rel: "noreferrer" }, m.pull_request) : "no pull request recorded", m.rolled_back ? [" ", pill("rolled back", "bad")] : null), table(["gate", "verdict", "detail"], m.gates.map((g) => [g.name, pill(g.passed ? "held" : "failed", g.passed ? "ok" : "bad"), g.detail]))));
        out.push(card("Packages", table(["package", "outcome", "installed", "recipe", "reason"], m.packages.map((p) => [packageLink(p.package_id, p.name), pill(p.outcome), versionCell(p), p.recipe_path || "—", msgCell(p.reason)]))));
      }
      if (r.released.length) out.push(card("Released by reconcile", el("div", { id: "released" }, table(["when", "why", "entries now", "packages", "pull request", "reason"], r.released.map((x) => [when(x.released_at), x.cause === "pr_closed" ? "PR closed without merging" : "run died before merging", pill(x.status), msgCell(x.packages.join(", ")), x.pull_request ? el("a", { href: x.pull_request, rel: "noreferrer" }, x.pull_request) : "—", msgCell(x.reason)])))));
    }
    out.push(card("Failures of this run", el("div", { id: "run-failures" }, failures.length ? table(["when", "package", "category", "message", "environments"], failures.map((f) => [when(f.timestamp), packageLink(f.package), categoryLabel(f), msgCell(f.message), msgCell(f.environments.join(", "))])) : el("p", { class: "muted" }, "No failure recorded for this run.")),
      failures.some((f) => f.legacy_category !== null && f.run) ? el("p", { class: "note" }, "tsuku's failure files name no batch: their failures are shown under the first run that ended at most 2 h after them.") : null));
    return out;
  }

  const PAGES = { index: pageIndex, queue: pageQueue, failures: pageFailures, package: pagePackage, runs: pageRuns, run: pageRun, blockers: pageBlockers, failure: pageFailure };

  function show(nodes) {
    document.getElementById("main").replaceChildren(...nodes.filter(Boolean));
  }

  async function getJSON(url, cache) {
    const response = await fetch(url, { cache: cache });
    if (!response.ok) throw new Error(url + ": HTTP " + response.status);
    return response.json();
  }

  // site.package_bucket: FNV-1a (32 bits) of the id's UTF-8 bytes modulo PACKAGE_BUCKETS
  const PACKAGE_BUCKETS = 128;
  function bucketOf(id) {
    let h = 0x811c9dc5;
    for (const byte of new TextEncoder().encode(id)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
    return h % PACKAGE_BUCKETS;
  }
  async function packageEntry(id, version) {
    const get = async (key) => {
      const file = await getJSON("data/packages/" + bucketOf(key) + ".json?v=" + encodeURIComponent(version), "default");
      const entry = file.entries[key];
      // a whole cause is written once per file: a failure names it by its index
      for (const f of (entry && entry.failures) || []) if (typeof f.detail === "number") f.detail = file.details[f.detail];
      return entry;
    };
    const entry = id ? await get(id) : undefined;
    if (!entry) return { packages: [], failures: [] };
    if (!entry.see) return entry;
    const parts = await Promise.all(entry.see.map(get));  // a name: the sources queued under it
    return { packages: parts.flatMap((e) => (e ? e.packages : [])), failures: parts.flatMap((e) => (e ? e.failures : [])) };
  }

  async function start() {
    const page = document.body.dataset.page;
    const nav = document.querySelector(`[data-nav="${page}"]`);
    if (nav) nav.classList.add("active");
    let data;
    try {
      // each page reads its own part of the data (data/<page>.json), revalidated, never the whole document
      data = await getJSON("data/" + (PAGES[page] ? page : "index") + ".json", "no-cache");
      if (data.queue_summary) data.queue = data.queue_summary;  // the index: the queue's counts, not its lists
      if (page === "package" || page === "failure") {
        // one package's rows and whole failure history: its bucket, fixed for this build (cached)
        const entry = await packageEntry(page === "package" ? params().get("id") || "" : params().get("package") || "", data.generated_at);
        data.queue = { packages: { listed: entry.packages } };
        data.failure_details = entry.failures;
      }
    } catch (err) {
      show([el("div", { class: "banner bad" }, "Cannot load the dashboard's data: " + err.message)]);
      return;
    }
    document.getElementById("generated").textContent = "generated " + when(data.generated_at);
    show((PAGES[page] || pageIndex)(data));
    document.body.dataset.renderMs = String(Math.round(performance.now()));  // first render, from navigation start
    document.body.dataset.ready = "true";
  }

  start();
})();
