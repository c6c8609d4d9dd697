/*
 * Descent Lab Explorer: keys, fingers and the spoken race summary.
 *
 * - Page-wide keys (the list is app/explorer/keys_help.py, shown by the "Keys" dialog): they act
 *   wherever the focus is, except in a control that takes typing or arrow keys itself (a text or
 *   number box, a select, a slider, a dropdown, a radio button or checkbox); Space on a focused
 *   button presses that button, as it always does.
 * - The map by pointer (mouse, pen or finger alike): a tap or click on the 2-D plot area sets the
 *   start; a press on the start's ring drags it (the ring follows, the start is set on release);
 *   a drag elsewhere is plotly's zoom or pan, and a second finger (a pinch) cancels the press.
 * - One polite live region says the race in a sentence when playback stops, ends or the step is set
 *   (a scrub speaks once it rests), never frame by frame.
 *
 * The animation engine (assets/explorer.js) owns the state; this file uses its window.DescentLab
 * API, and the names the server shares from assets/_explorer_names.js.
 */
(function () {
  "use strict";

  var SPEAK_AFTER_MS = 700; // a scrub or a run of arrow presses speaks once it rests this long
  var TAP_SLOP_PX = { mouse: 4, pen: 8, touch: 12 }; // farther than this is a drag, not a tap
  var RING_REACH_PX = { mouse: 14, pen: 18, touch: 26 }; // a press this close to the start grabs its ring

  function lab() {
    return window.DescentLab || null;
  }

  function names() {
    return window.DescentExplorerNames.get();
  }

  var byId = window.DescentExplorerNames.byId;

  function mapGraph() {
    var host = byId(names().map);
    return host ? (host.classList.contains("js-plotly-plot") ? host : host.querySelector(".js-plotly-plot")) : null;
  }

  // ------------------------------------------------------------------ keys

  var TYPING_INPUTS = { text: 1, number: 1, search: 1, email: 1, url: 1, tel: 1, password: 1, radio: 1, checkbox: 1, range: 1, file: 1 };

  var ARROW_ROLES = { slider: 1, combobox: 1, listbox: 1, option: 1, spinbutton: 1, radio: 1, menuitem: 1 };

  // "typing": the control uses the key itself; "button": Space and Enter press it; "": free
  function focusKind(el) {
    if (!el || !el.tagName) return "";
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable) return "typing";
    if (tag === "INPUT") return TYPING_INPUTS[(el.type || "text").toLowerCase()] ? "typing" : "button";
    var role = el.getAttribute("role");
    if (role && ARROW_ROLES[role]) return "typing";
    if (el.closest && el.closest(".dash-dropdown, [role='listbox'], .dash-slider-root")) return "typing";
    if (tag === "BUTTON" || tag === "A" || tag === "SUMMARY" || role === "button") return "button";
    return "";
  }

  function click(id) {
    var b = byId(id);
    if (b) b.click();
  }

  function openKeys() {
    var dlg = byId(names().keysDialog);
    if (!dlg || dlg.open || typeof dlg.showModal !== "function") return;
    dlg.__opener = document.activeElement;
    dlg.showModal();
    var close = byId(names().keysClose);
    if (close) close.focus();
  }

  function closeKeys() {
    var dlg = byId(names().keysDialog);
    if (dlg && dlg.open) dlg.close();
  }

  document.addEventListener("close", function (ev) {
    var dlg = ev.target;
    if (!dlg || dlg.id !== names().keysDialog) return;
    var back = dlg.__opener;
    dlg.__opener = null;
    if (back && back.isConnected && back.focus) back.focus();
  }, true);

  document.addEventListener("click", function (ev) {
    var b = ev.target && ev.target.closest ? ev.target.closest("button") : null;
    if (!b || !names().keysOpen) return;
    if (b.id === names().keysOpen) openKeys();
    else if (b.id === names().keysClose) closeKeys();
  });

  document.addEventListener("keydown", function (ev) {
    var L = lab();
    if (!L || !names().play || ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var dlg = byId(names().keysDialog);
    if (dlg && dlg.open) return; // the dialog has the keys (Escape closes it)
    var kind = focusKind(ev.target);
    if (kind === "typing") return;
    var key = ev.key;
    var state = L.state();
    if (key === "?") openKeys();
    else if (key === " " || key === "k" || key === "K") {
      if (key === " " && kind === "button") return; // Space presses the focused button
      L.toggle();
    } else if (key === "ArrowRight" || key === "ArrowLeft") {
      L.seek(state.k + (key === "ArrowRight" ? 1 : -1) * (ev.shiftKey ? 10 : 1));
    } else if (key === "Home") L.seek(0);
    else if (key === "End") L.seek(state.n);
    else if (key === "m" || key === "M") {
      var wrap = byId(names().mapWrap);
      if (wrap) wrap.focus();
    } else if (key === "f" || key === "F") click(names().fullScreen);
    else return;
    ev.preventDefault();
  });

  // ------------------------------------------------------------------ the map by pointer

  var press = null; // {id, kind, x, y, ring, moved, at}

  function cancelPress() {
    var L = lab();
    if (press && press.ring && L) L.previewStart(null);
    press = null;
  }

  function slop(p) {
    return TAP_SLOP_PX[p.kind] || TAP_SLOP_PX.touch;
  }

  document.addEventListener("pointerdown", function (ev) {
    var L = lab();
    if (press && ev.pointerId !== press.id) { // a second finger: a pinch, not a tap or a ring drag
      cancelPress();
      return;
    }
    press = null;
    var gd = L && names().map ? mapGraph() : null;
    if (!gd || !ev.isPrimary || (ev.pointerType === "mouse" && ev.button !== 0)) return;
    var layer = ev.target && ev.target.closest ? ev.target.closest(".nsewdrag") : null;
    if (!layer || !gd.contains(layer) || !L.dataPoint(ev.clientX, ev.clientY)) return;
    var kind = ev.pointerType || "mouse";
    var start = L.start();
    var ringAt = start ? L.pagePoint(start[0], start[1]) : null;
    var reach = RING_REACH_PX[kind] || RING_REACH_PX.touch;
    var ring = !!ringAt && Math.hypot(ev.clientX - ringAt[0], ev.clientY - ringAt[1]) <= reach;
    press = { id: ev.pointerId, kind: kind, x: ev.clientX, y: ev.clientY, ring: ring, moved: false };
    if (ring) {
      // the ring's drag is ours: no zoom box (preventDefault stops the mouse events plotly listens to)
      ev.preventDefault();
      ev.stopPropagation();
      if (layer.setPointerCapture) {
        try {
          layer.setPointerCapture(ev.pointerId);
        } catch (err) {
          /* the pointer is already gone */
        }
      }
    }
  }, true);

  // a finger's touchstart on the ring must not reach plotly's own drag handler either
  document.addEventListener("touchstart", function (ev) {
    if (press && press.ring) {
      ev.stopPropagation();
      if (ev.cancelable) ev.preventDefault();
    }
    if (ev.touches && ev.touches.length > 1) cancelPress();
  }, { capture: true, passive: false });

  document.addEventListener("pointermove", function (ev) {
    if (!press || ev.pointerId !== press.id) return;
    if (Math.hypot(ev.clientX - press.x, ev.clientY - press.y) > slop(press)) press.moved = true;
    if (!press.ring || !press.moved) return;
    ev.preventDefault();
    var pt = lab().dataPoint(ev.clientX, ev.clientY);
    if (pt) {
      press.to = pt;
      lab().previewStart(pt);
    }
  }, true);

  document.addEventListener("pointerup", function (ev) {
    if (!press || ev.pointerId !== press.id) return;
    var p = press;
    press = null;
    var L = lab();
    if (p.ring) {
      if (p.moved && p.to) L.setStart(p.to[0], p.to[1]); // the ring stays there until the new race arrives
      else L.previewStart(null);
      return;
    }
    if (Math.hypot(ev.clientX - p.x, ev.clientY - p.y) > slop(p)) return; // a zoom or pan drag
    var at = L.dataPoint(p.x, p.y);
    if (at) L.setStart(at[0], at[1]);
  }, true);

  document.addEventListener("pointercancel", function (ev) {
    if (press && ev.pointerId === press.id) cancelPress();
  }, true);

  // ------------------------------------------------------------------ the spoken race summary

  var speakTimer = null;

  document.addEventListener("descentlab:settled", function () {
    if (speakTimer) clearTimeout(speakTimer);
    speakTimer = setTimeout(function () {
      speakTimer = null;
      var L = lab();
      var region = byId(names().raceSummary);
      if (!L || !region || L.state().playing) return;
      var text = L.summary();
      if (region.textContent !== text) region.textContent = text;
    }, SPEAK_AFTER_MS);
  });
})();
