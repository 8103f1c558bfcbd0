// Keeps the recordings table current while jobs run: re-fetches the rows (server-rendered HTML) every 2 s.
(function () {
  "use strict";
  var body = document.getElementById("recording-rows");
  if (!body) return;
  var ACTIVE = ["uploaded", "queued", "transcribing", "diarising", "redacting"];
  function active() {
    return Array.prototype.some.call(body.querySelectorAll("tr[data-state]"), function (tr) {
      return ACTIVE.indexOf(tr.getAttribute("data-state")) >= 0;
    });
  }
  function tick() {
    if (!active()) return;
    fetch(body.getAttribute("data-poll"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.redirected || !r.ok) throw new Error("stopped");
        return r.text();
      })
      .then(function (html) { body.innerHTML = html; window.setTimeout(tick, 2000); })
      .catch(function () { /* signed out or offline: the page can be reloaded by hand */ });
  }
  window.setTimeout(tick, 2000);
})();
