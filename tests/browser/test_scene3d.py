"""DescentScene3d.restyle (assets/scene3d.js) in headless Chromium: the 3-D scene's fast point updates.

Each check runs inside the page in one evaluate: the fast path is synchronous, so no frame of the
animation engine (paused first) can come between an update and what is read after it.
"""

from __future__ import annotations

import pytest

from app.explorer.figures import TRACE_INDEX

pytestmark = pytest.mark.browser

RACE_3D = "?surface=himmelblau&start=-0.27,-0.92&steps=60&opt=sgd,lr=0.01&opt=adam,lr=0.1&view=3d"
RACE_2D = "?surface=himmelblau&start=-0.27,-0.92&steps=60&opt=sgd,lr=0.01&opt=adam,lr=0.1"
PATH, BALL, END = TRACE_INDEX["path"], TRACE_INDEX["ball"], TRACE_INDEX["end"]

#: helpers defined in the page: the map's graph div, its scene, a snapshot of a trace as plotly holds it
HELPERS = """() => {
  const gd = () => document.querySelector('#map .js-plotly-plot');
  const scene = () => gd()._fullLayout.scene._scene;
  const arr = (v) => Array.from(v || []);
  // what gd.data, gd._fullData and the scene's WebGL object (positions divided by the data scale) hold
  function held(t) {
    const g = gd(), s = scene(), full = g._fullData[t];
    const obj = s.traces[full.uid];
    const shown = obj && full.visible === true ? obj.dataPoints.map((p) => p.map((v, d) => v / s.dataScale[d])) : null;
    return {data: {x: arr(g.data[t].x), y: arr(g.data[t].y), z: arr(g.data[t].z), text: arr(g.data[t].text)},
            full: {x: arr(full.x), y: arr(full.y), z: arr(full.z), text: arr(full.text), length: full._length,
                   visible: full.visible, objectData: obj ? obj.data === full : null},
            shown: shown};
  }
  window.__t = {gd: gd, scene: scene, held: held,
                stats: () => JSON.parse(JSON.stringify(DescentScene3d.stats))};
}"""


def open_3d(web) -> None:
    web.goto(web.base + RACE_3D)
    page = web.page
    page.wait_for_function(
        "(() => { const g = document.querySelector('#map .js-plotly-plot');"
        " return !!(g && g._fullLayout && g._fullLayout.scene && g._fullLayout.scene._scene && window.DescentScene3d); })()"
    )
    page.evaluate("DescentLab.pause()")
    page.wait_for_function("!DescentLab.state().playing")
    page.evaluate(HELPERS)


def close(a: list[float], b: list[float], tol: float = 1e-9) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tol * max(1.0, abs(y)) for x, y in zip(a, b, strict=True))


def assert_shows(held: dict, x: list[float], y: list[float], z: list[float], converted: bool = True) -> None:
    """gd.data, gd._fullData and the scene's WebGL object hold these points; ``converted``: the object was made
    from this very full trace (not so after a camera relayout: it supplies new full traces and plots nothing)."""
    for where in ("data", "full"):
        assert held[where]["x"] == x and held[where]["y"] == y and held[where]["z"] == z, (where, held[where])
    assert held["full"]["length"] == len(x)
    assert held["full"]["visible"] is True
    if converted:
        assert held["full"]["objectData"] is True
    shown = held["shown"]
    assert shown is not None and len(shown) == len(x)
    for i, p in enumerate(shown):
        assert close(p, [x[i], y[i], z[i]], 1e-6), (i, p)


