/*
 * Descent Lab: the Explorer's 3-D playback drawn on a 2-D canvas over the WebGL scene.
 *
 * While a race plays in the 3-D view, redrawing the WebGL scene costs every frame its surface
 * (70-110 ms in software WebGL, bench/bench_3d_playback.py), whatever the update does.  So during
 * playback the scene stays still, its moving traces emptied, and this canvas draws the paths, balls,
 * end markers and arrows at step k, each point projected with the scene's camera as it is in that
 * frame (a rotation while playing is followed).  There is no depth test: a path behind a hill is
 * drawn over it while it moves.  When playback stops, explorer.js clears this canvas and puts the
 * points back into the WebGL traces (DescentScene3d.restyle), drawn with depth again.
 *
 * window.DescentScene3dOverlay:
 *   draw(gd, data, traces, look) -> bool   data[i] = {x, y, z, text?} for trace traces[i] (the
 *       restyle contract); look = {scale, color(hex), ink, halo} (the page's theme); false when the
 *       scene's camera is not available (the caller then restyles instead)
 *   clear(gd)                              empties the canvas
 *   drawn()                                what the last draw put where (for tests): counts of
 *       paths, balls, ends, arrows, and each ball's canvas position
 */
(function () {
  "use strict";

  var CLASS = "scene3d-overlay";
  var last = null;

  function scene(gd) {
    var fl = gd && gd._fullLayout;
    var sc = fl && fl.scene && fl.scene._scene;
    var gp = sc && sc.glplot;
    return gp && gp.canvas && gp.cameraParams && sc.dataScale ? sc : null;
  }

  function canvasOver(gl) {
    var host = gl.parentNode;
    var cv = host.querySelector("canvas." + CLASS);
    if (!cv) {
      cv = document.createElement("canvas");
      cv.className = CLASS;
      cv.setAttribute("aria-hidden", "true");
      cv.style.cssText = "position:absolute;left:0;top:0;pointer-events:none";
      host.appendChild(cv);
    }
    var w = gl.clientWidth;
    var h = gl.clientHeight;
    var dpr = window.devicePixelRatio || 1;
    if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) {
      cv.width = Math.round(w * dpr);
      cv.height = Math.round(h * dpr);
      cv.style.width = w + "px";
      cv.style.height = h + "px";
    }
    cv.style.left = gl.offsetLeft + "px";
    cv.style.top = gl.offsetTop + "px";
    var ctx = cv.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return { ctx: ctx, w: w, h: h };
  }

  // data (x, y, z) → canvas pixels: the WebGL objects' scaled positions through model, view and
  // projection (column-major 4 × 4), then the viewport
  function projector(sc, w, h) {
    var cam = sc.glplot.cameraParams;
    var ds = sc.dataScale;
    var mats = [cam.model, cam.view, cam.projection];
    return function (x, y, z) {
      var p0 = x * ds[0];
      var p1 = y * ds[1];
      var p2 = z * ds[2];
      var p3 = 1;
      for (var k = 0; k < 3; k++) {
        var m = mats[k];
        var q0 = m[0] * p0 + m[4] * p1 + m[8] * p2 + m[12] * p3;
        var q1 = m[1] * p0 + m[5] * p1 + m[9] * p2 + m[13] * p3;
        var q2 = m[2] * p0 + m[6] * p1 + m[10] * p2 + m[14] * p3;
        var q3 = m[3] * p0 + m[7] * p1 + m[11] * p2 + m[15] * p3;
        p0 = q0;
        p1 = q1;
        p2 = q2;
        p3 = q3;
      }
      if (!(p3 > 0)) return null; // behind the camera
      return [((p0 / p3 + 1) / 2) * w, ((1 - p1 / p3) / 2) * h];
    };
  }

  function colorOf(full, look) {
    var c = (full.line && full.line.color) || (full.marker && full.marker.color) || "#333";
    return typeof c === "string" ? look.color(c) : "#333";
  }

  function draw(gd, data, traces, look) {
    var sc = scene(gd);
    if (!sc || !gd._fullData) return false;
    var o = canvasOver(sc.glplot.canvas);
    var ctx = o.ctx;
    var P = projector(sc, o.w, o.h);
    var s = look.scale || 1;
    var record = { paths: 0, balls: [], ends: 0, arrows: 0 };
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    var later = []; // balls and markers over every path
    for (var i = 0; i < data.length; i++) {
      var d = data[i];
      var full = gd._fullData[traces[i]];
      var n = d && full ? Math.min(d.x.length, d.y.length, d.z.length) : 0;
      if (!n) continue;
      var col = colorOf(full, look);
      if (n === 1) {
        later.push([P(d.x[0], d.y[0], d.z[0]), col, d.text && d.text[0]]);
        continue;
      }
      var arrow = n === 2 && d.text && d.text[1];
      ctx.strokeStyle = col;
      ctx.lineWidth = (arrow ? 2.2 : 3) * s;
      ctx.beginPath();
      var open = false;
      for (var j = 0; j < n; j++) {
        var p = P(d.x[j], d.y[j], d.z[j]);
        if (!p) {
          open = false;
          continue;
        }
        if (open) ctx.lineTo(p[0], p[1]);
        else ctx.moveTo(p[0], p[1]);
        open = true;
      }
      ctx.stroke();
      if (arrow) {
        record.arrows += 1;
        var tip = P(d.x[1], d.y[1], d.z[1]);
        if (tip) {
          ctx.fillStyle = look.ink;
          ctx.font = "600 " + Math.round(13 * Math.sqrt(s)) + "px system-ui, sans-serif";
          ctx.fillText(d.text[1], tip[0] + 6, tip[1] - 6);
        }
      } else record.paths += 1;
    }
    later.forEach(function (m) {
      var at = m[0];
      if (!at) return;
      if (m[2]) { // an end marker: a cross and its message
        record.ends += 1;
        ctx.strokeStyle = m[1];
        ctx.lineWidth = 3 * s;
        ctx.beginPath();
        ctx.moveTo(at[0] - 7, at[1] - 7);
        ctx.lineTo(at[0] + 7, at[1] + 7);
        ctx.moveTo(at[0] + 7, at[1] - 7);
        ctx.lineTo(at[0] - 7, at[1] + 7);
        ctx.stroke();
        ctx.fillStyle = look.ink;
        ctx.font = "600 " + Math.round(13 * Math.sqrt(s)) + "px system-ui, sans-serif";
        ctx.fillText(String(m[2]), at[0] + 9, at[1] - 9);
        return;
      }
      record.balls.push([at[0], at[1]]);
      ctx.fillStyle = m[1];
      ctx.strokeStyle = look.halo;
      ctx.lineWidth = 2 * s;
      ctx.beginPath();
      ctx.arc(at[0], at[1], 6 * Math.sqrt(s), 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    });
    last = record;
    return true;
  }

  function clear(gd) {
    var sc = scene(gd);
    var host = sc ? sc.glplot.canvas.parentNode : null;
    var cv = host ? host.querySelector("canvas." + CLASS) : null;
    if (cv) cv.getContext("2d").clearRect(0, 0, cv.width, cv.height);
    last = null;
  }

  window.DescentScene3dOverlay = {
    draw: draw,
    clear: clear,
    drawn: function () {
      return last ? JSON.parse(JSON.stringify(last)) : null;
    },
  };
})();
