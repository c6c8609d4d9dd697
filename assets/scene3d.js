/*
 * Descent Lab: fast point updates of the Explorer's 3-D scene.
 *
 * window.DescentScene3d.restyle(gd, data, traces) does what
 *   Plotly.restyle(gd, {x: [...], y: [...], z: [...], text: [...]}, traces)
 * does for scatter3d traces (data[i] = {x, y, z, text?} for trace index traces[i]; x, y, z plain or
 * typed arrays, text [] when absent) and returns a promise that resolves once the scene shows
 * those points.
 *
 * Why: Plotly.restyle runs supplyDefaults and calc for every trace and then the gl3d scene's plot,
 * which re-converts every trace's WebGL objects, the big surface included, on every frame of a
 * playback.  Here only the given traces change: their entries in gd.data and gd._fullData (and
 * calcdata's text) are updated as supplyDefaults would leave them, and the scene's own plot
 * routine is run once, with the objects of the other traces skipped (their update is a no-op for
 * that call), so bounds, axis ranges, new or emptied traces, the drawing order and the redraw are
 * plotly's own.  Skipping is only right while the scene's data scale stays the same (every WebGL
 * position is stored scaled): when the new points move the data bounds, the scene is plotted
 * again in full.  A later Plotly.react, relayout, camera move or hover sees the new points,
 * because gd.data and gd._fullData hold them.  An object whose full trace plotly replaced without plotting
 * (a camera relayout or a resize runs supplyDefaults and no scene plot) is converted like the others, once,
 * at the next call.
 *
 * In software WebGL (SwiftShader, 1280 x 800) this takes one update from ~30-65 ms to ~5-8 ms; what is
 * left of a frame is the scene's own drawing of the surface, ~70-110 ms at plotly's pixel ratio 2
 * (bench/bench_3d_playback.py).
 *
 * Whenever this fast path is not available (no gl3d scene, not a scatter3d trace, a trace that
 * had no points when plotly last supplied its defaults, plotly internals not as expected, an
 * error on the way), the call falls back to Plotly.restyle with plain-array copies: it never
 * throws; a failure is a rejected promise.  No plotly_restyle or plotly_afterplot event is
 * emitted on the fast path.
 *
 * DescentScene3d.stats counts the calls by path (for benchmarks and tests).
 */
