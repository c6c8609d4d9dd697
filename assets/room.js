/*
 * Descent Lab class rooms, in the browser.
 *
 * Student (a /room/<code> page): the server's tick puts the room's public state in a store, and
 * descentRoom.follow receives it.  While the student follows, another lesson or step reloads the page
 * (the server renders the room's current step); on the same step the view takes the teacher's play
 * state and, while paused, the teacher's scrubber position.  "Explore on my own" stops following;
 * "Follow again" reloads onto the teacher's step.
 * Teacher (a player page with a room box showing a code): twice a second the view's play state and,
 * while paused, its step are passed to the room (through the room-view store) when they change.
 * Ids come from the player root's data-lesson-names attribute (app/lessons/ids.py).
 */
(function () {
  "use strict";

  function root() {
    return document.querySelector("[data-lesson-names]");
  }

  function names() {
    var r = root();
    return r ? JSON.parse(r.getAttribute("data-lesson-names")) : null;
  }

  function view() {
    var n = names();
    var frame = n && document.getElementById(n.frame);
    try {
      return frame && frame.contentWindow && frame.contentWindow.DescentLab ? frame.contentWindow.DescentLab : null;
    } catch (e) {
      return null;
    }
  }

  function exploring(n) {
    var b = document.getElementById(n.roomFollow);
    return !!b && b.getAttribute("aria-pressed") === "true";
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.descentRoom = {
    follow: function (state) {
      var nothing = window.dash_clientside.no_update;
      var n = names();
      if (!n || !state || state.ended || exploring(n)) return nothing;
      var at = root().getAttribute("data-lesson-at");
      if (at !== state.lesson + ":" + state.step) {
        window.location.reload();
        return nothing;
      }
      var v = view();
      if (!v) return nothing;
      var s = v.state();
      if (!s.n) return nothing;
      if (state.playing && !s.playing) v.play();
      else if (!state.playing) {
        if (s.playing) v.pause();
        if (s.k !== state.k) v.seek(state.k);
      }
      return nothing;
    },
  };

  document.addEventListener("click", function (ev) {
    var n = names();
    var b = n && ev.target && ev.target.closest ? ev.target.closest("button") : null;
    if (!b || b.id !== n.roomFollow) return;
    var alone = b.getAttribute("aria-pressed") !== "true";
    b.setAttribute("aria-pressed", alone ? "true" : "false");
    b.textContent = alone ? "Follow again" : "Explore on my own";
    if (!alone) window.location.reload(); // back onto the teacher's step
  });

  var last = null;
  window.setInterval(function () {
    var n = names();
    if (!n || !document.getElementById(n.roomCode) || !window.dash_clientside.set_props) return;
    var v = view();
    if (!v) return;
    var s = v.state();
    if (!s.n) return;
    var now = { k: s.k, playing: !!s.playing };
    if (last && last.playing === now.playing && (now.playing || last.k === now.k)) return;
    last = now;
    window.dash_clientside.set_props(n.roomView, { data: now });
  }, 500);
})();
