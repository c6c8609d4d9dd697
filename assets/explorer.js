/*
 * Descent Lab Explorer: the browser half.
 *
 * The server sends every trajectory once per change (the payload store:
 * float64 arrays as base64).  This file animates them without further round
 * trips: a requestAnimationFrame loop advances step k; each frame draws the
 * trails to step k, the balls and the arrows on a canvas over the 2-D map (the
 * contour is never recomputed), moves the step cursor over the diagnostics
 * (plain HTML lines placed with the axes' pixel mapping) and fills the race
 * board's live cells.  In the 3-D view a playing race is drawn on a canvas over
 * the still scene (assets/scene3d_overlay.js) and, once it stops, put into the
 * scene's traces (assets/scene3d.js), one update in flight at a time.  The
 * diagnostics figure itself is redrawn with
 * Plotly.react once per payload, after the map, and only when changes pause.
 *
 * It keeps each slider and its exact number in step and commits settled
 * slider moves (with a fast path for hyperparameters, see below), and provides
 * the clientside callbacks (namespace "descent"): map click → start point,
 * payload → engine, config → URL.
 *
 * The names it shares with the server (component ids, the parts of pattern ids,
 * class names, the fast path's route) are not spelled out here: the Explorer's
 * root element carries them as JSON (app/explorer/ids.py, BROWSER_NAMES), read by
 * assets/_explorer_names.js the first time one is needed.
 * Every lookup runs in an event handler or a callback, after the layout is in
 * the page; on the other pages there is no such root and the handlers do nothing.
 */
