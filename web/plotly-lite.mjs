/*
 * plotly.js as Descent Lab's pages load it.
 *
 * Dash would otherwise load the full plotly.js (every trace type; about 1.7 s of parsing and
 * start-up on a classroom laptop before the first map is drawn).  The pages draw scatter,
 * heatmap and contour traces, which come with the page here; the Explorer's 3-D view
 * (surface, scatter3d) is a separate chunk, fetched the first time a figure asks for it:
 * Plotly.newPlot and Plotly.react wait for it, so callers see the same promise-returning API.
 *
 * dcc.Graph uses window.Plotly when it is set, and loads its own copy only when it is not.
 */
import Plotly from "plotly.js/lib/core";
import heatmap from "plotly.js/lib/heatmap";
import contour from "plotly.js/lib/contour";

Plotly.register([heatmap, contour]);

const LAZY_TYPES = new Set(["surface", "scatter3d"]);
let lazyTraces = null; // the promise of the 3-D chunk, once asked for
let lazyLoaded = false;

function loadLazyTraces() {
  if (!lazyTraces) {
    lazyTraces = import("./plotly-3d.mjs").then(
      (chunk) => {
        Plotly.register(chunk.default);
        lazyLoaded = true;
      },
      (err) => {
        lazyTraces = null; // a later figure may try again
        throw err;
      },
    );
  }
  return lazyTraces;
}

function needsLazyTraces(data) {
  const list = Array.isArray(data) ? data : data && Array.isArray(data.data) ? data.data : [];
  return list.some((trace) => trace && LAZY_TYPES.has(trace.type));
}

for (const name of ["newPlot", "react"]) {
  const draw = Plotly[name];
  Plotly[name] = function (gd, data) {
    const args = arguments;
    if (lazyLoaded || !needsLazyTraces(data)) return draw.apply(Plotly, args);
    const go = () => draw.apply(Plotly, args);
    return loadLazyTraces().then(go, go);
  };
}
Plotly.loadLazyTraces = loadLazyTraces;

if (!window.Plotly) window.Plotly = Plotly;
