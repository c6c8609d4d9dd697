/*
 * Descent Lab Explorer: the curvature cross at each ball on the 2-D map.
 *
 * At step k the two eigen-directions of the exact Hessian H(θ_k) are drawn as a cross centred on the
 * run's ball; each arm's half-length is c/√|λ| clamped to [lo, hi] (data units; the payload's "cross"
 * constants, the rule of app/explorer/curvature_panel.py), and an arm is dashed where λ < 0 (a saddle's
 * escape direction).  The per-run arrays (lmin, lmax and the angle of v_max, float32 base64, every step)
 * travel in the payload's slots; a row whose Hessian was not finite carries the angle "none" and draws
 * nothing.  explorer.js calls DescentCurvature.draw from its canvas frame (this file loads first and only
 * defines the object; it looks nothing up in the page).
 */
(function () {
  "use strict";

  var cache = typeof WeakMap === "function" ? new WeakMap() : null;

  function decode32(b64) {
    if (!b64) return null;
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }

  function arrays(slot) {
    var hit = cache && cache.get(slot);
    if (hit) return hit;
    var out = { lmin: decode32(slot.lmin), lmax: decode32(slot.lmax), ang: decode32(slot.ang) };
    if (cache) cache.set(slot, out);
    return out;
  }

  function half(lam, rule) {
    var a = Math.abs(lam);
    var raw = a > 0 && isFinite(a) ? rule.c / Math.sqrt(a) : Infinity;
    return Math.min(Math.max(raw, rule.lo), rule.hi);
  }

  // the arms at row j of a slot: [{lam, half, dashed, dir}] (min first), or null where there is no Hessian
  function arms(slot, j, rule) {
    var a = arrays(slot);
    if (!a.ang || j >= a.ang.length || a.ang[j] > 4) return null;
    var cx = Math.cos(a.ang[j]);
    var sy = Math.sin(a.ang[j]);
    return [
      { lam: a.lmin[j], half: half(a.lmin[j], rule), dashed: a.lmin[j] < 0, dir: [-sy, cx] },
      { lam: a.lmax[j], half: half(a.lmax[j], rule), dashed: a.lmax[j] < 0, dir: [cx, sy] },
    ];
  }

  // draw every run's cross at step k on the canvas (X, Y: data → canvas pixels); returns what was drawn
  // by colour: {centre: [x, y], arms: [...]} (the tests read it through DescentLab.drawn())
  function draw(ctx, X, Y, p, byColor, k, palette) {
    var drawn = {};
    var rule = p.cross;
    if (!rule || !p.slots) return drawn;
    p.slots.forEach(function (slot) {
      var s = byColor[slot.color];
      if (!s || !slot.ang) return;
      var j = Math.min(k, s.len - 1);
      if (s.end && k >= s.len - 1) return; // the run ended: an end marker, no ball
      var list = arms(slot, j, rule);
      if (!list) return;
      var x = s.x[j];
      var y = s.y[j];
      list.forEach(function (arm) {
        var dx = arm.dir[0] * arm.half;
        var dy = arm.dir[1] * arm.half;
        var x0 = X(x - dx), y0 = Y(y - dy), x1 = X(x + dx), y1 = Y(y + dy);
        ctx.setLineDash(arm.dashed ? [6, 4] : []);
        ctx.strokeStyle = "rgba(255,255,255,0.85)";
        ctx.lineWidth = 4;
        ctx.beginPath();
        ctx.moveTo(x0, y0);
        ctx.lineTo(x1, y1);
        ctx.stroke();
        ctx.strokeStyle = palette[slot.color] || "#333";
        ctx.lineWidth = 1.8;
        ctx.beginPath();
        ctx.moveTo(x0, y0);
        ctx.lineTo(x1, y1);
        ctx.stroke();
      });
      ctx.setLineDash([]);
      drawn[slot.color] = { centre: [x, y], step: j, arms: list };
    });
    return drawn;
  }

  window.DescentCurvature = { draw: draw, arms: arms };
})();
