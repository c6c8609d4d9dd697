/*
 * Descent Lab: a page opened under /embed (for an iframe in slides or a course page) is drawn without
 * the site's chrome: the "embedded" class on <html> switches the header's links and brand off
 * (assets/lesson.css has the rules; the lesson player sets the same class on the views it frames).
 */
(function () {
  "use strict";
  var path = window.location.pathname;
  if (path === "/embed" || path.indexOf("/embed/") === 0) document.documentElement.classList.add("embedded");
})();
