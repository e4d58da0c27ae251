// The API docs pages (Swagger UI, ReDoc) for a key holder: the key pasted in the bar is kept in this tab's
// sessionStorage and added as "Authorization: Api-Key <key>" to the page's own requests to this site
// (the schema, and Swagger's "Try it out"). It is never sent anywhere else.
(function () {
  "use strict";
  var STORE = "nt-api-key";
  var nativeFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var key = sessionStorage.getItem(STORE);
    var url = typeof input === "string" ? input : input.url;
    if (key && new URL(url, window.location.href).origin === window.location.origin) {
      init = Object.assign({}, init || {});
      var headers = new Headers(init.headers || (typeof input === "string" ? undefined : input.headers));
      if (!headers.has("Authorization")) { headers.set("Authorization", "Api-Key " + key); }
      init.headers = headers;
    }
    return nativeFetch(input, init);
  };
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("nt-key-bar");
    if (!form) { return; }
    var state = document.getElementById("nt-key-state");
    state.textContent = sessionStorage.getItem(STORE) ? "using the key pasted in this tab" : "no key: paste one to read the schema (staff signed in to the admin need none)";
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var key = form.elements.key.value.trim();
      if (key) { sessionStorage.setItem(STORE, key); window.location.reload(); }
    });
    document.getElementById("nt-forget-key").addEventListener("click", function () {
      sessionStorage.removeItem(STORE);
      window.location.reload();
    });
  });
}());
