/* Descent Lab · Autoencoder lab: the page's clientside callbacks, used as ClientsideFunction("lab", name)
   (registered in app/lab/callbacks.py).  Dash serves this file to every page; nothing runs until a lab
   callback calls it.  Component ids are never written here: each function gets the ids it needs as
   arguments (a component's "id" property), so they come from app/lab/ids.py alone. */
(function () {
  "use strict";

  var TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

  function noUpdate() {
    return window.dash_clientside.no_update;
  }

  /* This browser's id: kept in local storage (the dcc.Store ``storeId``, whose storage key is its id),
     made once from random bytes; the server checks its form again. */
  function browserId(nonce, current, storeId) {
    if (typeof current === "string" && TOKEN.test(current)) { return current; }
    var stored = null;
    try { stored = JSON.parse(window.localStorage.getItem(storeId)); } catch (e) { stored = null; }
    if (typeof stored === "string" && TOKEN.test(stored)) { return stored; }
    var bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    var text = btoa(String.fromCharCode.apply(null, bytes));
    return text.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /* Blocks the file picker's and a drop's files over ``limit`` bytes on the upload ``uploadId`` with a
     message in ``messageId`` (dcc.Upload drops them silently).  Installs its listeners once. */
  function guardUpload(nonce, uploadId, messageId, limit) {
    if (window.__labUploadGuard) { return noUpdate(); }
    window.__labUploadGuard = true;
    function inUpload(target) {
      var box = document.getElementById(uploadId);
      return Boolean(box && target && box.contains(target));
    }
    function check(files) {
      if (!files || !files.length) { return; }
      var f = files[0];
      if (f.size > limit) {
        window.dash_clientside.set_props(messageId, {children: "Refused: " + f.name + " is " +
          (f.size / 1048576).toFixed(1) + " MB; the upload limit is " + (limit / 1048576) + " MB."});
      }
    }
    document.addEventListener("change", function (e) {
      if (inUpload(e.target)) { check(e.target.files); }
    }, true);
    document.addEventListener("drop", function (e) {
      if (inUpload(e.target) && e.dataTransfer) { check(e.dataTransfer.files); }
    }, true);
    return noUpdate();
  }

  /* The loss landscape the radio buttons ask for, from the race's two (PCA and random directions). */
  function pickLandscape(method, figs) {
    if (!figs) { return noUpdate(); }
    return figs[method] || figs.pca || figs.random;
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.lab = {browserId: browserId, guardUpload: guardUpload, pickLandscape: pickLandscape};
})();
