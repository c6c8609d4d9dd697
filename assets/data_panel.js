/*
 * Descent Lab Explorer: the data panel, the epoch marks and the minibatch contours of a data surface.
 *
 * The race's payload carries a "data" part on data surfaces (app/explorer/data_view.py): the points
 * (float64 base64, one array per column, as given), the model's fixed parts (centring, bias, λ), the
 * data set's key and, with minibatches, each epoch's order of the points (uint16 base64) with the batch
 * size and the steps per epoch.  explorer.js calls DescentData.frame(payload, runs, k) on every frame
 * (this file loads first and only defines the object until then).  It
 *
 *  - draws the points and the fit of the arrows' run (else the first) at step k in the panel's plot:
 *    v = x·u + y (linreg, with u centred when asked), v = y·tanh(x·u) (tiny_net), the decision
 *    boundary x·a1 + y·a2 + bias = 0 (logreg, classes as filled circles and crosses), and rings the
 *    points of the next step's minibatch;
 *  - edits the points with pointer events (mouse, pen and touch alike): drag a point, click empty
 *    space to add one, shift-click or delete mode to remove one; the fields beside the plot add a
 *    point by its coordinates and the buttons remove the last or restore the generated points.  An
 *    edit is sent as the points store ({points, key, n}); the server recomputes the surface and races;
 *  - marks the epoch boundaries under the step slider;
 *  - with "minibatch contours" on, draws the loss of the next step's minibatch (the same per-point
 *    formulas as surfaces/_datakernels.py, on a 40 × 40 grid) as a contour trace over the map and
 *    updates it in place with Plotly.restyle while the animation plays or the scrubber moves.
 *
 * Names shared with the server come from assets/_explorer_names.js.
 */