(function () {
  "use strict";

  var READOUT_EVERY_MS = 90;


  // the names shared with the server ({} on a page without the Explorer: every lookup then finds nothing)
  function names() {
    return window.DescentExplorerNames.get();
  }

  var byId = window.DescentExplorerNames.byId;

  function diagPanels() {
    var host = byId(names().diagnostics);
    return host ? host.querySelectorAll("." + names().diagPanel) : [];
  }

  function noUpdate() {
    return window.dash_clientside.no_update;
  }

  function decode(b64, f32) {
    if (!b64) return f32 ? new Float32Array(0) : new Float64Array(0);
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return f32 ? new Float32Array(bytes.buffer) : new Float64Array(bytes.buffer);
  }

  function graphDiv(id) {
    var host = id ? document.getElementById(id) : null;
    if (!host) return null;
    if (host.classList && host.classList.contains("js-plotly-plot")) return host;
    return host.querySelector(".js-plotly-plot");
  }

  function fmt(v) {
    if (!isFinite(v)) return "–";
    if (v === 0) return "0";
    var a = Math.abs(v);
    return a >= 1e-3 && a < 1e5 ? String(+v.toPrecision(3)) : v.toExponential(2);
  }

  var E = {
    payload: null,
    byColor: {},
    arrows: null,
    k: 0,
    n: 0,
    playing: false,
    speed: 60,
    acc: 0,
    lastT: 0,
    busy3d: false,
    pending3d: null, // [gd, data, traces] of the latest 3-D update asked for while one ran
    overlay3d: false, // the 3-D frame is on the overlay canvas (playing), not in the WebGL traces
    diagTimer: null,
    diagDrawn: null,
    diagApplied: 0,
    lastReadout: 0,
    applied: 0,
    appliedAt: 0,
    waitTimer: null,
    seenRev: null,
    dragRanges: null,
    lastDrawn: null,
    startPreview: null,
  };

  // a new theme (assets/theme.js): the trails, rings and balls take its line widths and colours
  document.addEventListener("descent-theme", function () {
    if (E.payload && E.payload.view !== "3d") draw(false);
  });

  window.addEventListener("resize", function () {
    setTimeout(function () {
      if (E.payload && E.payload.view !== "3d") draw(false);
    }, 60);
  });

  // ------------------------------------------------------------------ loading

  function zOf(f, z) {
    var v = z.log ? Math.log10(Math.max(f - z.floor, 0) + z.eps) : f;
    if (!isFinite(v)) v = z.cap;
    return Math.min(v, z.cap) + 0.015 * (z.cap - z.low);
  }

  function load(p) {
    var atEnd = E.payload === null || E.k >= E.n;
    E.payload = p;
    E.startPreview = null; // a dragged start ring: the new race starts where it was dropped
    E.overlay3d = false; // a new figure's moving traces are hidden again if it plays
    E.n = p.steps;
    E.byColor = {};
    p.slots.forEach(function (s) {
      var run = {
        color: s.color,
        label: s.label,
        status: s.status,
        stop: s.stop,
        len: s.len,
        end: s.end,
        x: decode(s.x),
        y: decode(s.y),
        f: decode(s.f, true),
        g: decode(s.g, true),
        z: null,
        // schedule-free runs: the averaged point x (the one evaluated) beside the iterate y
        ax: s.ax ? decode(s.ax) : null,
        ay: s.ay ? decode(s.ay) : null,
        af: s.af ? decode(s.af, true) : null,
        az: null,
      };
      if (p.view === "3d" && p.z) {
        run.z = new Float64Array(run.len);
        for (var i = 0; i < run.len; i++) run.z[i] = zOf(run.f[i], p.z);
        if (run.af) {
          run.az = new Float64Array(run.len);
          for (var q = 0; q < run.len; q++) run.az[q] = zOf(run.af[q], p.z);
        }
      }
      E.byColor[s.color] = run;
    });
    var a = p.arrows;
    E.arrows = a
      ? {
          color: a.color,
          gx: decode(a.gx, true),
          gy: decode(a.gy, true),
          ux: decode(a.ux, true),
          uy: decode(a.uy, true),
          mx: a.mx ? decode(a.mx, true) : null,
          my: a.my ? decode(a.my, true) : null,
          mlabel: a.mlabel,
        }
      : null;
    if (atEnd || E.k > E.n) E.k = E.n;
    E.extrasDone = false;
    // the address bar always holds the link to what is shown
    if (typeof p.query === "string" && p.query.charAt(0) === "?" && p.query.length < 8000) {
      if (window.location.search !== p.query)
        window.history.replaceState(window.history.state, "", window.location.pathname + p.query + window.location.hash);
    }
    ensureScrubber();
    applyWhenReady(0);
  }

  // texts, URL and diagnostics: after the map has been painted, so they never delay it
  function scheduleExtras() {
    requestAnimationFrame(function () {
      setTimeout(applyExtras, 0);
    });
  }

  function applyExtras() {
    var p = E.payload;
    if (!p || E.extrasDone) return;
    E.extrasDone = true;
    var notes = {};
    (p.notes || []).forEach(function (n) {
      notes[n.color] = n;
    });
    var status = names().cardStatus;
    document.querySelectorAll("[" + status + "]").forEach(function (el) {
      var n = notes[el.getAttribute(status)];
      el.textContent = n ? (n.kind === "warn" ? "⚠ " : "") + n.text : p.error ? "no surface to run on" : "";
      el.classList.toggle("warn", !!(n && n.kind === "warn"));
    });
    buildRaceBoard(p);
    updateSide(true);
    if (E.diagTimer) clearTimeout(E.diagTimer);
    E.diagTimer = setTimeout(drawDiagnostics, E.diagDrawn ? 120 : 0);
  }

  function mapReady() {
    var gd = graphDiv(names().map);
    if (!gd || !gd._fullLayout || !gd.data || !E.payload) return null;
    var meta = gd.layout && gd.layout.meta;
    if (!meta || meta.rev !== E.payload.index.rev) return null;
    bindMap(gd);
    return gd;
  }

  function applyWhenReady(tries) {
    if (E.waitTimer) clearTimeout(E.waitTimer);
    E.waitTimer = null;
    var gd = mapReady();
    if (gd) {
      draw(true);
      scheduleExtras();
      E.applied += 1;
      E.appliedAt = performance.now();
      document.dispatchEvent(new CustomEvent("descentlab:applied", { detail: { k: E.k, n: E.n } }));
      if (E.applied === 1) requestAnimationFrame(function () { setTimeout(texReady, 0); });
      return;
    }
    if (tries < 600) {
      E.waitTimer = setTimeout(function () {
        applyWhenReady(tries + 1);
      }, 16);
    }
  }

  // the formulas (MathJax, about a second of work) are typeset once the first map is on screen,
  // or after a few seconds if no map comes (e.g. a formula that does not parse)
  var texSent = false;
  function texReady() {
    if (texSent || !window.dash_clientside || !window.dash_clientside.set_props || !names().texReady) return;
    texSent = true;
    window.dash_clientside.set_props(names().texReady, { data: true });
  }
  var texTries = 0;
  setTimeout(function retry() {
    if (texSent || ++texTries > 30) return;
    if (byId(names().map)) texReady(); // the Explorer page (the others have no formulas here)
    else setTimeout(retry, 1000);
  }, 5000);

  function bindMap(gd) {
    if (gd.__descentBound || !gd.on) return;
    gd.__descentBound = true;
    // 3-D: plotly reports the surface point under the click
    gd.on("plotly_click", function (ev) {
      var pt = ev && ev.points && ev.points[0];
      if (E.payload && E.payload.view === "3d" && pt) setStart(pt.x, pt.y);
    });
    // a new figure, a zoom, a pan or a resize: redraw step k over it
    gd.on("plotly_afterplot", function () {
      var meta = gd.layout && gd.layout.meta;
      var rev = meta ? meta.rev : null;
      var fresh = rev !== E.seenRev;
      E.seenRev = rev;
      if (E.payload && rev !== E.payload.index.rev) clearCanvas(); // not (yet) the figure of these trajectories
      if (E.payload && rev === E.payload.index.rev && (fresh || E.payload.view !== "3d")) draw(fresh);
    });
    gd.on("plotly_relayouting", function (ev) {
      if (!E.payload || E.payload.view === "3d" || !ev) return;
      var xr = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]];
      var yr = [ev["yaxis.range[0]"], ev["yaxis.range[1]"]];
      E.dragRanges = {
        x: typeof xr[0] === "number" ? xr : null,
        y: typeof yr[0] === "number" ? yr : null,
      };
      drawCanvas(gd);
    });
    gd.on("plotly_relayout", function () {
      E.dragRanges = null;
      if (E.payload && E.payload.view !== "3d") drawCanvas(gd);
    });
  }

  // ------------------------------------------------------------------ drawing

  function emptyTrace(three) {
    return three ? { x: [], y: [], z: [], text: [] } : { x: [], y: [], text: [] };
  }

  function arrowTraces(j, three) {
    var out = [emptyTrace(three), emptyTrace(three), emptyTrace(three)];
    var a = E.arrows;
    var s = a ? E.byColor[a.color] : null;
    if (!a || !s) return out;
    var i = Math.min(j, s.len - 1);
    var px = s.x[i];
    var py = s.y[i];
    var pz = three && s.z ? s.z[i] : 0;
    var L = E.payload.arrowLength;
    var vecs = [
      [a.gx[i], a.gy[i], "−∇f"],
      a.mx ? [a.mx[i], a.my[i], a.mlabel || "momentum"] : null,
      [a.ux[i], a.uy[i], "Δθ"],
    ];
    for (var v = 0; v < 3; v++) {
      var w = vecs[v];
      if (!w) continue;
      var norm = Math.hypot(w[0], w[1]);
      if (!(norm > 0) || !isFinite(norm)) continue;
      var t = { x: [px, px + (L * w[0]) / norm], y: [py, py + (L * w[1]) / norm], text: ["", w[2]] };
      if (three) t.z = [pz, pz];
      out[v] = t;
    }
    return out;
  }

  function draw(full) {
    var gd = mapReady();
    if (!gd) return;
    if (E.payload.error) clearCanvas(); // the map shows the formula's error message
    else if (E.payload.view === "3d") draw3d(gd, full);
    else drawCanvas(gd);
    updateSide(full);
    // a data surface's panel, epoch marks and minibatch contours (assets/data_panel.js)
    if (window.DescentData) window.DescentData.frame(E.payload, E.byColor, E.k);
  }

  // ---- 2-D: trails, balls, arrows and end markers on a canvas over the plot area

  function canvasFor(gd) {
    var wrap = byId(names().mapWrap);
    if (!wrap || !wrap.contains(gd)) wrap = gd.parentElement;
    var cv = wrap.querySelector("canvas.anim-layer");
    if (!cv) {
      cv = document.createElement("canvas");
      cv.className = "anim-layer";
      cv.setAttribute("aria-hidden", "true");
      wrap.appendChild(cv);
    }
    var dpr = window.devicePixelRatio || 1;
    var w = gd.clientWidth;
    var h = gd.clientHeight;
    if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) {
      cv.width = Math.round(w * dpr);
      cv.height = Math.round(h * dpr);
      cv.style.width = w + "px";
      cv.style.height = h + "px";
    }
    cv.style.left = gd.offsetLeft + "px";
    cv.style.top = gd.offsetTop + "px";
    var ctx = cv.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return ctx;
  }

  function clearCanvas() {
    var wrap = byId(names().mapWrap);
    var cv = wrap && wrap.querySelector("canvas.anim-layer");
    if (cv) cv.getContext("2d").clearRect(0, 0, cv.width, cv.height);
  }

  function axisMap(gd) {
    var fl = gd._fullLayout;
    var xa = fl && fl.xaxis;
    var ya = fl && fl.yaxis;
    if (!xa || !ya || !xa.l2p || !ya.l2p) return null;
    // while a zoom or pan is being dragged, follow the ranges it reports
    var r = E.dragRanges;
    function lin(ax, range) {
      if (!range) return function (v) { return ax._offset + ax.l2p(v); };
      var a = range[0];
      var scale = ax._length / (range[1] - range[0]);
      var flip = ax._id.charAt(0) === "y";
      return function (v) {
        var p = (v - a) * scale;
        return ax._offset + (flip ? ax._length - p : p);
      };
    }
    return {
      X: lin(xa, r && r.x),
      Y: lin(ya, r && r.y),
      box: [xa._offset, ya._offset, xa._length, ya._length],
    };
  }

  // the page's theme (assets/theme.js): line widths, the run colours on its background, the ink of
  // the start ring and the balls' outline; the light theme where that script is absent
  function look() {
    var T = window.DescentTheme;
    var mapped = {};
    return {
      scale: T && T.lineScale ? T.lineScale() : 1,
      ink: T && T.ink ? T.ink() : "#111",
      halo: T && T.halo ? T.halo() : "#ffffff",
      color: function (hex) {
        if (!T || !T.runColor || !hex) return hex;
        if (!(hex in mapped)) mapped[hex] = T.runColor(hex);
        return mapped[hex];
      },
    };
  }

  function drawCanvas(gd) {
    var m = axisMap(gd);
    var ctx = canvasFor(gd);
    if (!m) return;
    var p = E.payload;
    var k = E.k;
    var L = look();
    var palette = (p.palette || []).map(L.color);
    var X = m.X;
    var Y = m.Y;
    ctx.save();
    ctx.beginPath();
    ctx.rect(m.box[0], m.box[1], m.box[2], m.box[3]);
    ctx.clip();
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    var colors = Object.keys(E.byColor);
    var record = { k: k, trails: {}, balls: {}, ends: {}, averaged: {}, arrowLabels: [], cross: {} };
    E.lastDrawn = record;
    // trails
    colors.forEach(function (c) {
      var s = E.byColor[c];
      var j = Math.min(k, s.len - 1);
      record.trails[c] = j + 1;
      ctx.strokeStyle = palette[c] || "#333";
      ctx.lineWidth = 2.6 * L.scale;
      ctx.beginPath();
      for (var i = 0; i <= j; i++) {
        var px = X(s.x[i]);
        var py = Y(s.y[i]);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      }
      ctx.stroke();
      if (s.ax) drawAveraged(ctx, X, Y, s, j, palette[c] || "#333");
      if (s.ax) record.averaged[c] = [s.ax[j], s.ay[j]];
    });
    // start (where a drag of its ring is taking it, until the drag ends)
    var start = E.startPreview || p.start;
    ctx.strokeStyle = L.ink;
    ctx.lineWidth = 2.5 * L.scale;
    ctx.beginPath();
    ctx.arc(X(start[0]), Y(start[1]), 8 * Math.sqrt(L.scale), 0, 2 * Math.PI);
    ctx.stroke();
    record.start = [start[0], start[1]];
    drawArrows(ctx, X, Y, k, record.arrowLabels);
    // the curvature cross at each ball (assets/curvature.js, under the balls), unless its toggle is off
    if (window.DescentCurvature && crossOn()) record.cross = window.DescentCurvature.draw(ctx, X, Y, p, E.byColor, k, palette);
    // balls and end markers
    colors.forEach(function (c) {
      var s = E.byColor[c];
      var j = Math.min(k, s.len - 1);
      var col = palette[c] || "#333";
      if (s.end && k >= s.len - 1) {
        var ex = X(s.end[0]);
        var ey = Y(s.end[1]);
        ctx.strokeStyle = col;
        ctx.lineWidth = 3.5 * L.scale;
        ctx.beginPath();
        ctx.moveTo(ex - 8, ey - 8);
        ctx.lineTo(ex + 8, ey + 8);
        ctx.moveTo(ex + 8, ey - 8);
        ctx.lineTo(ex - 8, ey + 8);
        ctx.stroke();
        label(ctx, s.end[2], ex, ey, s.end[3]);
        record.ends[c] = s.end[2];
      } else {
        record.balls[c] = [s.x[j], s.y[j]];
        ctx.fillStyle = col;
        ctx.strokeStyle = L.halo;
        ctx.lineWidth = 2 * L.scale;
        ctx.beginPath();
        ctx.arc(X(s.x[j]), Y(s.y[j]), 7 * Math.sqrt(L.scale), 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    });
    ctx.restore();
  }

  function crossOn() {
    var host = byId(names().cross);
    var box = host && host.querySelector("input");
    return !box || box.checked;
  }

  // a schedule-free run's averaged point x: a thin dashed trail to step j and a hollow ball there
  function drawAveraged(ctx, X, Y, s, j, col) {
    ctx.save();
    ctx.strokeStyle = col;
    ctx.lineWidth = 1.6;
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    for (var i = 0; i <= j; i++) {
      if (i === 0) ctx.moveTo(X(s.ax[i]), Y(s.ay[i]));
      else ctx.lineTo(X(s.ax[i]), Y(s.ay[i]));
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#ffffff";
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    ctx.arc(X(s.ax[j]), Y(s.ay[j]), 5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.restore();
  }

  function label(ctx, text, x, y, where) {
    ctx.font = "600 13px system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";
    var w = ctx.measureText(text).width;
    var tx = x - w / 2;
    var ty = y - 14;
    if (where === "bottom center") ty = y + 24;
    else if (where === "middle left") {
      tx = x - w - 14;
      ty = y + 4;
    } else if (where === "middle right") {
      tx = x + 14;
      ty = y + 4;
    }
    ctx.lineWidth = 4;
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    ctx.strokeText(text, tx, ty);
    ctx.fillStyle = "#1a1a1a";
    ctx.fillText(text, tx, ty);
  }

  // a label's box on the canvas (left-aligned 13px text, alphabetic baseline at y)
  var LABEL_ASCENT = 12;
  function labelBox(text, x, y, w) {
    return { text: text, x: x, y: y - LABEL_ASCENT, w: w, h: 16 };
  }

  function overlaps(a, b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  }

  // where a label may go without covering the labels already placed: its own spot, else the
  // nearest free one a line above or below (parallel arrows at a converged point end together)
  function freeSpot(text, x, y, w, placed) {
    for (var step = 0; step < 9; step++) {
      var dy = (step % 2 ? 1 : -1) * Math.ceil(step / 2) * 16;
      var box = labelBox(text, x, y + dy, w);
      if (!placed.some(function (b) { return overlaps(box, b); })) return box;
    }
    return labelBox(text, x, y, w);
  }

  function drawArrows(ctx, X, Y, k, placed) {
    placed = placed || [];
    var arrows = arrowTraces(k, false);
    var dashes = [[2, 4], [7, 5], []];
    ctx.font = "600 13px system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";
    for (var v = 0; v < 3; v++) {
      var a = arrows[v];
      if (!a.x.length) continue;
      var x0 = X(a.x[0]);
      var y0 = Y(a.y[0]);
      var x1 = X(a.x[1]);
      var y1 = Y(a.y[1]);
      var ang = Math.atan2(y1 - y0, x1 - x0);
      ctx.strokeStyle = "#262626";
      ctx.fillStyle = "#262626";
      ctx.lineWidth = 2.2;
      ctx.setLineDash(dashes[v]);
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1 - 6 * Math.cos(ang), y1 - 6 * Math.sin(ang));
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.lineTo(x1 - 11 * Math.cos(ang - 0.4), y1 - 11 * Math.sin(ang - 0.4));
      ctx.lineTo(x1 - 11 * Math.cos(ang + 0.4), y1 - 11 * Math.sin(ang + 0.4));
      ctx.closePath();
      ctx.fill();
      // labels beyond the tip, nudged sideways by kind so parallel arrows stay readable
      var side = (v - 1) * 13;
      var lx = x1 + 9 * Math.cos(ang) - side * Math.sin(ang);
      var ly = y1 + 9 * Math.sin(ang) + side * Math.cos(ang) + 4;
      var text = a.text[1];
      var box = freeSpot(text, lx, ly, ctx.measureText(text).width, placed);
      placed.push(box);
      ctx.lineWidth = 4;
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.strokeText(text, box.x, box.y + LABEL_ASCENT);
      ctx.fillText(text, box.x, box.y + LABEL_ASCENT);
    }
  }

  // ---- 3-D: the figure's traces at their fixed positions (one per colour), restyled

  function draw3d(gd, full) {
    var p = E.payload;
    var idx = p.index;
    if (gd.data.length < idx.arrow + 3) return; // a message figure: nothing to move
    clearCanvas();
    var k = E.k;
    var data = [];
    var traces = [];
    for (var c = 0; c < idx.colors; c++) {
      var s = E.byColor[c];
      if (!s) {
        if (full) {
          data.push(emptyTrace(true), emptyTrace(true), emptyTrace(true));
          traces.push(idx.path + c, idx.ball + c, idx.end + c);
        }
        continue;
      }
      var j = Math.min(k, s.len - 1);
      var showEnd = s.end && k >= s.len - 1;
      data.push(
        { x: s.x.subarray(0, j + 1), y: s.y.subarray(0, j + 1), z: s.z.subarray(0, j + 1) },
        { x: [s.x[j]], y: [s.y[j]], z: [s.z[j]] },
        showEnd ? { x: [s.end[0]], y: [s.end[1]], z: [p.z.cap], text: [s.end[2]] } : emptyTrace(true)
      );
      traces.push(idx.path + c, idx.ball + c, idx.end + c);
    }
    var arrows = arrowTraces(k, true);
    for (var v = 0; v < 3; v++) {
      data.push(arrows[v]);
      traces.push(idx.arrow + v);
    }
    // schedule-free runs: the averaged point's dashed path (a figure without those traces has none to move)
    if (idx.averaged !== undefined && gd.data.length >= idx.averaged + idx.colors) {
      for (var a = 0; a < idx.colors; a++) {
        var r = E.byColor[a];
        if (r && r.az) {
          var ja = Math.min(k, r.len - 1);
          data.push({ x: r.ax.subarray(0, ja + 1), y: r.ay.subarray(0, ja + 1), z: r.az.subarray(0, ja + 1) });
          traces.push(idx.averaged + a);
        } else if (full) {
          data.push(emptyTrace(true));
          traces.push(idx.averaged + a);
        }
      }
    }
    // playing: the scene stays still (its moving traces emptied once) and the frame goes on the 2-D
    // overlay (assets/scene3d_overlay.js); stopped: the points go back into the WebGL traces
    var O = window.DescentScene3dOverlay;
    if (E.playing && O) {
      if (!E.overlay3d) restyle3d(gd, data.map(function () { return emptyTrace(true); }), traces);
      if (O.draw(gd, data, traces, look())) {
        E.overlay3d = true;
        return;
      }
    }
    if (E.overlay3d && O) O.clear(gd);
    E.overlay3d = false;
    restyle3d(gd, data, traces);
  }

  // one update of the scene's traces in flight at a time; while one runs, the latest request waits
  function restyle3d(gd, data, traces) {
    if (E.busy3d) {
      E.pending3d = [gd, data, traces];
      return;
    }
    E.busy3d = true;
    var done = function () {
      E.busy3d = false;
      var next = E.pending3d;
      E.pending3d = null;
      if (next) restyle3d(next[0], next[1], next[2]);
    };
    window.DescentScene3d.restyle(gd, data, traces).then(done, done);
  }

  function updateSide(force) {
    var now = performance.now();
    var k = E.k;
    var label = byId(names().stepLabel);
    if (label) label.textContent = "step " + k + " / " + E.n;
    var range = byId(names().scrubberRange);
    if (range && +range.value !== k) range.value = String(k);
    diagCursor(k);
    if (force || !E.playing || now - E.lastReadout > READOUT_EVERY_MS || k >= E.n) {
      E.lastReadout = now;
      var board = byId(names().legend);
      var cells = board ? board.querySelectorAll("[data-ro]") : [];
      for (var c = 0; c < cells.length; c++) {
        var cell = cells[c];
        var s = E.byColor[+cell.getAttribute("data-color")];
        if (!s) continue;
        var j = Math.min(k, s.len - 1);
        var ro = cell.getAttribute("data-ro");
        var series = ro === "f" ? s.f : ro === "af" ? s.af : s.g;
        if (series) cell.textContent = fmt(series[j]);
      }
    }
  }

  // "step 40 of 200: Adam f = 0.021, leading; SGD f = 0.29; Newton diverged at step 12." — the runs
  // from the lowest f at step k, the ones that have left the race last
  function raceSummary() {
    var p = E.payload;
    if (!p) return "";
    if (p.error) return "No race: the surface has an error.";
    var k = E.k;
    var rows = [];
    var out = [];
    Object.keys(E.byColor).forEach(function (c) {
      var s = E.byColor[c];
      var j = Math.min(k, s.len - 1);
      var ended = k >= s.len - 1 && (s.status === "diverged" || s.status === "stalled");
      var f = s.f[j];
      if (ended) out.push(s.label + " " + s.status + " at step " + (s.len - 1));
      else rows.push({ label: s.label, f: isFinite(f) ? f : Infinity });
    });
    if (!rows.length && !out.length) return "Step " + k + ": no optimizers in the race.";
    rows.sort(function (a, b) { return a.f - b.f; });
    var parts = rows.map(function (r, i) {
      return r.label + " f = " + fmt(r.f) + (i === 0 && rows.length > 1 ? ", leading" : "");
    });
    return "Step " + k + " of " + E.n + ": " + parts.concat(out).join("; ") + ".";
  }

  // the race board: one row per optimizer (label, live f and ‖∇f‖ at step k, outcome)
  function buildRaceBoard(p) {
    var host = byId(names().legend);
    if (!host) return;
    host.textContent = "";
    var title = document.createElement("div");
    title.className = "rb-title";
    title.textContent = "Race at step k";
    host.appendChild(title);
    var list = p.notes || [];
    if (!list.length) {
      var empty = document.createElement("p");
      empty.className = "empty-note";
      empty.textContent = p.error ? "Fix the formula to race." : "Add optimizers to race them.";
      host.appendChild(empty);
      return;
    }
    list.forEach(function (n) {
      var row = document.createElement("div");
      row.className = "rb-row";
      var sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = (p.palette || [])[n.color] || "#888";
      var main = document.createElement("div");
      main.className = "rb-main";
      var lab = document.createElement("div");
      lab.className = "rb-label";
      lab.textContent = n.label;
      main.appendChild(lab);
      if (E.byColor[n.color]) {
        var live = document.createElement("div");
        live.className = "rb-live";
        var cells = [["f ", "f"], ["  ‖∇f‖ ", "g"]];
        if (E.byColor[n.color].af) cells.push(["  f(x) ", "af"]); // schedule-free: f at the averaged point
        cells.forEach(function (kv) {
          var key = document.createElement("span");
          key.className = "rb-key";
          key.textContent = kv[0];
          var val = document.createElement("span");
          val.setAttribute("data-ro", kv[1]);
          val.setAttribute("data-color", String(n.color));
          val.textContent = "–";
          live.appendChild(key);
          live.appendChild(val);
        });
        main.appendChild(live);
      }
      var st = document.createElement("div");
      st.className = "rb-status" + (n.kind === "warn" ? " warn" : "");
      st.textContent = n.text;
      main.appendChild(st);
      if (n.paths) {
        var paths = document.createElement("div");
        paths.className = "rb-status rb-paths";
        paths.textContent = n.paths;
        main.appendChild(paths);
      }
      row.appendChild(sw);
      row.appendChild(main);
      host.appendChild(row);
    });
  }

  // the diagnostics' step cursor: a thin HTML line over each panel, placed with the panel's pixel
  // mapping (a Plotly relayout of a shape costs ~80 ms; this costs nothing)
  function diagCursor(k) {
    var panels = diagPanels();
    for (var i = 0; i < panels.length; i++) {
      var gd = panels[i];
      var fl = gd._fullLayout;
      var xa = fl && fl.xaxis;
      var ya = fl && fl.yaxis;
      var cell = gd.parentElement;
      var line = cell.querySelector(".diag-cursor");
      if (!line) {
        line = document.createElement("div");
        line.className = "diag-cursor";
        line.setAttribute("aria-hidden", "true");
        cell.appendChild(line);
      }
      if (!xa || !ya || !xa.l2p) {
        line.style.display = "none";
        continue;
      }
      var px = xa._offset + xa.l2p(k);
      var inside = px >= xa._offset - 0.5 && px <= xa._offset + xa._length + 0.5;
      line.style.display = inside ? "" : "none";
      line.style.left = px.toFixed(1) + "px";
      line.style.top = ya._offset + "px";
      line.style.height = ya._length + "px";
    }
  }

  // the diagnostic panels: redrawn once the payloads stop coming, one panel per task, so the
  // page never waits long for them (a Plotly.react of a panel costs ~20–30 ms)
  function drawDiagnostics() {
    E.diagTimer = null;
    var p = E.payload;
    if (!p || !p.diagnostics || !window.Plotly || E.diagDrawn === p) return;
    E.diagDrawn = p;
    var panels = diagPanels();
    var i = 0;
    function next() {
      if (E.payload !== p) return;
      if (i >= panels.length || i >= p.diagnostics.length) {
        E.diagApplied += 1;
        return;
      }
      var gd = panels[i];
      var fig = p.diagnostics[i];
      i += 1;
      window.Plotly.react(gd, fig.data, fig.layout, {
        displaylogo: false,
        responsive: true,
        modeBarButtonsToRemove: ["lasso2d", "select2d", "toImage"],
      }).then(function () {
        if (!gd.__descentBound && gd.on) {
          gd.__descentBound = true;
          gd.on("plotly_afterplot", function () {
            diagCursor(E.k);
          });
        }
        diagCursor(E.k);
        setTimeout(next, 0);
      });
    }
    next();
  }

  // ------------------------------------------------------------------ player

  function ensureScrubber() {
    var host = byId(names().scrubber);
    if (!host) return;
    var r = byId(names().scrubberRange);
    if (!r) {
      r = document.createElement("input");
      r.type = "range";
      r.id = names().scrubberRange;
      r.min = "0";
      r.step = "1";
      r.setAttribute("aria-label", "Step");
      host.appendChild(r);
    }
    r.max = String(E.n);
    r.value = String(E.k);
  }

  function setPlaying(on) {
    E.playing = on;
    var player = byId(names().player);
    if (player) player.setAttribute("data-playing", on ? "true" : "false");
    var btn = byId(names().play);
    if (btn) btn.setAttribute("aria-pressed", on ? "true" : "false");
  }

  // playback stopped or the step was set: listeners (the spoken race summary) hear of it;
  // nothing is sent while the animation runs
  function settledAt() {
    if (E.overlay3d) draw(false); // the 3-D frame goes back into the scene, drawn with depth
    document.dispatchEvent(new CustomEvent("descentlab:settled", { detail: { k: E.k, n: E.n } }));
  }

  function tick(t) {
    if (!E.playing) return;
    var dt = Math.min(0.25, Math.max(0, (t - E.lastT) / 1000));
    E.lastT = t;
    E.acc += dt * E.speed;
    var adv = Math.floor(E.acc);
    if (adv > 0) {
      E.acc -= adv;
      E.k = Math.min(E.n, E.k + adv);
      draw(false);
    }
    if (E.k >= E.n) {
      setPlaying(false);
      updateSide(true);
      settledAt();
      return;
    }
    requestAnimationFrame(tick);
  }

  function play() {
    if (!E.payload) return;
    if (E.k >= E.n) {
      E.k = 0;
      draw(false);
    }
    setPlaying(true);
    E.acc = 0;
    E.lastT = performance.now();
    requestAnimationFrame(tick);
  }

  function pause() {
    setPlaying(false);
    updateSide(true);
    settledAt();
  }

  function toggle() {
    if (E.playing) pause();
    else play();
  }

  function seek(k) {
    if (!E.payload) return;
    if (E.playing) setPlaying(false);
    E.k = Math.max(0, Math.min(E.n, Math.round(k)));
    draw(false);
    updateSide(true);
    settledAt();
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target && ev.target.closest ? ev.target.closest("button") : null;
    if (!b || !names().play) return;
    if (b.classList.contains(names().noticeClose)) {
      var notice = byId(names().notice);
      if (notice && notice.contains(b)) notice.hidden = true;
    } else if (b.id === names().play) toggle();
    else if (b.id === names().toStart) seek(0);
    else if (b.id === names().stepBack) seek(E.k - 1);
    else if (b.id === names().stepForward) seek(E.k + 1);
  });

  document.addEventListener("input", function (ev) {
    if (ev.target && ev.target.id && ev.target.id === names().scrubberRange) seek(+ev.target.value);
  });

  document.addEventListener("change", function (ev) {
    if (ev.target && ev.target.id && ev.target.id === names().speed) E.speed = +ev.target.value || 60;
    var cross = byId(names().cross);
    if (cross && cross.contains(ev.target) && E.payload && E.payload.view !== "3d") draw(false);
  });

  // ------------------------------------------------------------------ click → start

  var nClicks = 0;

  function setStart(x, y) {
    if (typeof x !== "number" || typeof y !== "number" || !isFinite(x) || !isFinite(y)) return;
    if (!window.dash_clientside || !window.dash_clientside.set_props || !names().click) return;
    nClicks += 1;
    window.dash_clientside.set_props(names().click, { data: { x: x, y: y, n: nClicks } });
  }

  // 2-D: the map's data coordinates of a page point (null off the plot area or before a figure)
  function dataPoint(clientX, clientY) {
    var gd = graphDiv(names().map);
    var fl = gd && gd._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis || !E.payload || E.payload.view === "3d") return null;
    var box = gd.getBoundingClientRect();
    var xa = fl.xaxis;
    var ya = fl.yaxis;
    var px = clientX - box.left - xa._offset;
    var py = clientY - box.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
    return [xa.p2d(px), ya.p2d(py)];
  }

  // a drag of the start ring shows the start where the pointer is (null: back to the payload's start)
  function previewStart(pt) {
    E.startPreview = pt && isFinite(pt[0]) && isFinite(pt[1]) ? [pt[0], pt[1]] : null;
    var gd = mapReady();
    if (gd && E.payload.view !== "3d") drawCanvas(gd);
  }

  // ------------------------------------------------------------------ clientside callbacks

  function domId(id) {
    return "{" + Object.keys(id).sort().map(function (k) { return JSON.stringify(k) + ":" + JSON.stringify(id[k]); }).join(",") + "}";
  }

  // typing an exact number moves its slider, which triggers the computation
  document.addEventListener(
    "change",
    function (ev) {
      var el = ev.target;
      if (!el || el.tagName !== "INPUT" || !el.id || el.id.charAt(0) !== "{") return;
      var id;
      try {
        id = JSON.parse(el.id);
      } catch (err) {
        return;
      }
      if (!id || id.type !== names().num) return;
      // after the input's own handlers have committed the number to Dash
      setTimeout(function () {
        numberToSlider(id, el);
      }, 0);
    },
    true
  );

  function numberToSlider(id, el) {
    var v = parseFloat(el.value);
    if (!isFinite(v) || !window.dash_clientside || !window.dash_clientside.set_props) return;
    var sid = Object.assign({}, id, { type: names().slider });
    var host = document.getElementById(domId(sid));
    var thumb = host && host.querySelector('[role="slider"]');
    if (!thumb) return;
    var smin = +thumb.getAttribute("aria-valuemin");
    var smax = +thumb.getAttribute("aria-valuemax");
    var now = +thumb.getAttribute("aria-valuenow");
    var s = id.scale === "log" ? (v > 0 ? Math.log10(v) : smin) : v;
    s = Math.min(Math.max(s, smin), smax);
    if (s === now) s = s < smax ? s + (smax - smin) * 1e-9 : s - (smax - smin) * 1e-9;
    window.dash_clientside.set_props(sid, { value: s });
    commitSlider(sid);
  }

  // ------------------------------------------------------------------ settled sliders, and their fast path

  // The Explorer's server callback reads the sliders as State; it runs when this
  // file commits a settled move (key, pointer release, typed number).  A
  // hyperparameter slider's move first goes straight to the server's race
  // endpoint and is drawn at once; the commit follows, so the callback — which
  // reaches the same configuration, a cache hit — runs after the drawing instead
  // of competing with it, keeps the controls, link and notices in step, and its
  // payload replaces this one only if it differs.
  var SLIDER_KEYS = { ArrowLeft: 1, ArrowRight: 1, ArrowUp: 1, ArrowDown: 1, PageUp: 1, PageDown: 1, Home: 1, End: 1 };
  var fast = { on: true, seq: 0, last: null, loads: 0, commits: 0 };

  function requestsPrefix() {
    try {
      var cfg = JSON.parse(document.getElementById("_dash-config").textContent);
      return typeof cfg.requests_pathname_prefix === "string" ? cfg.requests_pathname_prefix : "/";
    } catch (err) {
      return "/";
    }
  }

  function sliderId(el) {
    var host = el && el.closest ? el.closest('[id^="{"]') : null;
    if (!host) return null;
    try {
      var id = JSON.parse(host.id);
      return id && id.type === names().slider ? id : null;
    } catch (err) {
      return null;
    }
  }

  function commitSlider(id) {
    if (!window.dash_clientside || !window.dash_clientside.set_props || !names().sliderCommit) return;
    fast.commits += 1;
    window.dash_clientside.set_props(names().sliderCommit, { data: { id: id, n: fast.commits } });
  }

  // true when the fast path took the move (it commits once its answer is drawn)
  function fastSlider(id, s) {
    var p = E.payload;
    if (!fast.on || id.group !== names().hyper || !window.fetch || !window.URLSearchParams) return false;
    if (!p || p.view === "3d" || typeof p.query !== "string" || !isFinite(s)) return false;
    if (p.data && !p.data.inLink) return false; // the link lacks the edited points: only the server has them
    var what = p.query + "|" + id.slot + "|" + id.key + "|" + s;
    if (what === fast.last) return true; // the same position again: nothing moved
    fast.last = what;
    var seq = ++fast.seq;
    var loads = fast.loads;
    var rev = p.index.rev;
    var args = new URLSearchParams({ q: p.query, slot: String(id.slot), key: String(id.key), s: String(s), scale: String(id.scale) });
    fetch(requestsPrefix() + names().race + "?" + args.toString(), { credentials: "same-origin" })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (out) {
        // stale: a newer move was sent, or the server callback's answer already arrived
        if (!out || !out.payload || seq !== fast.seq || loads !== fast.loads) return;
        if (!E.payload || E.payload.index.rev !== rev) return;
        out.payload.index.rev = rev;
        out.payload.fast = true;
        load(out.payload);
      })
      .catch(function () {})
      .then(function () {
        // the latest move commits, drawn or not: after the frame is painted, so Dash's work never delays it
        if (seq === fast.seq)
          requestAnimationFrame(function () {
            setTimeout(function () {
              syncNumber(id, s);
              commitSlider(id);
            }, 0);
          });
      });
    return true;
  }

  // the slider's exact number follows a move of the slider itself
  function syncNumber(id, s) {
    if (!window.dash_clientside || !window.dash_clientside.set_props) return;
    var nid = Object.assign({}, id, { type: names().num });
    var box = document.getElementById(domId(nid));
    var v = id.scale === "log" ? Math.pow(10, s) : s;
    v = id.scale === "int" || (box && box.step === "1") ? Math.round(v) : +v.toPrecision(id.scale === "log" ? 3 : 6);
    if (box && box.value !== "" && +box.value === v) return;
    window.dash_clientside.set_props(nid, { value: v });
  }

  function settled(thumb) {
    var id = sliderId(thumb);
    if (!id) return;
    var s = parseFloat(thumb.getAttribute("aria-valuenow"));
    if (fastSlider(id, s)) return;
    if (isFinite(s)) syncNumber(id, s);
    commitSlider(id);
  }

  document.addEventListener("keydown", function (ev) {
    if (!SLIDER_KEYS[ev.key] || !ev.target || !ev.target.getAttribute || !ev.target.matches('[role="slider"]')) return;
    settled(ev.target); // bubbling: the slider has already taken its new position
  });
  document.addEventListener("pointerup", function (ev) {
    var cls = names().numSlider;
    var host = cls && ev.target && ev.target.closest ? ev.target.closest("." + cls) : null;
    var thumb = host && host.querySelector('[role="slider"]');
    // after the slider's last move has rendered (a drag's moves are continuous events: React may commit
    // the final position after this release), so the thumb's aria-valuenow is where it was let go
    if (thumb) requestAnimationFrame(function () { setTimeout(function () { settled(thumb); }, 0); });
  });

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    descent: {
      clickStart: function (click) {
        var pt = click;
        if (!pt || typeof pt.x !== "number" || typeof pt.y !== "number" || !isFinite(pt.x) || !isFinite(pt.y))
          return [noUpdate(), noUpdate()];
        var b = E.payload && E.payload.bounds;
        var span = b ? Math.max(b[0][1] - b[0][0], b[1][1] - b[1][0]) : 10;
        var dec = Math.max(0, Math.min(8, 3 - Math.floor(Math.log10(span))));
        return [+pt.x.toFixed(dec), +pt.y.toFixed(dec)];
      },

      loadPayload: function (p) {
        try {
          fast.loads += 1;
          // the fast path already drew this very configuration: keep it
          if (p && E.payload && E.payload.fast && p.query === E.payload.query && p.index && p.index.rev === E.payload.index.rev) {
            E.payload.fast = false;
            return noUpdate();
          }
          // a newer payload may already be loaded (the first-page payload can arrive late)
          if (p && p.v === 1 && p.index && Array.isArray(p.slots) && !(E.payload && p.index.rev === names().pageRev && E.payload.index.rev !== names().pageRev)) load(p);
        } catch (err) {
          if (window.console) console.error("Descent Lab: could not load the trajectories", err);
        }
        return noUpdate();
      }
    },
  });

  // a small read-only view for tests and benchmarks
  window.DescentLab = {
    state: function () {
      var runs = Object.keys(E.byColor).map(function (c) {
        var s = E.byColor[c];
        return { color: s.color, len: s.len, status: s.status, start: [s.x[0], s.y[0]], last: [s.x[s.len - 1], s.y[s.len - 1]] };
      });
      return {
        k: E.k,
        n: E.n,
        playing: E.playing,
        applied: E.applied,
        appliedAt: E.appliedAt,
        query: E.payload && typeof E.payload.query === "string" ? E.payload.query : null, // the link of what is shown
        view: E.payload ? E.payload.view : null,
        diagnostics: E.diagApplied,
        slots: runs, // the runs, by colour (the benchmarks read this key)
      };
    },
    // what the last 2-D frame drew: step, trail lengths, ball positions, end labels (by colour),
    // the arrows' label boxes (canvas pixels)
    drawn: function () {
      return E.lastDrawn ? JSON.parse(JSON.stringify(E.lastDrawn)) : null;
    },
    // page coordinates of the data point (x, y) on the 2-D map
    pagePoint: function (x, y) {
      var gd = graphDiv(names().map);
      var m = gd && axisMap(gd);
      if (!m) return null;
      var r = gd.getBoundingClientRect();
      return [r.left + m.X(x), r.top + m.Y(y)];
    },
    seek: seek,
    play: play,
    pause: pause,
    toggle: toggle,
    // where the map's plot area maps a page point, the start, and the start-ring drag's preview
    dataPoint: dataPoint,
    start: function () {
      return E.payload && E.payload.start ? [E.payload.start[0], E.payload.start[1]] : null;
    },
    setStart: setStart,
    previewStart: previewStart,
    // one sentence on the race at step k, for screen readers
    summary: raceSummary,
    // benchmarks compare the slider's fast path with the plain Dash round trip
    setFastPath: function (on) {
      fast.on = !!on;
    },
  };
})();
