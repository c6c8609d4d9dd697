/*
 * Descent Lab: the page's theme (light, dark, projector), chosen in the browser, no server round trip.
 *
 * The theme is, in order: a link's ?theme= (then saved), the saved choice (localStorage), the
 * system's dark preference, else light.  It is set as data-theme="dark|projector" on <html>
 * (none for light); assets/theme.css restyles every page from it.  The page shell loads this
 * script in the <head> (app/shell/page_shell.py), so the first paint is already in the theme.
 * Every header's <select data-theme-switch> (app/shell/theme.py) shows the current theme and
 * applies a choice; the switch is found again whenever Dash draws a header.
 *
 * window.DescentTheme: name(), set(name), lineScale(), runColor(hex), ink(), halo(); each change
 * dispatches the "descent-theme" event on document, with {detail: {name}}.
 */
(function () {
  "use strict";
  var KEY = "descent-lab:theme";
  var NAMES = ["light", "dark", "projector"];
  var SWITCH = "select[data-theme-switch]";
  var root = document.documentElement;
  var current = "light";

  function valid(value) {
    var name = typeof value === "string" ? value.trim().toLowerCase() : "";
    return NAMES.indexOf(name) >= 0 ? name : null;
  }

  function saved() {
    try {
      return valid(window.localStorage.getItem(KEY));
    } catch (e) {
      return null; // storage blocked (private mode, sandboxed frame): the choice lasts for the page
    }
  }

  function save(name) {
    try {
      window.localStorage.setItem(KEY, name);
    } catch (e) {
      /* storage blocked: nothing to keep */
    }
  }

  function fromLink() {
    try {
      return valid(new URLSearchParams(window.location.search).get("theme"));
    } catch (e) {
      return null;
    }
  }

  function systemDark() {
    return !!(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  }

  function chosen() {
    var link = fromLink();
    if (link) {
      save(link);
      return link;
    }
    return saved() || (systemDark() ? "dark" : "light");
  }

  function syncSwitches() {
    var selects = document.querySelectorAll(SWITCH);
    for (var i = 0; i < selects.length; i++) {
      if (selects[i].value !== current) selects[i].value = current;
    }
  }

  function apply(name, announce) {
    var changed = name !== current;
    current = name;
    if (name === "light") root.removeAttribute("data-theme");
    else root.setAttribute("data-theme", name);
    root.style.colorScheme = name === "dark" ? "dark" : "light";
    syncSwitches();
    if (changed || announce) {
      document.dispatchEvent(new CustomEvent("descent-theme", { detail: { name: name } }));
    }
  }

  // the palette on a dark map: black runs would vanish, so they are drawn white; the other
  // Okabe–Ito colours keep at least 3:1 against the dark surface and stay as they are
  var DARK_RUNS = { "#000000": "#ffffff" };

  window.DescentTheme = {
    name: function () {
      return current;
    },
    set: function (name) {
      var v = valid(name);
      if (!v) return false;
      save(v);
      apply(v);
      return true;
    },
    lineScale: function () {
      return current === "projector" ? 1.8 : 1;
    },
    runColor: function (hex) {
      if (current !== "dark" || typeof hex !== "string") return hex;
      return DARK_RUNS[hex.toLowerCase()] || hex;
    },
    ink: function () {
      return current === "dark" ? "#f2f5f8" : current === "projector" ? "#000000" : "#111111";
    },
    halo: function () {
      return current === "dark" ? "#0b0f14" : "#ffffff";
    },
  };

  apply(chosen(), false);

  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t && t.matches && t.matches(SWITCH)) window.DescentTheme.set(t.value);
  });

  // another tab chose a theme: follow it (a ?theme= link in this tab still wins until it is changed)
  window.addEventListener("storage", function (ev) {
    if (ev.key === KEY && valid(ev.newValue) && !fromLink()) apply(valid(ev.newValue));
  });

  // the system's preference changes while nothing was chosen
  if (window.matchMedia) {
    var mq = window.matchMedia("(prefers-color-scheme: dark)");
    var follow = function () {
      if (!fromLink() && !saved()) apply(mq.matches ? "dark" : "light");
    };
    if (mq.addEventListener) mq.addEventListener("change", follow);
    else if (mq.addListener) mq.addListener(follow);
  }

  // Dash draws (and redraws) the headers after this script ran: show the theme in every new switch
  function watch() {
    syncSwitches();
    new MutationObserver(function (records) {
      for (var i = 0; i < records.length; i++) {
        if (records[i].addedNodes.length) {
          syncSwitches();
          return;
        }
      }
    }).observe(document.body, { childList: true, subtree: true });
  }
  if (document.body) watch();
  else document.addEventListener("DOMContentLoaded", watch);
})();