(function () {
  "use strict";

  var GRID = 40;
  var HIT_PX = 11;
  var MAX_POINTS = 4096;
  var MAX_TICKS = 120;
  var CONTOUR_EVERY_MS = 70;
  var CONTOUR_META = "minibatch-contours";

  function names() {
    return window.DescentExplorerNames.get();
  }

  var byId = window.DescentExplorerNames.byId;

  function decode(b64, kind) {
    var bin = atob(b64 || "");
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return kind === "u2" ? new Uint16Array(bytes.buffer) : new Float64Array(bytes.buffer);
  }

  var D = {
    payload: null, // the race payload the points came from
    data: null, // its data part
    pts: [], // the points shown (rows), edited in place
    orders: null,
    k: 0,
    runs: {},
    drag: null,
    sent: 0,
    ranges: null,
    plotted: null,
    lastContour: 0,
    contourTimer: null,
    contourStep: null,
    contours: 0,
    panelQueued: false,
    panelAt: 0,
  };

  function plotDiv() {
    return byId(names().dataPlot);
  }

  // ------------------------------------------------------------------ payload

  function loadData(p) {
    D.payload = p;
    var d = p && p.data;
    D.data = d || null;
    D.orders = d && d.batch ? decode(d.batch.orders, "u2") : null;
    epochTicks(p);
    tools();
    // a drag in progress keeps its points: its release sends them, and their race follows
    if (D.drag && d && d.n === D.pts.length) return;
    D.pts = [];
    if (d) {
      var cols = d.cols.map(function (c) { return decode(c); });
      for (var i = 0; i < d.n; i++) D.pts.push(cols.map(function (c) { return c[i]; }));
    }
    D.ranges = null;
    D.drag = null;
    tableIfOpen();
  }

  function tableIfOpen() {
    var host = byId(names().pointsTable);
    var details = host && host.closest("details");
    if (details && details.open) fillTable();
  }

  document.addEventListener("toggle", function (ev) {
    var host = byId(names().pointsTable);
    if (host && ev.target && ev.target.contains && ev.target.contains(host) && ev.target.open) fillTable();
  }, true);

  // the points of step t's minibatch (1-based t), or null (full batch, or an epoch not sent)
  function batchOf(t) {
    var b = D.data && D.data.batch;
    if (!b || !D.orders || t < 1) return null;
    var e = Math.floor((t - 1) / b.perEpoch);
    if (e >= b.epochs) return null;
    var j = (t - 1) % b.perEpoch;
    var n = D.data.n;
    var lo = j * b.size;
    var hi = Math.min(lo + b.size, n);
    return Array.prototype.slice.call(D.orders.subarray(e * n + lo, e * n + hi));
  }

  // ------------------------------------------------------------------ the model

  function meanU() {
    var s = 0;
    for (var i = 0; i < D.pts.length; i++) s += D.pts[i][0];
    return D.pts.length ? s / D.pts.length : 0;
  }

  function softplus(s) {
    return s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
  }

  // mean loss over the points `idx` (indices into the payload's points) at (x, y): surfaces/_datakernels.py
  function batchLoss(surface, cols, idx, x, y, mu, bias, l2) {
    var f = 0;
    var u = cols[0], v = cols[1], t = cols[2];
    for (var q = 0; q < idx.length; q++) {
      var i = idx[q];
      if (surface === "linreg") {
        var r = x * (u[i] - mu) + y - v[i];
        f += r * r;
      } else if (surface === "logreg") {
        f += softplus(-t[i] * (x * u[i] + y * v[i] + bias));
      } else {
        var h = y * Math.tanh(x * u[i]) - v[i];
        f += h * h;
      }
    }
    f /= idx.length;
    if (surface === "logreg" && l2) f += 0.5 * l2 * (x * x + y * y);
    return f;
  }

  function selectedRun() {
    var p = D.payload;
    if (!p) return null;
    var c = p.arrows ? p.arrows.color : p.slots && p.slots.length ? p.slots[0].color : null;
    return c === null ? null : D.runs[c] || null;
  }

  function weightsAt(k) {
    var s = selectedRun();
    if (!s) return null;
    var j = Math.min(k, s.len - 1);
    return [s.x[j], s.y[j], s.color];
  }

  // ------------------------------------------------------------------ the panel's plot

  function span(vals, pad) {
    var lo = Infinity, hi = -Infinity;
    vals.forEach(function (v) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    });
    if (!isFinite(lo)) return [-1, 1];
    var w = hi - lo || Math.abs(hi) || 1;
    return [lo - pad * w, hi + pad * w];
  }

  function fitTrace(w, xr, yr) {
    var d = D.data;
    var out = { x: [], y: [] };
    if (!w) return out;
    var a = w[0], b = w[1];
    if (d.surface === "logreg") {
      // the decision boundary a·a1 + b·a2 + bias = 0
      if (Math.abs(b) >= Math.abs(a) && b !== 0) {
        out.x = [xr[0], xr[1]];
        out.y = [-(a * xr[0] + d.bias) / b, -(a * xr[1] + d.bias) / b];
      } else if (a !== 0) {
        out.y = [yr[0], yr[1]];
        out.x = [-(b * yr[0] + d.bias) / a, -(b * yr[1] + d.bias) / a];
      }
      return out;
    }
    var mu = d.center ? meanU() : 0;
    for (var i = 0; i <= 80; i++) {
      var u = xr[0] + ((xr[1] - xr[0]) * i) / 80;
      out.x.push(u);
      out.y.push(d.surface === "linreg" ? a * (u - mu) + b : b * Math.tanh(a * u));
    }
    return out;
  }

  function figure(k) {
    var d = D.data;
    var logreg = d.surface === "logreg";
    if (!D.ranges) {
      D.ranges = {
        x: span(D.pts.map(function (r) { return r[0]; }), 0.08),
        y: span(D.pts.map(function (r) { return r[1]; }), 0.12),
      };
    }
    var xr = D.ranges.x, yr = D.ranges.y;
    var w = weightsAt(k);
    var palette = (D.payload && D.payload.palette) || [];
    var col = w ? palette[w[2]] || "#333" : "#333";
    var pts = {
      type: "scatter", mode: "markers", x: D.pts.map(function (r) { return r[0]; }), y: D.pts.map(function (r) { return r[1]; }),
      marker: logreg
        ? { size: 8, color: D.pts.map(function (r) { return r[2] > 0 ? "#1f6fb2" : "#c2410c"; }),
            symbol: D.pts.map(function (r) { return r[2] > 0 ? "circle" : "x"; }), line: { width: 0 } }
        : { size: 7, color: "#37414d", opacity: 0.8 },
      hoverinfo: "skip",
    };
    var fit = fitTrace(w, xr, yr);
    var batch = batchOf(Math.min(D.k + 1, D.payload.steps));
    var ring = {
      type: "scatter", mode: "markers", hoverinfo: "skip",
      x: (batch || []).map(function (i) { return D.pts[i] ? D.pts[i][0] : null; }),
      y: (batch || []).map(function (i) { return D.pts[i] ? D.pts[i][1] : null; }),
      marker: { size: 14, color: "rgba(0,0,0,0)", line: { width: 2, color: "#f0a000" } },
    };
    return {
      data: [pts, { type: "scatter", mode: "lines", x: fit.x, y: fit.y, line: { color: col, width: 2.5 }, hoverinfo: "skip" }, ring],
      layout: {
        margin: { l: 44, r: 8, t: 8, b: 38 },
        showlegend: false,
        dragmode: false,
        paper_bgcolor: "#ffffff",
        plot_bgcolor: "#ffffff",
        font: { size: 12, color: "#1d232b" },
        xaxis: { range: xr, title: { text: logreg ? "a₁" : "u (input)" }, zeroline: false, fixedrange: true },
        yaxis: { range: yr, title: { text: logreg ? "a₂" : "v (target)" }, zeroline: false, fixedrange: true },
      },
    };
  }

  function drawPanel() {
    var gd = plotDiv();
    if (!gd || !window.Plotly || !D.data) return;
    var fig = figure(D.k);
    var fit = fig.data[1];
    var w = weightsAt(D.k);
    D.plotted = {
      k: D.k,
      n: D.pts.length,
      w: w ? [w[0], w[1]] : null,
      fit: fit.x.length ? [fit.x[0], fit.y[0], fit.x[fit.x.length - 1], fit.y[fit.y.length - 1]] : null,
      batch: fig.data[2].x.length,
    };
    window.Plotly.react(gd, fig.data, fig.layout, { displayModeBar: false, responsive: true, staticPlot: false });
  }

  // ------------------------------------------------------------------ editing

  function axes() {
    var gd = plotDiv();
    var fl = gd && gd._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) return null;
    var r = gd.getBoundingClientRect();
    var xa = fl.xaxis, ya = fl.yaxis;
    return {
      toData: function (cx, cy) { return [xa.p2d(cx - r.left - xa._offset), ya.p2d(cy - r.top - ya._offset)]; },
      toPx: function (x, y) { return [r.left + xa._offset + xa.d2p(x), r.top + ya._offset + ya.d2p(y)]; },
      inside: function (cx, cy) {
        var px = cx - r.left - xa._offset, py = cy - r.top - ya._offset;
        return px >= 0 && py >= 0 && px <= xa._length && py <= ya._length;
      },
    };
  }

  function nearest(m, cx, cy) {
    var best = -1, bestD = HIT_PX;
    for (var i = 0; i < D.pts.length; i++) {
      var q = m.toPx(D.pts[i][0], D.pts[i][1]);
      var dd = Math.hypot(q[0] - cx, q[1] - cy);
      if (dd <= bestD) {
        best = i;
        bestD = dd;
      }
    }
    return best;
  }

  function say(text) {
    var note = byId(names().dataNote);
    if (note) note.textContent = text;
  }

  function deleteMode() {
    var box = byId(names().deleteMode);
    var input = box && box.querySelector("input");
    return !!(input && input.checked);
  }

  function newLabel() {
    var el = byId(names().dataPanel + "-add-c2");
    var v = el ? parseFloat(el.value) : NaN;
    return v === 0 || v === -1 ? -1 : 1;
  }

  function commit() {
    if (!window.dash_clientside || !window.dash_clientside.set_props || !D.data) return;
    D.sent += 1;
    window.dash_clientside.set_props(names().points, { data: { points: D.pts.map(function (r) { return r.slice(); }), key: D.data.key, n: D.sent } });
    say(D.pts.length + " points (edited) · recomputing…");
  }

  function addPoint(row) {
    if (D.pts.length >= MAX_POINTS) return say("at most " + MAX_POINTS + " points");
    D.pts.push(row);
    drawPanel();
    tableIfOpen();
    commit();
  }

  function removePoint(i) {
    if (D.pts.length <= 2) return say("a data set keeps at least 2 points");
    D.pts.splice(i, 1);
    drawPanel();
    var host = byId(names().pointsTable);
    var fromTable = host && host.contains(document.activeElement);
    tableIfOpen();
    if (fromTable) {
      var next = host.querySelector("[data-remove='" + Math.min(i, D.pts.length - 1) + "']");
      if (next) next.focus();
    }
    commit();
  }

  document.addEventListener("pointerdown", function (ev) {
    var gd = plotDiv();
    if (!gd || !D.data || !gd.contains(ev.target) || (ev.pointerType === "mouse" && ev.button !== 0)) return;
    var m = axes();
    if (!m || !m.inside(ev.clientX, ev.clientY)) return;
    ev.preventDefault();
    var i = nearest(m, ev.clientX, ev.clientY);
    if (i >= 0 && (ev.shiftKey || deleteMode())) return removePoint(i);
    if (i >= 0) {
      D.drag = { i: i, id: ev.pointerId, moved: false };
      if (gd.setPointerCapture) gd.setPointerCapture(ev.pointerId);
      return;
    }
    if (deleteMode()) return;
    var at = m.toData(ev.clientX, ev.clientY);
    addPoint(D.data.surface === "logreg" ? [at[0], at[1], newLabel()] : [at[0], at[1]]);
  });

  var moveQueued = false;
  document.addEventListener("pointermove", function (ev) {
    if (!D.drag || ev.pointerId !== D.drag.id) return;
    var m = axes();
    if (!m) return;
    var at = m.toData(ev.clientX, ev.clientY);
    var row = D.pts[D.drag.i];
    row[0] = at[0];
    row[1] = at[1];
    D.drag.moved = true;
    if (!moveQueued) {
      moveQueued = true;
      requestAnimationFrame(function () {
        moveQueued = false;
        drawPanel();
      });
    }
  });

  function endDrag(ev) {
    if (!D.drag || ev.pointerId !== D.drag.id) return;
    var moved = D.drag.moved;
    D.drag = null;
    if (moved) commit();
  }
  document.addEventListener("pointerup", endDrag);
  document.addEventListener("pointercancel", endDrag);

  document.addEventListener("click", function (ev) {
    var b = ev.target && ev.target.closest ? ev.target.closest("button") : null;
    if (!b || !D.data || !names().dataPanel) return;
    var table = byId(names().pointsTable);
    if (table && table.contains(b) && b.hasAttribute("data-remove")) removePoint(+b.getAttribute("data-remove"));
    else if (b.id === names().removeLast) removePoint(D.pts.length - 1);
    else if (b.id === names().resetPoints) {
      if (!D.data.edited) return say("these are the generated points already");
      if (window.dash_clientside && window.dash_clientside.set_props) window.dash_clientside.set_props(names().points, { data: null });
      say("restoring the generated points…");
    } else if (b.id === names().dataPanel + "-add") {
      var vals = [0, 1, 2].map(function (c) {
        var el = byId(names().dataPanel + "-add-c" + c);
        return el ? parseFloat(el.value) : NaN;
      });
      if (!isFinite(vals[0]) || !isFinite(vals[1]) || Math.abs(vals[0]) > 1e6 || Math.abs(vals[1]) > 1e6)
        return say("type two numbers (at most 1e6 in size) to add a point");
      addPoint(D.data.surface === "logreg" ? [vals[0], vals[1], newLabel()] : [vals[0], vals[1]]);
    }
  });

  // ------------------------------------------------------------------ the points as numbers (keyboard)

  var TABLE_ROWS = 60;

  function fillTable() {
    var host = byId(names().pointsTable);
    if (!host || !D.data) return;
    var cols = D.data.surface === "logreg" ? ["a₁", "a₂", "label"] : ["u", "v"];
    var rows = Math.min(D.pts.length, TABLE_ROWS);
    var head = "<tr><th scope='col'>#</th>" + cols.map(function (c) { return "<th scope='col'>" + c + "</th>"; }).join("") +
      "<th scope='col'><span class='sr-only'>remove</span></th></tr>";
    var body = [];
    for (var i = 0; i < rows; i++) {
      var r = D.pts[i];
      var cells = r.map(function (v, c) {
        var val = c === 2 ? (v > 0 ? 1 : 0) : +v.toPrecision(5);
        return "<td><input type='number' step='any' class='num-input' data-row='" + i + "' data-col='" + c + "' value='" + val +
          "' aria-label='point " + (i + 1) + " " + cols[c] + "'></td>";
      });
      body.push("<tr><th scope='row'>" + (i + 1) + "</th>" + cells.join("") +
        "<td><button type='button' class='icon-btn' data-remove='" + i + "' aria-label='remove point " + (i + 1) + "'>×</button></td></tr>");
    }
    var more = D.pts.length > rows ? "<p class='hint'>the first " + rows + " of " + D.pts.length + " points</p>" : "";
    host.innerHTML = "<table><thead>" + head + "</thead><tbody>" + body.join("") + "</tbody></table>" + more;
  }

  document.addEventListener("change", function (ev) {
    var host = byId(names().pointsTable);
    var el = ev.target;
    if (!host || !D.data || !host.contains(el) || !el.hasAttribute("data-row")) return;
    var i = +el.getAttribute("data-row"), c = +el.getAttribute("data-col");
    var v = parseFloat(el.value);
    if (!D.pts[i] || !isFinite(v) || Math.abs(v) > 1e6) return say("point " + (i + 1) + ": type a number (at most 1e6 in size)");
    D.pts[i][c] = c === 2 ? (v > 0 ? 1 : -1) : v;
    drawPanel();
    commit();
  });

  // a file over the size limit never reaches the server (dcc.Upload drops it): say so here
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    var panel = byId(names().dataPanel);
    if (!el || el.type !== "file" || !panel || !panel.contains(el) || !D.data || !el.files || !el.files[0]) return;
    var f = el.files[0];
    if (f.size > D.data.maxCsvBytes && window.dash_clientside && window.dash_clientside.set_props)
      window.dash_clientside.set_props(names().uploadError, {
        children: f.name.slice(0, 80) + " is " + Math.round(f.size / 1024) + " kB; the limit for points is " + Math.round(D.data.maxCsvBytes / 1024) + " kB",
      });
  }, true);

  // ------------------------------------------------------------------ texts and tools

  function tools() {
    var d = D.data;
    if (!d) return;
    var logreg = d.surface === "logreg";
    [["c0", logreg ? "a₁" : "u"], ["c1", logreg ? "a₂" : "v"], ["c2", "label (0 or 1)"]].forEach(function (pair) {
      var lab = byId(names().dataPanel + "-add-" + pair[0] + "-label");
      var field = byId(names().dataPanel + "-add-" + pair[0] + "-field");
      if (lab) lab.textContent = pair[1];
      if (field) field.hidden = pair[0] === "c2" && !logreg;
    });
    var cols = byId(names().dataPanel + "-columns");
    if (cols) cols.textContent = "one point a line: " + d.columns.join(", ");
    var text = d.n + (d.edited ? " edited points" : " generated points") + " · " + d.regime;
    if (d.edited && !d.inLink)
      text += " · the edits are not in the link (it carries at most " + d.maxLink + " points in " + d.maxLinkChars +
        " characters; a shared link gives the generated points: download the CSV to share them)";
    if (d.batch && d.batch.epochs < d.batch.allEpochs) text += " · minibatch contours for the first " + d.batch.epochs + " epochs only";
    say(text);
    var toggle = byId(names().batchContours);
    if (toggle) toggle.hidden = !d.batch || D.payload.view === "3d"; // drawn over the 2-D map only
    // dcc.Upload's file input has no name of its own
    var file = document.querySelector("#" + CSS.escape(names().dataPanel) + " input[type='file']");
    if (file && !file.hasAttribute("aria-label")) file.setAttribute("aria-label", "Upload a CSV file of points");
  }

  function epochTicks(p) {
    var host = byId(names().scrubber);
    if (!host) return;
    var el = byId(names().epochTicks);
    var b = p && p.data && p.data.batch;
    if (!b) {
      if (el) el.remove();
      return;
    }
    if (!el) {
      el = document.createElement("div");
      el.id = names().epochTicks;
      el.className = "epoch-marks";
      el.setAttribute("aria-hidden", "true");
      host.appendChild(el);
    }
    var n = p.steps;
    var count = Math.floor(n / b.perEpoch);
    var every = Math.max(1, Math.ceil(count / MAX_TICKS));
    var html = [];
    for (var e = every; e <= count; e += every) {
      var k = e * b.perEpoch;
      if (k >= n) break;
      html.push('<span style="left:calc(8px + (100% - 16px) * ' + (k / n).toFixed(5) + ')"></span>');
    }
    el.innerHTML = html.join("");
    el.title = "epoch boundaries: every " + b.perEpoch + " steps" + (every > 1 ? " (every " + every + "th epoch marked)" : "");
    el.setAttribute("data-count", String(html.length));
  }

  // ------------------------------------------------------------------ minibatch contours on the map

  function contoursOn() {
    var box = byId(names().batchContours);
    var input = box && box.querySelector("input");
    return !!(input && input.checked) && !box.hidden;
  }

  function mapDiv() {
    var host = byId(names().map);
    if (!host) return null;
    return host.classList.contains("js-plotly-plot") ? host : host.querySelector(".js-plotly-plot");
  }

  function contourIndex(gd) {
    for (var i = 0; i < (gd.data || []).length; i++) if (gd.data[i].meta === CONTOUR_META) return i;
    return -1;
  }

  function batchGrid(t) {
    var p = D.payload, d = D.data;
    var idx = batchOf(t);
    if (!idx || !idx.length) return null;
    var cols = d.cols.map(function (c) { return decode(c); });
    var mu = 0;
    if (d.center && d.surface === "linreg") {
      for (var q = 0; q < d.n; q++) mu += cols[0][q];
      mu /= d.n;
    }
    var b = p.bounds;
    var xs = [], ys = [], z = [];
    for (var i = 0; i < GRID; i++) {
      xs.push(b[0][0] + ((b[0][1] - b[0][0]) * i) / (GRID - 1));
      ys.push(b[1][0] + ((b[1][1] - b[1][0]) * i) / (GRID - 1));
    }
    var lo = Infinity, hi = -Infinity;
    for (var r = 0; r < GRID; r++) {
      var row = [];
      for (var c = 0; c < GRID; c++) {
        var f = batchLoss(d.surface, cols, idx, xs[c], ys[r], mu, d.bias, d.l2);
        row.push(f);
        if (f < lo) lo = f;
        if (f > hi) hi = f;
      }
      z.push(row);
    }
    var eps = Math.max((hi - lo) * 1e-3, 1e-12);
    var shown = z.map(function (row) { return row.map(function (f) { return Math.log10(f - lo + eps); }); });
    return { x: xs, y: ys, z: shown, raw: z, t: t, size: idx.length };
  }

  function drawContours(force) {
    var gd = mapDiv();
    var p = D.payload;
    if (!gd || !window.Plotly || !p || !gd.data || p.view === "3d") return;
    var meta = gd.layout && gd.layout.meta;
    if (!meta || meta.rev !== p.index.rev) return;
    var at = contourIndex(gd);
    var on = contoursOn() && D.data && D.data.batch;
    if (!on) {
      if (at >= 0 && gd.data[at].visible !== false) window.Plotly.restyle(gd, { visible: false }, [at]);
      D.contourStep = null;
      return;
    }
    var t = Math.min(D.k + 1, p.steps);
    if (!force && t === D.contourStep && at >= 0) return;
    var now = performance.now();
    if (!force && now - D.lastContour < CONTOUR_EVERY_MS) {
      if (!D.contourTimer) D.contourTimer = setTimeout(function () { D.contourTimer = null; drawContours(false); }, CONTOUR_EVERY_MS);
      return;
    }
    D.lastContour = now;
    var g = batchGrid(t);
    if (!g) {
      if (at >= 0) window.Plotly.restyle(gd, { visible: false }, [at]);
      D.contourStep = null;
      return;
    }
    D.contourStep = t;
    D.contours += 1;
    D.lastGrid = { t: t, size: g.size, corner: g.raw[0][0], centre: g.raw[GRID >> 1][GRID >> 1] };
    if (at < 0) {
      window.Plotly.addTraces(gd, {
        type: "contour", meta: CONTOUR_META, name: "minibatch loss", x: g.x, y: g.y, z: g.z, showscale: false,
        hoverinfo: "skip", ncontours: 14, contours: { coloring: "none" },
        line: { width: 1.4, color: "rgba(255,255,255,0.95)", dash: "dot" },
      });
    } else {
      window.Plotly.restyle(gd, { x: [g.x], y: [g.y], z: [g.z], visible: true }, [at]);
    }
  }

  // ------------------------------------------------------------------ called by explorer.js

  // the panel is redrawn after the map's frame is painted (never delaying it), at most every PANEL_EVERY_MS
  var PANEL_EVERY_MS = 40;
  function schedulePanel() {
    if (D.panelQueued) return;
    D.panelQueued = true;
    var wait = Math.max(0, PANEL_EVERY_MS - (performance.now() - (D.panelAt || 0)));
    requestAnimationFrame(function () {
      setTimeout(function () {
        D.panelQueued = false;
        D.panelAt = performance.now();
        if (!D.drag) drawPanel();
      }, wait);
    });
  }

  function frame(p, runs, k) {
    if (!p) return;
    if (p !== D.payload) loadData(p);
    D.runs = runs || {};
    D.k = k;
    var panel = byId(names().dataPanel);
    if (!D.data || (panel && panel.hidden)) return;
    schedulePanel();
    drawContours(false);
  }

  document.addEventListener("change", function (ev) {
    var box = byId(names().batchContours);
    if (!box || !box.contains(ev.target)) return;
    drawContours(true);
    // the checklist's option gets aria-selected back when it is re-rendered (assets/a11y.js removes its role)
    requestAnimationFrame(function () {
      box.querySelectorAll("[aria-selected]:not([role])").forEach(function (el) { el.removeAttribute("aria-selected"); });
    });
  });

  window.DescentData = {
    frame: frame,
    batchOf: batchOf,
    // what the panel and the contours last drew (tests)
    state: function () {
      return {
        n: D.pts.length,
        k: D.k,
        plotted: D.plotted ? JSON.parse(JSON.stringify(D.plotted)) : null,
        contours: D.contours,
        grid: D.lastGrid || null,
        sent: D.sent,
        key: D.data ? D.data.key : null,
      };
    },
    // data point i (its coordinates) and its page coordinates in the panel's plot
    point: function (i) {
      return D.pts[i] ? D.pts[i].slice() : null;
    },
    pointAt: function (i) {
      var m = axes();
      return m && D.pts[i] ? m.toPx(D.pts[i][0], D.pts[i][1]) : null;
    },
  };
})();