def test_fast_path_moves_the_path_and_the_ball_and_a_relayout_keeps_them(web):
    open_3d(web)
    page = web.page
    out = page.evaluate(
        """async ([path, ball]) => {
      const g = __t.gd(), s = __t.scene();
      const f = g._fullData[path];
      // three points of the path itself (inside the data bounds: the data scale stays), as typed arrays
      const pick = (a) => Float64Array.from([a[5], a[2], a[7]]);
      const x = pick(f.x), y = pick(f.y), z = pick(f.z);
      // a first update: the objects that plotly's last supplyDefaults (a resize, say) left holding an older full
      // trace are converted once, the surface among them
      await DescentScene3d.restyle(g, [{x: x.subarray(0, 2), y: y.subarray(0, 2), z: z.subarray(0, 2)}], [path]);
      const before = __t.stats();
      const scale = Array.from(s.dataScale);
      const surfaceObject = s.traces[g._fullData[0].uid];
      const surfaceData = surfaceObject.data;
      const surfaceWasCurrent = surfaceData === g._fullData[0];
      await DescentScene3d.restyle(g, [{x: x, y: y, z: z}, {x: [x[2]], y: [y[2]], z: [z[2]]}], [path, ball]);
      const after = __t.stats();
      const res = {x: Array.from(x), y: Array.from(y), z: Array.from(z), before: before, after: after, surfaceWasCurrent,
                   path: __t.held(path), ball: __t.held(ball), scaleKept: Array.from(s.dataScale).join() === scale.join(),
                   surfaceUntouched: s.traces[g._fullData[0].uid] === surfaceObject && surfaceObject.data === surfaceData};
      await Plotly.relayout(g, {'scene.camera.eye': {x: 1.2, y: 1.4, z: 0.9}});
      res.eye = Object.assign({}, g._fullLayout.scene.camera.eye);
      res.pathAfterRelayout = __t.held(path);
      res.ballAfterRelayout = __t.held(ball);
      return res;
    }""",
        [PATH, BALL],
    )
    x, y, z = out["x"], out["y"], out["z"]
    assert out["after"]["fast"] == out["before"]["fast"] + 1
    assert out["after"]["fallback"] == out["before"]["fallback"]
    assert out["surfaceWasCurrent"]
    assert out["scaleKept"] and out["surfaceUntouched"]  # the surface's WebGL object was not converted again
    assert_shows(out["path"], x, y, z)
    assert_shows(out["ball"], [x[2]], [y[2]], [z[2]])
    assert out["path"]["data"]["text"] == [] and out["path"]["full"]["text"] == []  # as Plotly.restyle leaves it
    assert out["eye"] == {"x": 1.2, "y": 1.4, "z": 0.9}
    assert_shows(out["pathAfterRelayout"], x, y, z, converted=False)
    assert_shows(out["ballAfterRelayout"], [x[2]], [y[2]], [z[2]], converted=False)
    web.assert_clean()


def test_fast_path_leaves_the_scene_as_plotly_restyle_does(web):
    """The same frame through both: the same points, lengths, visibility, data scale and axis ranges."""
    open_3d(web)
    out = web.page.evaluate(
        """async ([path, ball, end]) => {
      const g = __t.gd(), s = __t.scene();
      const f = g._fullData[path];
      // points beyond the surface's box too: the data scale and the z range change
      const x = [f.x[0], f.x[3], 9.5], y = [f.y[0], f.y[3], -8.0], z = [f.z[0], f.z[3], 3 * f.z[0] + 50];
      const frame = [{x: x, y: y, z: z}, {x: [9.5], y: [-8.0], z: [z[2]]}, {x: [], y: [], z: []}];
      const traces = [path, ball, end];
      // a first update inside the bounds (it converts once the objects a resize's supplyDefaults left behind)
      await DescentScene3d.restyle(g, [{x: f.x.slice(0, 2), y: f.y.slice(0, 2), z: f.z.slice(0, 2)}], [path]);
      function snapshot() {
        const ax = g._fullLayout.scene;
        return {path: __t.held(path), ball: __t.held(ball), end: __t.held(end), scale: Array.from(s.dataScale),
                ranges: ['xaxis', 'yaxis', 'zaxis'].map((a) => Array.from(ax[a].range)),
                objects: s.glplot.objects.length,
                surface: JSON.stringify(s.traces[g._fullData[0].uid].surface.bounds)};
      }
      const before = __t.stats();
      await DescentScene3d.restyle(g, frame, traces);
      const fast = snapshot();
      const after = __t.stats();
      // back to the figure's paths, then the same frame through Plotly.restyle
      await Plotly.restyle(g, {x: [Array.from(f.x)], y: [Array.from(f.y)], z: [Array.from(f.z)]}, [path]);
      await Plotly.restyle(g, {x: frame.map((d) => d.x), y: frame.map((d) => d.y), z: frame.map((d) => d.z),
                               text: frame.map(() => [])}, traces);
      return {fast: fast, plotly: snapshot(), before: before, after: after};
    }""",
        [PATH, BALL, END],
    )
    assert out["after"]["fast"] == out["before"]["fast"] + 1
    assert out["after"]["rescaled"] == out["before"]["rescaled"] + 1  # the data bounds moved: plotted in full
    fast, plotly = out["fast"], out["plotly"]
    for key in ("path", "ball", "end"):
        assert fast[key]["data"] == plotly[key]["data"], key
        for attr in ("x", "y", "z", "text", "length", "visible"):
            assert fast[key]["full"][attr] == plotly[key]["full"][attr], (key, attr)
        if plotly[key]["shown"] is None:
            assert fast[key]["shown"] is None, key
        else:
            for p, q in zip(fast[key]["shown"], plotly[key]["shown"], strict=True):
                assert close(p, q, 1e-9), (key, p, q)
    assert fast["end"]["full"]["visible"] is False and fast["end"]["shown"] is None  # emptied: no WebGL object
    assert close(fast["scale"], plotly["scale"])
    for a, b in zip(fast["ranges"], plotly["ranges"], strict=True):
        assert close(a, b), (fast["ranges"], plotly["ranges"])
    assert fast["objects"] == plotly["objects"]
    assert fast["surface"] == plotly["surface"]  # the surface's object was converted again at the new scale
    assert_shows(fast["path"], fast["path"]["data"]["x"], fast["path"]["data"]["y"], fast["path"]["data"]["z"])
    web.assert_clean()


