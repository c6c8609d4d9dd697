/*
 * Descent Lab Explorer: the layout's buttons (the animation and the controls are assets/explorer.js).
 *
 * - "Controls" collapses the controls column so the view takes the whole width; the choice is kept
 *   in localStorage (not inside a lesson's frame) and set as a class on <html> before the page is
 *   drawn, so a collapsed page never flashes its controls.
 * - "Full screen" puts the stage (toolbar, map, race board, player) full screen with the Fullscreen
 *   API, or, where the API is missing or refused, maximises it over the page with a class; Escape
 *   or the button again leaves.
 * - On narrow screens a floating switch jumps from the view to the controls below it and back
 *   ("Controls ↓" / "Map ↑"), moving the keyboard focus with it.
 * After every change the graphs are resized (a window resize event, which plotly and the
 * animation's canvas follow, and Plotly.Plots.resize on each graph).
 *
 * Ids come from the names JSON on the Explorer's root (app/explorer/ids.py, BROWSER_NAMES), like
 * assets/explorer.js.  The script runs before the layout exists: handlers are delegated to the
 * document, and the button's state is set once the root appears.
 */
(function () {
  "use strict";

  var COLLAPSED = "explorer-collapsed"; // class on <html>
  var FULL = "is-full"; // class on the stage while it is full screen or maximised
  var MAXIMISED = "maximised"; // the fallback without the Fullscreen API
  var STORE_KEY = "descent-lab:explorer-sidebar";

  function names() {
    return window.DescentExplorerNames.get();
  }

  var byId = window.DescentExplorerNames.byId;

  // a lesson frames the Explorer: its own choice of controls wins over the reader's stored one
  function framed() {
    try {
      return window.self !== window.top || document.documentElement.classList.contains("embedded");
    } catch (err) {
      return true;
    }
  }

  function stored() {
    try {
      return window.localStorage.getItem(STORE_KEY);
    } catch (err) {
      return null;
    }
  }

  function store(value) {
    if (framed()) return;
    try {
      window.localStorage.setItem(STORE_KEY, value);
    } catch (err) {
      /* private mode or storage switched off: the choice lasts for this page */
    }
  }

  // plotly's responsive graphs and the animation's canvas follow a window resize
  function relayout() {
    window.requestAnimationFrame(function () {
      window.dispatchEvent(new Event("resize"));
      var P = window.Plotly;
      if (!P || !P.Plots || !P.Plots.resize) return;
      var stage = byId(names().stage);
      var view = stage ? stage.closest("main") || stage : null;
      var graphs = view ? view.querySelectorAll(".js-plotly-plot") : [];
      for (var i = 0; i < graphs.length; i++) {
        if (graphs[i].offsetParent === null) continue; // not displayed
        var done = P.Plots.resize(graphs[i]);
        if (done && done.catch) done.catch(function () {});
      }
    });
  }

  // ------------------------------------------------------------------ the controls column

  function collapsed() {
    return document.documentElement.classList.contains(COLLAPSED);
  }

  function syncCollapse() {
    var button = byId(names().sidebarToggle);
    if (button) button.setAttribute("aria-expanded", collapsed() ? "false" : "true");
  }

  function setCollapsed(on) {
    document.documentElement.classList.toggle(COLLAPSED, on);
    store(on ? "collapsed" : "open");
    syncCollapse();
    relayout();
  }

  if (!framed() && stored() === "collapsed") document.documentElement.classList.add(COLLAPSED);

  // ------------------------------------------------------------------ full screen

  function isFull(stage) {
    return !!stage && stage.classList.contains(FULL);
  }

  function syncFull() {
    var stage = byId(names().stage);
    if (!stage) return;
    var on = document.fullscreenElement === stage || stage.classList.contains(MAXIMISED);
    if (stage.classList.contains(FULL) !== on) {
      stage.classList.toggle(FULL, on);
      relayout();
    }
    var button = byId(names().fullScreen);
    if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
  }

  function maximise(stage, on) {
    stage.classList.toggle(MAXIMISED, on);
    syncFull();
  }

  function enterFull(stage) {
    var api = document.fullscreenEnabled && stage.requestFullscreen;
    if (!api) return maximise(stage, true);
    var asked;
    try {
      asked = stage.requestFullscreen({ navigationUI: "hide" });
    } catch (err) {
      return maximise(stage, true);
    }
    if (asked && asked.then) {
      asked.then(syncFull, function () {
        maximise(stage, true); // refused (no user gesture, a frame without allowfullscreen): maximise instead
      });
    }
  }

  function leaveFull(stage) {
    if (document.fullscreenElement === stage && document.exitFullscreen) {
      var left = document.exitFullscreen();
      if (left && left.catch) left.catch(function () {});
    }
    maximise(stage, false);
  }

  document.addEventListener("fullscreenchange", syncFull);

  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape" || ev.defaultPrevented) return;
    var stage = byId(names().stage);
    if (isFull(stage)) leaveFull(stage);
  });

  // ------------------------------------------------------------------ narrow screens: view ↔ controls

  // "controls" once the controls column reaches the upper half of the screen
  function whereAmI() {
    var side = byId(names().sidebar);
    if (!side || !side.offsetParent) return "first";
    return side.getBoundingClientRect().top < window.innerHeight / 2 ? "controls" : "first";
  }

  function syncJump() {
    var jump = byId(names().jump);
    if (!jump || !jump.getClientRects().length) return; // not shown (wide screens); fixed: no offsetParent
    var at = whereAmI();
    if (jump.getAttribute("data-at") !== at) jump.setAttribute("data-at", at);
  }

  function go(target) {
    if (!target) return;
    target.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
    syncJump();
  }

  var pending = false;
  window.addEventListener(
    "scroll",
    function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        syncJump();
      });
    },
    { passive: true }
  );

  // ------------------------------------------------------------------ the buttons

  document.addEventListener("click", function (ev) {
    var b = ev.target && ev.target.closest ? ev.target.closest("button") : null;
    if (!b || !b.id) return;
    var n = names();
    if (b.id === n.sidebarToggle) {
      setCollapsed(!collapsed());
    } else if (b.id === n.fullScreen) {
      var stage = byId(n.stage);
      if (stage) (isFull(stage) ? leaveFull : enterFull)(stage);
    } else if (b.id === n.jump) {
      go(whereAmI() === "controls" ? byId(n.mapWrap) : byId(n.sidebar));
    }
  });

  // the page is drawn after this script runs: set the buttons' state once the Explorer is there
  function ready() {
    if (!byId(names().sidebarToggle)) return false;
    syncCollapse();
    syncFull();
    syncJump();
    return true;
  }
  if (!ready()) {
    var watch = new MutationObserver(function () {
      if (document.querySelector(window.DescentExplorerNames.rootSelector) && ready()) watch.disconnect();
    });
    watch.observe(document.documentElement, { childList: true, subtree: true });
  }
  window.addEventListener("pageshow", ready);
})();
