/* The Explorer's 3-D traces, loaded by plotly-lite.mjs the first time a figure needs them. */
import surface from "plotly.js/lib/surface";
import scatter3d from "plotly.js/lib/scatter3d";

export default [surface, scatter3d];
