// The admin index's overview refreshes itself in place every few seconds (while the tab is visible).
(function () {
  "use strict";
  var box = document.getElementById("nt-overview");
  if (!box) { return; }
  var every = (parseInt(box.dataset.refresh, 10) || 5) * 1000;
  var timer = null;
  function refresh() {
    if (document.hidden) { return; }
    fetch(box.dataset.url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (!response.ok || response.redirected) {  // logged out (sent to the login page) or an error: stop, say so
        box.classList.add("nt-stale");
        if (response.redirected) { clearInterval(timer); }
        return null;
      }
      return response.text();
    }).then(function (html) {
      if (html !== null) { box.innerHTML = html; box.classList.remove("nt-stale"); }
    }).catch(function () { box.classList.add("nt-stale"); });
  }
  timer = setInterval(refresh, every);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
}());
