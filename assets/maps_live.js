/*
 * Descent Lab · Sweep maps: the live slider (clientside namespace "maps_live").
 *
 * The server (app.maps.live) says which setting the slider drags: its range, scale, value and the
 * map's query (the live-info store).  While the slider moves, each position asks the live-map route
 * for a coarse preview and draws it into the map; one request is in flight at a time and only the
 * newest position waits behind it, so a fast drag never queues stale maps.  When the slider is let
 * go (or a key has moved it and rested), the full map is asked for (full=1: computed by the route when
 * small enough) and the value goes to the commit store: the page sets the setting's field and runs its
 * own compute, a hit in the shared cache, which keeps the map's data for clicks and exports.
 *
 * Each map drawn dispatches "descentlab:livemap" on the document ({detail: {ms, value, settled,
 * waited, fetch, draw}}: the time from the slider's move to the redraw, and its parts: waiting behind the
 * request in flight, the request, the redraw), which the benchmarks and tests listen to.
 */
(function () {
  "use strict";

  var COMMIT_DELAY_MS = 350; // a key press's change waits this long for the next one before committing
  var KEY_CHANGE_MS = 100; // a change this soon after a key press on the slider came from the keyboard
  var lastKey = -1e9;
  var ids = null; // the component ids, from the setup call
  var info = null; // the dragged setting
  var inFlight = false;
  var pending = null; // {value, t0}: the newest position waiting behind the request in flight
  var commitTimer = null;
  var commits = 0;
  var bound = false;
  var restingText = null; // what the status line says when nothing is being previewed (the page's own text)

  function el(id) {
    return id ? document.getElementById(id) : null;
  }

  function valueAt(pos) {
    var f = Math.min(Math.max(pos / info.positions, 0), 1);
    var v = info.log
      ? Math.exp(Math.log(info.low) + f * (Math.log(info.high) - Math.log(info.low)))
      : info.low + f * (info.high - info.low);
    return info.integer ? Math.round(v) : Number(v.toPrecision(4));
  }

  function text(v) {
    return String(v); // valueAt's rounding: what the readout says is what a release commits
  }

  function show(v) {
    var out = el(ids.value);
    var slider = el(ids.slider);
    var said = info.label.split(" (")[0].split(":")[0] + " = " + text(v);
    if (out) out.textContent = said;
    if (slider) slider.setAttribute("aria-valuetext", said);
  }

  function status(msg) {
    var s = el(ids.status);
    if (s) s.textContent = msg;
  }

  function graphDiv() {
    var host = el(ids.graph);
    return host ? host.querySelector(".js-plotly-plot") : null;
  }

  // traces the answer left out ({name, reuse: true}: the surface did not change) are the ones on screen
  function keepReused(traces, onScreen) {
    var out = [];
    traces.forEach(function (t) {
      if (!t.reuse) { out.push(t); return; }
      var have = onScreen.filter(function (s) { return s.name === t.name; })[0];
      if (have) out.push(have);
    });
    return out;
  }

  function url(v, full) {
    var panel = el(ids.panel);
    return panel.getAttribute("data-route") + "?q=" + encodeURIComponent(info.q) + "&p=" +
      encodeURIComponent(info.id) + "&v=" + encodeURIComponent(String(v)) + (full ? "&full=1" : "");
  }

  function request(v, t0, full) {
    if (!el(ids.panel) || !info) return;
    inFlight = true;
    var sent = performance.now();
    fetch(url(v, full), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        var gd = graphDiv();
        if (answer && answer.figure && gd && window.Plotly) {
          var data = keepReused(answer.figure.data, gd.data || []);
          var fetched = performance.now();
          return window.Plotly.react(gd, data, answer.figure.layout, gd._context).then(function () {
            var ms = performance.now() - t0;
            status(full ? answer.status : answer.status + " · redrawn " + Math.round(ms) + " ms after the move");
            document.dispatchEvent(new CustomEvent("descentlab:livemap", { detail: {
              ms: ms, value: v, settled: !!full, waited: sent - t0, fetch: fetched - sent,
              draw: performance.now() - fetched } }));
          });
        }
        if (!(answer && answer.defer)) status((answer && (answer.error || answer.reason)) || "no preview for this value");
        return null;
      })
      .catch(function () { status("the preview could not be fetched"); })
      .then(function () {
        inFlight = false;
        if (full) committed(v); // after the full map is drawn, so the page's own work does not slow it
        if (pending !== null) {
          var next = pending;
          pending = null;
          request(next.value, next.t0, next.full);
        }
      });
  }

  function ask(v, full) {
    var t0 = performance.now();
    if (inFlight) pending = { value: v, t0: t0, full: full };
    else request(v, t0, full);
  }

  function moved(event) {
    if (!info || !ids || event.target.id !== ids.slider) return;
    var v = valueAt(Number(event.target.value));
    show(v);
    ask(v, false);
    if (commitTimer) { clearTimeout(commitTimer); commitTimer = null; }
  }

  // letting go: the full map (drawn from the route when it is small enough), then the value committed to the page
  function commit(v) {
    ask(v, true);
  }

  function committed(v) {
    commits += 1;
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(ids.commit, { data: { p: info.id, v: v, n: commits } });
    }
  }

  function keyed(event) {
    if (ids && event.target.id === ids.slider) lastKey = performance.now();
  }

  function released(event) {
    if (!info || !ids || event.target.id !== ids.slider) return;
    var v = valueAt(Number(event.target.value));
    if (commitTimer) { clearTimeout(commitTimer); commitTimer = null; }
    if (performance.now() - lastKey > KEY_CHANGE_MS) { commit(v); return; } // a pointer let go
    commitTimer = setTimeout(function () { commitTimer = null; commit(v); }, COMMIT_DELAY_MS);
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    maps_live: {
      setup: function (liveInfo, panelId, sliderId, valueId, statusId, graphId, commitId) {
        ids = { panel: panelId, slider: sliderId, value: valueId, status: statusId, graph: graphId, commit: commitId };
        info = liveInfo || null;
        var slider = el(sliderId);
        if (slider) slider.disabled = !info;
        var line = el(statusId);
        if (line && restingText === null) restingText = line.textContent;
        if (line && !inFlight) line.textContent = info ? restingText : "This map has no setting to drag.";
        if (!bound) {
          document.addEventListener("input", moved);
          document.addEventListener("change", released);
          document.addEventListener("keydown", keyed, true);
          bound = true;
        }
        if (info) show(info.value); // the server sets the slider's position (app.maps.live.LiveSetting.position)
        return null;
      },
    },
  });
})();