(function () {
  "use strict";

  var stats = { fast: 0, rescaled: 0, fallback: 0, reasons: {} };

  function isArrayLike(v) {
    return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
  }

  function skip() {}

  function sameScale(a, b) {
    if (!a || !b || a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  // what explorer.js has always passed to Plotly.restyle: plain-array copies, text [] when absent
  function fallback(gd, data, traces, reason) {
    stats.fallback += 1;
    stats.reasons[reason] = (stats.reasons[reason] || 0) + 1;
    try {
      var upd = { x: [], y: [], z: [], text: [] };
      for (var i = 0; i < data.length; i++) {
        var d = data[i] || {};
        upd.x.push(Array.from(d.x || []));
        upd.y.push(Array.from(d.y || []));
        upd.z.push(Array.from(d.z || []));
        upd.text.push(d.text || []);
      }
      return Promise.resolve(window.Plotly.restyle(gd, upd, traces));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // the plan of a fast update, or a string saying why there is none; changes nothing
  function plan(gd, data, traces) {
    if (!window.Plotly || !gd || !Array.isArray(gd.data) || !Array.isArray(gd._fullData) || !gd._fullLayout) return "no figure";
    if (!Array.isArray(data) || !Array.isArray(traces) || data.length !== traces.length) return "arguments";
    if (gd._fullData.length !== gd.data.length) return "trace count";
    var scenes = {};
    var items = [];
    var seen = {};
    for (var i = 0; i < traces.length; i++) {
      var t = traces[i];
      if (typeof t !== "number" || t < 0 || t >= gd.data.length || t !== Math.floor(t) || seen[t]) return "trace index";
      seen[t] = true;
      var input = gd.data[t];
      var full = gd._fullData[t];
      if (!input || !full || full._input !== input || full.index !== t) return "trace index";
      if (full.type !== "scatter3d" || input.type !== "scatter3d") return "not scatter3d";
      var d = data[i];
      if (!d || !isArrayLike(d.x) || !isArrayLike(d.y) || !isArrayLike(d.z)) return "data";
      if (d.text !== undefined && !Array.isArray(d.text)) return "data";
      var vis = input.visible === undefined ? true : input.visible;
      if (vis !== true && vis !== false && vis !== "legendonly") return "visible";
      var n = Math.min(d.x.length, d.y.length, d.z.length);
      // a trace that had no points when plotly supplied its defaults has none of its styles
      if (n > 0 && vis === true && (full.mode === undefined || !full._module)) return "no defaults";
      var sceneId = full.scene;
      var sceneLayout = sceneId ? gd._fullLayout[sceneId] : null;
      var scene = sceneLayout && sceneLayout._scene;
      if (!scene || typeof scene.plot !== "function" || !scene.traces || !scene.glplot || !Array.isArray(scene.plotArgs)) return "no scene";
      if (scene.glplot.contextLost || !isArrayLike(scene.dataScale)) return "no scene";
      if (!scenes[sceneId]) scenes[sceneId] = { id: sceneId, scene: scene, uids: {} };
      if (full.uid === undefined) return "uid";
      scenes[sceneId].uids[full.uid] = true;
      items.push({ t: t, input: input, full: full, d: d, n: n, visible: n > 0 ? vis : false });
    }
    return { items: items, scenes: scenes };
  }

  function apply(gd, items) {
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      var text = it.d.text || [];
      it.input.x = it.d.x;
      it.input.y = it.d.y;
      it.input.z = it.d.z;
      it.input.text = text;
      var full = it.full;
      full.x = it.d.x;
      full.y = it.d.y;
      full.z = it.d.z;
      full.text = text;
      full.visible = it.visible;
      full._length = full._xlength = full._ylength = full._zlength = it.n;
      // calc's per-point text (scatter3d's calcdata is a single point: see arraysToCalcdata)
      var cd = gd.calcdata && gd.calcdata[it.t];
      if (cd && cd[0] && cd[0].trace === full) {
        if (text.length) cd[0].tx = text[0];
        else delete cd[0].tx;
      }
    }
  }

  // the scene's plot routine with the objects of the traces not in `uids` left as they are
  function plotScene(gd, entry) {
    var scene = entry.scene;
    var sceneData = gd._fullData.filter(function (tr) {
      return tr.scene === entry.id;
    });
    var byUid = {};
    sceneData.forEach(function (tr) {
      byUid[tr.uid] = tr;
    });
    var skipped = [];
    Object.keys(scene.traces).forEach(function (uid) {
      var obj = scene.traces[uid];
      // skip only an object that already shows this very full trace (one that plotly replaced since, e.g. after a
      // relayout's supplyDefaults, is updated like any other: once)
      if (entry.uids[uid] || !obj || byUid[uid] === undefined || obj.data !== byUid[uid]) return;
      skipped.push([obj, Object.prototype.hasOwnProperty.call(obj, "update"), obj.update]);
      obj.update = skip;
    });
    var before = Array.prototype.slice.call(scene.dataScale);
    try {
      scene.plot(sceneData, gd._fullLayout, gd.layout);
    } finally {
      for (var i = 0; i < skipped.length; i++) {
        if (skipped[i][1]) skipped[i][0].update = skipped[i][2];
        else delete skipped[i][0].update;
      }
    }
    if (skipped.length && !sameScale(before, scene.dataScale)) {
      // the new points moved the data bounds: every object's scaled positions change
      stats.rescaled += 1;
      scene.plot(sceneData, gd._fullLayout, gd.layout);
    }
  }

  function restyle(gd, data, traces) {
    var p;
    try {
      p = plan(gd, data, traces);
    } catch (err) {
      p = "internals";
    }
    if (typeof p === "string") return fallback(gd, data, traces, p);
    try {
      apply(gd, p.items);
      Object.keys(p.scenes).forEach(function (id) {
        plotScene(gd, p.scenes[id]);
      });
    } catch (err) {
      if (window.console) console.warn("Descent Lab: the fast 3-D update failed, using Plotly.restyle", err);
      return fallback(gd, data, traces, "error");
    }
    stats.fast += 1;
    return Promise.resolve();
  }

  window.DescentScene3d = { restyle: restyle, stats: stats };
})();
