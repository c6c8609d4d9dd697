/*
 * Descent Lab Explorer: the basins layer (app/explorer/basins.py).
 *
 * With the map toolbar's "basins" box ticked, the contour map is coloured by where each start
 * ends with the race's first optimizer: after every race the engine draws (a slider moved, a
 * new optimizer, a new surface; the engine's "descentlab:applied" event) the layer of the link
 * shown is asked for, the latest request winning, and drawn as a second layout image over the
 * surface's colours, under the contour lines and the runs.  The caption under the map says what
 * the colours mean, with a swatch and share per colour.  In the 3-D view, on data surfaces, and
 * for races too slow to sweep here, the caption gives the reason instead.
 *
 * Ids come from the names JSON on the Explorer's root (app/explorer/ids.py, BROWSER_NAMES).
 */
(function () {
  "use strict";

  var B = { seq: 0, answer: null, forQuery: null, controller: null, pending: false, drawn: 0, drawnAt: 0, shownAt: 0,
    answered: null, said: false };

  function names() {
    return window.DescentExplorerNames.get();
  }

  var byId = window.DescentExplorerNames.byId;

  function ticked() {
    var box = byId(names().basins);
    var input = box ? box.querySelector("input[type=checkbox]") : null;
    return !!(input && input.checked);
  }

  function graph() {
    var host = byId(names().map);
    if (!host) return null;
    return host.classList.contains("js-plotly-plot") ? host : host.querySelector(".js-plotly-plot");
  }

  function requestsPrefix() {
    try {
      var cfg = JSON.parse(document.getElementById("_dash-config").textContent);
      return typeof cfg.requests_pathname_prefix === "string" ? cfg.requests_pathname_prefix : "/";
    } catch (err) {
      return "/";
    }
  }

  // ------------------------------------------------------------------ the caption

  function note(text, legend, busy) {
    var el = byId(names().basinsNote);
    if (!el) return;
    el.textContent = "";
    if (text === null) {
      el.hidden = true;
      return;
    }
    el.hidden = false;
    el.classList.toggle("busy", !!busy);
    var p = document.createElement("p");
    p.className = "basins-caption";
    p.textContent = text;
    el.appendChild(p);
    if (!legend || !legend.length) return;
    var ul = document.createElement("ul");
    ul.className = "basins-legend";
    legend.forEach(function (entry) {
      var li = document.createElement("li");
      var sw = document.createElement("span");
      sw.className = "swatch";
      sw.setAttribute("aria-hidden", "true");
      if (entry.color) sw.style.background = entry.color;
      li.appendChild(sw);
      li.appendChild(document.createTextNode(entry.label + " · " + entry.share + " %"));
      ul.appendChild(li);
    });
    el.appendChild(ul);
  }

  // ------------------------------------------------------------------ the layer on the map

  function images(gd) {
    return (gd && gd.layout && Array.isArray(gd.layout.images) ? gd.layout.images : []).slice();
  }

  function drawLayer() {
    var gd = graph();
    if (!gd || !window.Plotly || !B.answer || !B.answer.image) return;
    var have = images(gd);
    if (have.length > 1 && have[1].source === B.answer.image.source) return;
    var surface = have.length ? [have[0]] : [];
    window.Plotly.relayout(gd, { images: surface.concat([B.answer.image]) });
    B.drawn += 1;
    B.drawnAt = performance.now();
  }

  function removeLayer() {
    var gd = graph();
    var have = images(gd);
    if (have.length > 1 && window.Plotly) window.Plotly.relayout(gd, { images: [have[0]] });
  }

  // ------------------------------------------------------------------ asking for it

  function refresh() {
    if (!names().basins) return;
    if (!ticked()) {
      if (B.controller) B.controller.abort();
      B.pending = false;
      B.said = false;
      removeLayer();
      note(null);
      return;
    }
    var st = window.DescentLab ? window.DescentLab.state() : null;
    if (!st || typeof st.query !== "string") return;
    if (st.view === "3d") {
      removeLayer();
      note("Basins are drawn on the contour map.", null, false);
      return;
    }
    if (B.answer && B.forQuery === st.query) {
      drawLayer();
      return;
    }
    if (B.controller) B.controller.abort();
    var seq = ++B.seq;
    var query = st.query;
    B.controller = window.AbortController ? new AbortController() : null;
    B.pending = true;
    // the first request says what is coming; later ones mark the caption as updating until the answer
    if (!B.answer && !B.said) note("Colouring the map by where each start ends…", null, false);
    else byId(names().basinsNote).classList.add("busy");
    var url = requestsPrefix() + names().basinsRoute + "?" + new URLSearchParams({ q: query.replace(/^\?/, "") }).toString();
    fetch(url, { credentials: "same-origin", signal: B.controller ? B.controller.signal : undefined })
      .then(function (r) {
        return r.json();
      })
      .then(function (out) {
        if (seq !== B.seq || !ticked()) return;
        B.pending = false;
        B.answered = query;
        B.said = true;
        if (!out || out.error) {
          B.answer = null;
          B.forQuery = null;
          removeLayer();
          note("No basins layer: " + ((out && (out.reason || out.error)) || "the server did not answer") + ".", null, false);
          return;
        }
        B.answer = out;
        B.forQuery = query;
        drawLayer();
        note(out.caption, out.legend, false);
        B.shownAt = performance.now();
      })
      .catch(function (err) {
        if (seq !== B.seq || (err && err.name === "AbortError")) return;
        B.pending = false;
        note("No basins layer: the server did not answer.", null, false);
      });
  }

  document.addEventListener("descentlab:applied", refresh);
  document.addEventListener("change", function (ev) {
    var box = byId(names().basins);
    if (box && box.contains(ev.target)) refresh();
  });

  // a small read-only view for tests
  window.DescentLabBasins = {
    state: function () {
      var gd = graph();
      var have = images(gd);
      return {
        on: ticked(),
        pending: B.pending,
        drawn: have.length > 1 && !!B.answer && have[1].source === B.answer.image.source,
        draws: B.drawn,
        drawnAt: B.drawnAt, // performance.now() of the last draw
        shownAt: B.shownAt, // and of the last answer put on the map (drawn, or the same picture as before)
        grid: B.answer ? B.answer.grid : null,
        steps: B.answer ? B.answer.steps : null,
        key: B.answer ? B.answer.key : null,
        forQuery: B.forQuery, // the link whose layer is drawn
        answered: B.answered, // the link of the last answer, a layer or the reason there is none
      };
    },
  };
})();
