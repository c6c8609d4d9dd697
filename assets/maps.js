/*
 * Descent Lab · Sweep maps page: the browser half (clientside callbacks, namespace "maps").
 *
 * replaceUrl: the address bar follows the page's state store (history.replaceState: no
 * navigation, no router callback), so that a copied link opens the map on screen.
 */
(function () {
  "use strict";

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    maps: {
      replaceUrl: function (state) {
        if (state && typeof state.query === "string" && state.query.charAt(0) === "?") {
          window.history.replaceState(window.history.state, "", window.location.pathname + state.query);
        }
        return null;
      },
    },
  });
})();
