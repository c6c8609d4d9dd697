/*
 * Descent Lab lesson player: the step's view in its frame.
 *
 * - inside the frame (same origin): the page is marked "embedded" (no site header), the step's hidden
 *   controls are hidden and its locked ones made inert, again whenever the page re-renders them;
 * - the frame is inert while the prediction cover is up, and usable once the run is revealed;
 * - once the view's address differs from the step's own (the student changed a setting), a note says
 *   the text describes the step's view, with a button that restores it;
 * - keys: → / Page Down open the next step, ← / Page Up the previous one (Page Down / Page Up also
 *   while the view has focus, so a presenter's clicker works anywhere).
 * Every id comes from the player root's data-lesson-names attribute (app/lessons/ids.py).
 */
(function () {
  "use strict";

  var names = null;

  function root() {
    return document.querySelector("[data-lesson-names]");
  }

  function name(key) {
    if (!names) {
      var r = root();
      if (!r) return undefined;
      names = JSON.parse(r.getAttribute("data-lesson-names"));
    }
    return names[key];
  }

  function byId(key) {
    var id = name(key);
    return id ? document.getElementById(id) : null;
  }

  function list(frame, attr) {
    try {
      var v = JSON.parse(frame.getAttribute(name(attr)) || "[]");
      return Array.isArray(v) ? v : [];
    } catch (e) {
      return [];
    }
  }

  function apply(frame) {
    var doc;
    try {
      doc = frame.contentDocument;
    } catch (e) {
      return;
    }
    if (!doc || !doc.documentElement) return;
    doc.documentElement.classList.add("embedded");
    list(frame, "hideAttr").forEach(function (sel) {
      doc.querySelectorAll(sel).forEach(function (el) {
        var box = el.closest("details") || el;
        if (!box.hidden) {
          box.hidden = true;
          box.style.setProperty("display", "none", "important"); // a page's own display rule would override [hidden]
        }
      });
    });
    list(frame, "lockAttr").forEach(function (sel) {
      doc.querySelectorAll(sel).forEach(function (el) {
        var box = el.closest("details") || el;
        if (!box.inert) {
          box.inert = true;
          box.classList.add("lesson-locked");
          box.setAttribute("aria-disabled", "true");
        }
      });
    });
  }

  function watchFrame(frame) {
    var pending = false;
    var observer = null;
    frame.addEventListener("load", function () {
      if (observer) observer.disconnect();
      apply(frame);
      var doc = frame.contentDocument;
      if (!doc || !doc.body) return;
      observer = new MutationObserver(function () {
        if (pending) return;
        pending = true;
        requestAnimationFrame(function () {
          pending = false;
          apply(frame);
        });
      });
      observer.observe(doc.body, { childList: true, subtree: true });
      doc.addEventListener("keydown", function (ev) {
        if (ev.key === "PageDown" || ev.key === "PageUp") go(ev, ev.key === "PageDown" ? "next" : "back");
      });
    });
  }

  function replay(frame) {
    var doc;
    try {
      doc = frame.contentDocument;
    } catch (e) {
      return;
    }
    if (!doc) return;
    // back to the start; then play, unless the student's system asks for reduced motion
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    list(frame, "replayAttr").concat(still ? [] : list(frame, "autoplayAttr")).forEach(function (sel) {
      var b = doc.querySelector(sel);
      if (b) b.click();
    });
  }

  function syncCover(frame) {
    var cover = byId("cover");
    var covered = !!cover && !cover.hidden;
    var was = frame.inert;
    frame.inert = covered;
    if (covered) frame.setAttribute("tabindex", "-1");
    else frame.removeAttribute("tabindex");
    if (was && !covered) replay(frame);  // revealed: the run plays from its start
  }

  function viewChanged(frame) {
    var view = frame.getAttribute(name("viewAttr"));
    if (!view) return false;
    var here;
    try {
      here = frame.contentWindow.location.pathname + frame.contentWindow.location.search;
    } catch (e) {
      return false;
    }
    var want = new URL(view, window.location.href);
    return here !== want.pathname + want.search && frame.contentWindow.location.href !== "about:blank";
  }

  function go(ev, which) {
    var link = byId(which);
    if (!link || !link.getAttribute("href")) return;
    ev.preventDefault();
    window.location.assign(link.getAttribute("href"));
  }

  function typing(el) {
    if (!el) return false;
    var tag = (el.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable;
  }

  function start() {
    var frame = byId("frame");
    if (!frame) return false;
    if (frame.dataset.lessonBound) return true;
    frame.dataset.lessonBound = "1";
    watchFrame(frame);
    apply(frame);
    syncCover(frame);
    var cover = byId("cover");
    if (cover) new MutationObserver(function () { syncCover(frame); }).observe(cover, { attributes: true });
    var reset = byId("reset");
    if (reset) reset.addEventListener("click", function () {
      frame.setAttribute("src", frame.getAttribute(name("viewAttr")));
    });
    window.setInterval(function () {
      var note = byId("changed");
      if (!note) return;
      var changed = viewChanged(frame);
      if (note.hidden === changed) note.hidden = !changed;
      var claims = document.querySelector(".lesson-claims");
      if (claims) claims.classList.toggle("stale", changed);
    }, 600);
    return true;
  }

  document.addEventListener("keydown", function (ev) {
    if (!root() || ev.altKey || ev.ctrlKey || ev.metaKey || typing(ev.target)) return;
    if (ev.key === "ArrowRight" || ev.key === "PageDown") go(ev, "next");
    else if (ev.key === "ArrowLeft" || ev.key === "PageUp") go(ev, "back");
  });

  // the layout arrives after the page's scripts: on a player's address, bind once it is in the document
  if (window.location.pathname.indexOf("/lesson/") === -1) return;
  var boot = new MutationObserver(function () {
    if (start()) boot.disconnect();
  });
  boot.observe(document.documentElement, { childList: true, subtree: true });
})();