def test_an_emptied_trace_comes_back_and_a_trace_without_styles_falls_back(web):
    open_3d(web)
    out = web.page.evaluate(
        """async ([path, end]) => {
      const g = __t.gd();
      const f = g._fullData[path];
      const x = Array.from(f.x).slice(0, 4), y = Array.from(f.y).slice(0, 4), z = Array.from(f.z).slice(0, 4);
      const s0 = __t.stats();
      await DescentScene3d.restyle(g, [{x: [], y: [], z: []}], [path]);
      const emptied = __t.held(path);
      await DescentScene3d.restyle(g, [{x: x, y: y, z: z}], [path]);
      const back = __t.held(path);
      const s1 = __t.stats();
      // an end marker the figure sent empty: plotly never supplied its marker styles, so Plotly.restyle does it
      const endWasEmpty = g._fullData[end].visible === false && g._fullData[end].mode === undefined;
      await DescentScene3d.restyle(g, [{x: [x[1]], y: [y[1]], z: [z[1]], text: ['label']}], [end]);
      return {x: x, y: y, z: z, emptied: emptied, back: back, s0: s0, s1: s1, s2: __t.stats(),
              endWasEmpty: endWasEmpty, end: __t.held(end)};
    }""",
        [PATH, END],
    )
    assert out["emptied"]["full"]["visible"] is False and out["emptied"]["full"]["length"] == 0
    assert out["emptied"]["shown"] is None
    assert_shows(out["back"], out["x"], out["y"], out["z"])
    assert out["s1"]["fast"] == out["s0"]["fast"] + 2 and out["s1"]["fallback"] == out["s0"]["fallback"]
    assert out["endWasEmpty"]
    assert out["s2"]["fallback"] == out["s1"]["fallback"] + 1
    assert out["s2"]["reasons"]["no defaults"] == out["s1"]["reasons"].get("no defaults", 0) + 1
    assert_shows(out["end"], [out["x"][1]], [out["y"][1]], [out["z"][1]])
    assert out["end"]["data"]["text"] == ["label"] and out["end"]["full"]["text"] == ["label"]
    web.assert_clean()


def test_falls_back_to_plotly_restyle_without_the_scene_internals(web):
    open_3d(web)
    out = web.page.evaluate(
        """async ([path]) => {
      const g = __t.gd(), s = __t.scene();
      const f = g._fullData[path];
      const x = Array.from(f.x).slice(0, 3), y = Array.from(f.y).slice(0, 3), z = Array.from(f.z).slice(0, 3);
      const s0 = __t.stats();
      s.plotArgs = undefined;  // not the plotly internals the fast path knows
      await DescentScene3d.restyle(g, [{x: Float64Array.from(x), y: Float64Array.from(y), z: Float64Array.from(z)}], [path]);
      return {x: x, y: y, z: z, s0: s0, s1: __t.stats(), held: __t.held(path), plotArgs: Array.isArray(s.plotArgs)};
    }""",
        [PATH],
    )
    assert out["s1"]["fallback"] == out["s0"]["fallback"] + 1 and out["s1"]["fast"] == out["s0"]["fast"]
    assert out["s1"]["reasons"]["no scene"] == out["s0"]["reasons"].get("no scene", 0) + 1
    assert out["plotArgs"]  # Plotly.restyle plotted the scene again
    assert_shows(out["held"], out["x"], out["y"], out["z"])
    web.assert_clean()


