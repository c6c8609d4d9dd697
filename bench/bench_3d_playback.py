"""3-D playback benchmark in headless Chromium on localhost (a script, not a test).

Opens the Explorer's 3-D view (``/?view=3d``, the default race: 6 optimizers × 500 steps on
Beale) and plays the trajectories from step 0 to the last, frame after frame, from inside the
page, the way the animation engine's 3-D frames do (``draw3d`` in assets/explorer.js: per
colour the path trimmed to step k, the ball at step k and the end marker; the three arrows at
the first run's step k), through two ways of updating the scene:

  a. ``Plotly.restyle`` with plain-array copies (what explorer.js's ``restyle3d`` does today);
  b. ``DescentScene3d.restyle`` (assets/scene3d.js) with the typed-array views themselves;
  c. the same with the scene's WebGL canvas at pixel ratio 1 instead of plotly's default 2 while
     playing (an alternative: in software rendering the surface's drawing, not the update, bounds
     the frame rate, and it grows with the canvas's pixels);
  d. a sketch of the other alternative: no WebGL update at all while playing, the moving traces
     drawn on a 2-D canvas over the scene, projected with its camera (no depth test against the
     surface: paths behind a hill would show).

Each frame waits for the update's promise and then for the next animation frame (so it was
shown), as the engine's one-update-in-flight loop does.  Runs of the kinds alternate, so all see
the same machine.  Printed per kind: frames per second, the mean time of one update and the
longest task (PerformanceObserver 'longtask'), as medians over the runs, then the ratios.  The
browser renders WebGL in software (SwiftShader), like a classroom laptop without a GPU driver.
Then the animation engine's own playback (Play, from step 0 to the last) is timed three ways: as
shipped (the overlay canvas of assets/scene3d_overlay.js while playing), with DescentScene3d.restyle
every frame, and with Plotly.restyle every frame (before both), counting its frames.  No assertion on time: the figures are
printed.

    NUMBA_CACHE_DIR=.numba_cache .venv/bin/python bench/bench_3d_playback.py [--runs 5] [--frames 150]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile

# the server and browser helpers of the Explorer's benchmark (this directory is on sys.path when a script in it runs)
from bench_explorer import CHROMIUM, CHROMIUM_ARGS, free_port, start_server, stop, wait_http

#: the page's 3-D figure, once its scene exists
SCENE_READY = """() => [...document.querySelectorAll('.js-plotly-plot')].some(
  (g) => g._fullLayout && g._fullLayout.scene && g._fullLayout.scene._scene && g._fullData && g._fullData.length > 6)"""

#: window.__b3d: the frames draw3d would build, and a player that times them
SETUP = """() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(
    (g) => g._fullLayout && g._fullLayout.scene && g._fullLayout.scene._scene);
  // the figure's trace positions (app/explorer/figures.py TRACE_INDEX): background, minima, start,
  // then per colour a path, a ball, an end marker; three arrows; per colour an averaged path
  const C = (gd.data.length - 6) / 4;
  const idx = {path: 3, ball: 3 + C, end: 3 + 2 * C, arrow: 3 + 3 * C};
  // the trajectories, as the figure first drew them (the whole paths)
  const runs = [];
  for (let c = 0; c < C; c++) {
    const f = gd._fullData[idx.path + c];
    if (f && f.visible === true && f._length > 1) {
      runs.push({c: c, len: f._length, x: Float64Array.from(f.x), y: Float64Array.from(f.y), z: Float64Array.from(f.z)});
    }
  }
  const n = Math.max(...runs.map((r) => r.len)) - 1;
  const xr = gd._fullLayout.scene.xaxis.range, yr = gd._fullLayout.scene.yaxis.range;
  const L = 0.09 * Math.max(xr[1] - xr[0], yr[1] - yr[0]);
  const empty = () => ({x: [], y: [], z: [], text: []});
  // the frame at step k: what draw3d passes to restyle3d (the arrows point along the first run's next
  // step and at ±45° from it: the same shapes as −∇f, momentum and Δθ)
  function frame(k) {
    const data = [], traces = [];
    for (const s of runs) {
      const j = Math.min(k, s.len - 1);
      data.push({x: s.x.subarray(0, j + 1), y: s.y.subarray(0, j + 1), z: s.z.subarray(0, j + 1)},
                {x: [s.x[j]], y: [s.y[j]], z: [s.z[j]]}, empty());
      traces.push(idx.path + s.c, idx.ball + s.c, idx.end + s.c);
    }
    const s = runs[0];
    const i = Math.min(k, s.len - 2);
    const dx = s.x[i + 1] - s.x[i], dy = s.y[i + 1] - s.y[i];
    const base = Math.atan2(dy, dx);
    const labels = ['−∇f', 'momentum', 'Δθ'];
    for (let v = 0; v < 3; v++) {
      const a = base + (v - 1) * Math.PI / 4;
      const px = s.x[i], py = s.y[i], pz = s.z[i];
      data.push({x: [px, px + L * Math.cos(a)], y: [py, py + L * Math.sin(a)], z: [pz, pz], text: ['', labels[v]]});
      traces.push(idx.arrow + v);
    }
    return {data: data, traces: traces};
  }
  // explorer.js's restyle3d today
  function viaRestyle(data, traces) {
    const upd = {x: [], y: [], z: [], text: []};
    data.forEach((d) => {
      upd.x.push(Array.from(d.x));
      upd.y.push(Array.from(d.y));
      upd.z.push(Array.from(d.z || []));
      upd.text.push(d.text || []);
    });
    return Plotly.restyle(gd, upd, traces);
  }
  function viaScene3d(data, traces) {
    return DescentScene3d.restyle(gd, data, traces);
  }
  // the alternative sketched: the moving traces on a 2-D canvas over the scene's static WebGL canvas, each
  // point projected with the scene's camera (model, view, projection; positions scaled like the WebGL
  // objects'); no depth test against the surface
  const sc = gd._fullLayout.scene._scene;
  let overlay = null;
  function overlayContext() {
    const gl = sc.glplot.canvas;
    if (!overlay) {
      overlay = document.createElement('canvas');
      overlay.style.cssText = 'position:absolute;left:0;top:0;pointer-events:none';
      gl.parentNode.appendChild(overlay);
    }
    const w = gl.clientWidth, h = gl.clientHeight, dpr = window.devicePixelRatio || 1;
    if (overlay.width !== Math.round(w * dpr) || overlay.height !== Math.round(h * dpr)) {
      overlay.width = Math.round(w * dpr);
      overlay.height = Math.round(h * dpr);
      overlay.style.width = w + 'px';
      overlay.style.height = h + 'px';
    }
    const ctx = overlay.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return {ctx: ctx, w: w, h: h};
  }
  function projector(w, h) {
    const cp = sc.glplot.cameraParams, ds = sc.dataScale;
    const M = [cp.model, cp.view, cp.projection];
    return (x, y, z) => {
      let p = [x * ds[0], y * ds[1], z * ds[2], 1];
      for (const m of M) {
        const q = [0, 0, 0, 0];
        for (let i = 0; i < 4; i++) q[i] = m[i] * p[0] + m[4 + i] * p[1] + m[8 + i] * p[2] + m[12 + i] * p[3];
        p = q;
      }
      return [(p[0] / p[3] + 1) / 2 * w, (1 - p[1] / p[3]) / 2 * h];
    };
  }
  function viaOverlay(data, traces) {
    const o = overlayContext(), ctx = o.ctx, P = projector(o.w, o.h);
    data.forEach((d, i) => {
      const n = Math.min(d.x.length, d.y.length, d.z.length);
      if (!n) return;
      const colour = gd._fullData[traces[i]].line ? gd._fullData[traces[i]].line.color : '#333';
      if (n === 1) {
        const [px, py] = P(d.x[0], d.y[0], d.z[0]);
        ctx.fillStyle = (gd._fullData[traces[i]].marker || {}).color || colour;
        ctx.beginPath(); ctx.arc(px, py, 6, 0, 2 * Math.PI); ctx.fill();
        return;
      }
      ctx.strokeStyle = colour; ctx.lineWidth = n === 2 ? 2 : 3;
      ctx.beginPath();
      for (let j = 0; j < n; j++) {
        const [px, py] = P(d.x[j], d.y[j], d.z[j]);
        if (j) ctx.lineTo(px, py); else ctx.moveTo(px, py);
      }
      ctx.stroke();
      if (d.text && d.text[n - 1]) {
        const [px, py] = P(d.x[n - 1], d.y[n - 1], d.z[n - 1]);
        ctx.fillStyle = '#1a1a1a'; ctx.font = '600 13px sans-serif'; ctx.fillText(d.text[n - 1], px + 6, py - 6);
      }
    });
    return Promise.resolve();
  }
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  // play `frames` frames from step 0 to step n; each waits for its update, then for the next animation frame
  async function play(kind, frames) {
    const fn = kind === 'restyle' ? viaRestyle : kind === 'overlay' ? viaOverlay : viaScene3d;
    const glplot = gd._fullLayout.scene._scene.glplot;
    const ratio = glplot.pixelRatio;
    if (kind === 'scene3d_pr1') glplot.pixelRatio = 1;  // the canvas at CSS pixels while playing
    await fn(...Object.values(frame(0)));  // the first frame outside the timing (a trace may go from empty to drawn)
    await nextFrame();
    const longTasks = [];
    const obs = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
    obs.observe({entryTypes: ['longtask']});
    let busy = 0;
    const t0 = performance.now();
    for (let f = 1; f <= frames; f++) {
      const fr = frame(Math.round(f * n / frames));
      const u0 = performance.now();
      await fn(fr.data, fr.traces);
      busy += performance.now() - u0;
      await nextFrame();
    }
    const elapsed = performance.now() - t0;
    await nextFrame();
    await new Promise((resolve) => setTimeout(resolve, 50));  // the observer's last entries
    obs.takeRecords().forEach((e) => longTasks.push(e.duration));
    obs.disconnect();
    glplot.pixelRatio = ratio;
    glplot.redraw();
    if (overlay) overlay.getContext('2d').clearRect(0, 0, overlay.width, overlay.height);
    return {fps: frames / (elapsed / 1000), updateMs: busy / frames, longestTask: Math.max(0, ...longTasks),
            longTasks: longTasks.length};
  }
  window.__b3d = {play: play, frame: frame, viaScene3d: viaScene3d, viaOverlay: viaOverlay};
  return {runs: runs.length, n: n, traces: frame(0).traces.length};
}"""


#: the animation engine's own playback (Play from step 0 until it stops), as shipped ("overlay": the moving traces on
#: assets/scene3d_overlay.js's canvas while playing) and with its 3-D frames sent to the scene instead: "scene3d"
#: (the overlay switched off: DescentScene3d.restyle every frame) and "restyle" (Plotly.restyle with copies, as
#: before both).  A frame is an animation frame in which the step k moved (each such tick draws once).
ENGINE = """async (mode) => {
  const overlay = window.DescentScene3dOverlay, fast = DescentScene3d.restyle;
  if (mode !== 'overlay') window.DescentScene3dOverlay = undefined;
  if (mode === 'restyle') DescentScene3d.restyle = (g, data, traces) => Plotly.restyle(g, {
    x: data.map((d) => Array.from(d.x)), y: data.map((d) => Array.from(d.y)), z: data.map((d) => Array.from(d.z || [])),
    text: data.map((d) => d.text || [])}, traces);
  DescentLab.seek(0);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const longTasks = [];
  const obs = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
  obs.observe({entryTypes: ['longtask']});
  let frames = 0, lastK = 0, running = true;
  const sample = () => {
    const k = DescentLab.state().k;
    if (k !== lastK) { frames += 1; lastK = k; }
    if (running) requestAnimationFrame(sample);
  };
  const t0 = performance.now();
  DescentLab.play();
  requestAnimationFrame(sample);
  while (DescentLab.state().playing && performance.now() - t0 < 30000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const elapsed = performance.now() - t0;
  running = false;
  await new Promise((resolve) => setTimeout(resolve, 50));
  obs.takeRecords().forEach((e) => longTasks.push(e.duration));
  obs.disconnect();
  window.DescentScene3dOverlay = overlay;
  DescentScene3d.restyle = fast;
  return {fps: frames / (elapsed / 1000), frames: frames, seconds: elapsed / 1000, longestTask: Math.max(0, ...longTasks),
          longTasks: longTasks.length};
}"""


ENGINE_MODES = {
    "overlay": "as shipped (the overlay canvas while playing)",
    "scene3d": "DescentScene3d.restyle every frame",
    "restyle": "Plotly.restyle every frame (before)",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="playbacks of each kind (default 5)")
    parser.add_argument("--frames", type=int, default=150, help="frames per playback, step 0 to the last (default 150)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    stores = tempfile.mkdtemp(prefix="descent-lab-bench-3d-")
    server = start_server(port, stores)
    try:
        wait_http(url, 120)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url + "?view=3d")
            page.wait_for_function("window.DescentLab && DescentLab.state().applied >= 1", timeout=120_000)
            page.wait_for_function(SCENE_READY, timeout=60_000)
            page.wait_for_function("!!window.DescentScene3d", timeout=10_000)
            page.evaluate("DescentLab.pause()")  # the engine's own frames stay out of the timing
            info = page.evaluate(SETUP)
            print(f"3-D view, {info['runs']} runs × {info['n']} steps; {info['traces']} traces updated per frame, "
                  f"{args.frames} frames per playback, {args.runs} playbacks of each kind (alternating)")  # fmt: skip
            kinds = {
                "restyle": "Plotly.restyle (today)",
                "scene3d": "DescentScene3d.restyle",
                "scene3d_pr1": "DescentScene3d.restyle, WebGL canvas at pixel ratio 1 instead of 2 while playing",
                "overlay": "a sketch: the moving traces on a 2-D canvas over the static WebGL scene",
            }
            results: dict[str, list[dict]] = {k: [] for k in kinds}
            page.evaluate(f"__b3d.play('scene3d', {min(args.frames, 30)})")  # warm-up of both
            page.evaluate(f"__b3d.play('restyle', {min(args.frames, 30)})")
            before = page.evaluate("JSON.parse(JSON.stringify(DescentScene3d.stats))")
            for _ in range(max(1, args.runs)):
                for kind in kinds:
                    results[kind].append(page.evaluate(f"__b3d.play('{kind}', {args.frames})"))
            after = page.evaluate("JSON.parse(JSON.stringify(DescentScene3d.stats))")
            engine: dict[str, list[dict]] = {m: [] for m in ENGINE_MODES}
            for _ in range(max(1, args.runs)):
                for mode in ENGINE_MODES:
                    engine[mode].append(page.evaluate(ENGINE, mode))
            browser.close()
    finally:
        stop(server)
        shutil.rmtree(stores, ignore_errors=True)

    med: dict[str, dict[str, float]] = {}
    for kind, label in kinds.items():
        runs = results[kind]
        med[kind] = {
            key: statistics.median(r[key] for r in runs) for key in ("fps", "updateMs", "longestTask", "longTasks")
        }
        m = med[kind]
        fps = ", ".join(f"{r['fps']:.1f}" for r in runs)
        print(f"{label}:")
        print(f"  frames per second: {m['fps']:6.1f}  (runs: {fps})   (target ≥ 30)")
        print(f"  one update:        {m['updateMs']:6.1f} ms (mean over a playback; median of the runs)")
        print(f"  longest task:      {m['longestTask']:6.0f} ms   long tasks per playback: {m['longTasks']:.0f}")
    a, b = med["restyle"], med["scene3d"]
    print(f"ratio DescentScene3d / Plotly.restyle: fps × {b['fps'] / a['fps']:.1f}, "
          f"update time × {b['updateMs'] / a['updateMs']:.3f}, longest task × {b['longestTask'] / max(a['longestTask'], 1e-9):.2f}")  # fmt: skip
    fast = after["fast"] - before["fast"]
    c = med["scene3d_pr1"]
    o = med["overlay"]
    print(f"ratio at pixel ratio 1 / Plotly.restyle: fps × {c['fps'] / a['fps']:.1f}; "
          f"2-D overlay / Plotly.restyle: fps × {o['fps'] / a['fps']:.1f}")  # fmt: skip
    print(f"DescentScene3d calls in the timed playbacks: {fast} fast, {after['rescaled'] - before['rescaled']} of them "
          f"plotted in full (data bounds moved), {after['fallback'] - before['fallback']} through Plotly.restyle")  # fmt: skip
    print(f"the engine's own playback (Play from step 0 to step {info['n']} at its default speed; a frame = an "
          "animation frame in which the step moved):")  # fmt: skip
    for mode, label in ENGINE_MODES.items():
        runs = engine[mode]
        fps = statistics.median(r["fps"] for r in runs)
        longest = statistics.median(r["longestTask"] for r in runs)
        secs = statistics.median(r["seconds"] for r in runs)
        each = ", ".join(f"{r['fps']:.1f}" for r in runs)
        print(f"  {label}: {fps:5.1f} fps (runs: {each}), longest task {longest:.0f} ms, "
              f"{secs:.1f} s per playback")  # fmt: skip
    shipped, before_all = (statistics.median(r["fps"] for r in engine[m]) for m in ("overlay", "restyle"))
    print(f"  ratio as shipped / Plotly.restyle every frame: fps × {shipped / before_all:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
