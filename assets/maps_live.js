/*
 * Descent Lab · Sweep maps: the live slider (clientside namespace "maps_live").
 *
 * The server (app.maps.live) says which setting the slider drags: its range, scale, value and the
 * map's query (the live-info store).  While the slider moves, each position asks the live-map route
 * for a coarse preview and draws it into the map; one request is in flight at a time and only the
 * newest position waits behind it, so a fast drag never queues stale maps.  When the slider is let
 * go (or a key has moved it and rested), the value goes to the commit store: the page then sets the
 * setting's field and computes the full map as usual.
 *
 * Each preview drawn dispatches "descentlab:livemap" on the document ({detail: {ms, value, waited,
 * fetch, draw}}: the time from the slider's move to the redraw, and its parts: waiting behind the
 * request in flight, the request, the redraw), which the benchmarks and tests listen to.
 */
(function () {
  "use strict";

  var COMMIT_DELAY_MS = 350; // a key press's change waits this long for the next one before committing
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

  function request(v, t0) {
    var panel = el(ids.panel);
    if (!panel || !info) return;
    inFlight = true;
    var sent = performance.now();
    var url = panel.getAttribute("data-route") + "?q=" + encodeURIComponent(info.q) +
      "&p=" + encodeURIComponent(info.id) + "&v=" + encodeURIComponent(String(v));
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        var gd = graphDiv();
        if (answer && answer.figure && gd && window.Plotly) {
          var data = keepReused(answer.figure.data, gd.data || []);
          var fetched = performance.now();
          return window.Plotly.react(gd, data, answer.figure.layout, gd._context).then(function () {
            var ms = performance.now() - t0;
            status(answer.status + " · redrawn " + Math.round(ms) + " ms after the move");
            document.dispatchEvent(new CustomEvent("descentlab:livemap", { detail: {
              ms: ms, value: v, waited: sent - t0, fetch: fetched - sent, draw: performance.now() - fetched } }));
          });
        }
        status((answer && (answer.error || answer.reason)) || "no preview for this value");
        return null;
      })
      .catch(function () { status("the preview could not be fetched"); })
      .then(function () {
        inFlight = false;
        if (pending !== null) {
          var next = pending;
          pending = null;
          request(next.value, next.t0);
        }
      });
  }

  function moved(event) {
    if (!info || !ids || event.target.id !== ids.slider) return;
    var v = valueAt(Number(event.target.value));
    show(v);
    var t0 = performance.now();
    if (inFlight) pending = { value: v, t0: t0 };
    else request(v, t0);
    if (commitTimer) { clearTimeout(commitTimer); commitTimer = null; }
  }

  function released(event) {
    if (!info || !ids || event.target.id !== ids.slider) return;
    var v = valueAt(Number(event.target.value));
    if (commitTimer) clearTimeout(commitTimer);
    commitTimer = setTimeout(function () {
      commitTimer = null;
      commits += 1;
      if (window.dash_clientside && window.dash_clientside.set_props) {
        window.dash_clientside.set_props(ids.commit, { data: { p: info.id, v: v, n: commits } });
      }
    }, COMMIT_DELAY_MS);
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
          bound = true;
        }
        if (info) show(info.value); // the server sets the slider's position (app.maps.live.LiveSetting.position)
        return null;
      },
    },
  });
})();
