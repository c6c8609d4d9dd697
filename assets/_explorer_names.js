/*
 * Descent Lab Explorer: the names its scripts share with the server.
 *
 * The Explorer's root element carries them as JSON in its data-explorer-names attribute
 * (app/explorer/ids.py, BROWSER_NAMES: component ids, parts of pattern ids, class names, the fast
 * path's route).  window.DescentExplorerNames.get() parses them the first time a script needs one
 * (every lookup runs in an event handler or a callback, after the layout is in the page) and
 * returns {} on a page without the Explorer, where every lookup then finds nothing.
 */
(function () {
  "use strict";

  var NAMES_ATTRIBUTE = "data-explorer-names";
  var shared = null;

  function get() {
    if (shared) return shared;
    var root = document.querySelector("[" + NAMES_ATTRIBUTE + "]");
    if (!root) return {};
    try {
      shared = JSON.parse(root.getAttribute(NAMES_ATTRIBUTE));
    } catch (err) {
      return {};
    }
    return shared;
  }

  window.DescentExplorerNames = {
    get: get,
    // the selector of the element carrying the names (a script may wait for it to appear)
    rootSelector: "[" + NAMES_ATTRIBUTE + "]",
    byId: function (id) {
      return id ? document.getElementById(id) : null;
    },
  };
})();