def test_falls_back_on_a_2d_figure_and_never_throws(web):
    web.goto(web.base + RACE_2D)
    page = web.page
    page.wait_for_function("!!window.DescentScene3d")
    page.evaluate("DescentLab.pause()")
    out = page.evaluate(
        """async () => {
      const g = document.querySelector('#map .js-plotly-plot');
      const t = g.data.findIndex((d) => d.type === 'scatter');
      const s0 = JSON.parse(JSON.stringify(DescentScene3d.stats));
      await DescentScene3d.restyle(g, [{x: Float64Array.from([0.5, 1.5]), y: [1, 2], z: [0, 0], text: ['a', 'b']}], [t]);
      const s1 = JSON.parse(JSON.stringify(DescentScene3d.stats));
      // no figure at all: a rejected promise, not an exception
      let threw = false, rejected = false;
      try {
        await DescentScene3d.restyle(null, [{x: [1], y: [1], z: [1]}], [0]).catch(() => { rejected = true; });
      } catch (err) {
        threw = true;
      }
      return {t: t, type: g._fullData[t].type, x: Array.from(g.data[t].x), fullX: Array.from(g._fullData[t].x),
              text: Array.from(g._fullData[t].text), s0: s0, s1: s1, threw: threw, rejected: rejected};
    }"""
    )
    assert out["t"] >= 0 and out["type"] == "scatter"
    assert out["s1"]["fallback"] == out["s0"]["fallback"] + 1 and out["s1"]["fast"] == out["s0"]["fast"]
    assert out["s1"]["reasons"]["not scatter3d"] == out["s0"]["reasons"].get("not scatter3d", 0) + 1
    assert out["x"] == [0.5, 1.5] and out["fullX"] == [0.5, 1.5] and out["text"] == ["a", "b"]
    assert not out["threw"] and out["rejected"]
    web.assert_clean()


def test_a_playing_3d_race_is_drawn_over_the_still_scene_and_put_back_into_it_when_it_stops(web):
    """Playback draws on the overlay canvas with the scene's moving traces emptied; a pause clears the
    canvas and puts step k into the WebGL traces (drawn with depth); the projected balls lie on the scene."""
    web.goto(web.base + "?surface=himmelblau&start=-0.27,-0.92&steps=400&opt=sgd,lr=0.01&opt=adam,lr=0.1&view=3d")
    page = web.page
    gd = "document.querySelector('#map .js-plotly-plot')"
    page.evaluate("DescentLab.seek(0)")
    page.wait_for_function(f"{gd}.data[3].x.length === 1")
    page.evaluate("() => { const s = document.getElementById('speed'); s.value = '30';"
                  " s.dispatchEvent(new Event('change', {bubbles: true})); }")  # slow: it is still playing below
    page.evaluate("DescentLab.play()")
    page.wait_for_function("DescentLab.state().k > 2 && window.DescentScene3dOverlay.drawn() !== null")
    drawn = page.evaluate("DescentScene3dOverlay.drawn()")
    assert page.evaluate("DescentLab.state().playing") is True
    assert drawn["paths"] == 2 and len(drawn["balls"]) == 2, drawn
    box = page.evaluate(f"(() => {{ const c = {gd}.querySelector('.gl-container canvas');"
                        " return [c.clientWidth, c.clientHeight]; })()")
    assert all(0 <= x <= box[0] and 0 <= y <= box[1] for x, y in drawn["balls"]), (drawn, box)
    # the scene's own moving traces are empty while the overlay draws them
    page.wait_for_function(f"{gd}.data[3].x.length === 0 && {gd}.data[4].x.length === 0")
    page.evaluate("DescentLab.pause()")
    k = page.evaluate("DescentLab.state().k")
    page.wait_for_function(f"{gd}.data[3].x.length === {k} + 1")
    assert page.evaluate("DescentScene3dOverlay.drawn()") is None
    blank = page.evaluate(f"""(() => {{ const c = {gd}.querySelector('canvas.scene3d-overlay');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return false; return true; }})()""")
    assert blank
    web.assert_clean()
