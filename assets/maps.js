/*
 * Descent Lab · Sweep maps page: the browser half (clientside callbacks, namespace "maps").
 *
 * replaceUrl: the address bar follows the page's state store (history.replaceState: no
 * navigation, no router callback), so that a copied link opens the map on screen.
 *
 * followCaption: the caption above the map (app.maps.ids GRAPH_CAPTION) repeats the figure's title
 * and subtitle as text that wraps. A phone shows it instead of the figure's own one-line title,
 * which is wider than the phone and sits under the plot's buttons (assets/maps.css). It follows
 * every drawing of the graph (plotly_afterplot), the live slider's redraws included, which do not
 * pass through Dash.
 */
(function () {
  "use strict";

  var FRAMES_TO_FIND_THE_PLOT = 120; // the graph's plot appears a few frames after Dash renders it

  // the text plotly draws for a title (the server escapes it: entities decoded, no markup kept)
  function plain(text) {
    if (typeof text !== "string" || !text) return "";
    return new DOMParser().parseFromString(text, "text/html").documentElement.textContent || "";
  }

  function line(className, text) {
    var span = document.createElement("span");
    span.className = className;
    span.textContent = text;
    return span;
  }

  function sync(gd, caption) {
    var t = (gd.layout && gd.layout.title) || {};
    var title = plain(typeof t === "string" ? t : t.text);
    var sub = plain(t.subtitle && t.subtitle.text);
    var parts = [];
    if (title) parts.push(line("maps-graph-caption-title", title));
    if (sub) parts.push(line("maps-graph-caption-subtitle", sub));
    caption.replaceChildren.apply(caption, parts);
  }

  function follow(graphId, captionId, framesLeft) {
    var host = document.getElementById(graphId);
    var caption = document.getElementById(captionId);
    var gd = host ? host.querySelector(".js-plotly-plot") : null;
    if (!caption) return;
    if (!gd || typeof gd.on !== "function") {
      if (framesLeft > 0) window.requestAnimationFrame(function () { follow(graphId, captionId, framesLeft - 1); });
      return;
    }
    if (!gd.__descentCaption) {
      gd.__descentCaption = true;
      gd.on("plotly_afterplot", function () { sync(gd, caption); });
    }
    if (gd.layout) sync(gd, caption);
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    maps: {
      replaceUrl: function (state) {
        if (state && typeof state.query === "string" && state.query.charAt(0) === "?") {
          window.history.replaceState(window.history.state, "", window.location.pathname + state.query);
        }
        return null;
      },
      followCaption: function (figure, graphId, captionId) {
        follow(graphId, captionId, FRAMES_TO_FIND_THE_PLOT);
        return null;
      },
    },
  });
})();
