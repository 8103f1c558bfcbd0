// Drag-and-drop and an upload progress bar for the upload form. Without this file the form posts as usual.
(function () {
  "use strict";
  document.documentElement.classList.add("has-js");
  var form = document.getElementById("upload-form");
  if (!form) return;
  var input = document.getElementById("file");
  var zone = document.getElementById("dropzone");
  var wrap = document.getElementById("progress-wrap");
  var bar = document.getElementById("upload-progress");
  var percent = document.getElementById("upload-percent");
  var status = document.getElementById("upload-status");
  var button = document.getElementById("upload-button");

  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      input.dispatchEvent(new Event("change"));
    }
  });

  function fail(messages) {
    status.textContent = "";
    var p = document.createElement("p");
    p.textContent = "The upload was not accepted:";
    var ul = document.createElement("ul");
    messages.forEach(function (m) { var li = document.createElement("li"); li.textContent = m; ul.appendChild(li); });
    status.appendChild(p);
    status.appendChild(ul);
    status.hidden = false;
    wrap.hidden = true;
    button.disabled = false;
    status.focus();
  }

  form.addEventListener("submit", function (e) {
    if (!window.FormData || !window.XMLHttpRequest) return;  // the plain form post still works
    e.preventDefault();
    status.hidden = true;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
    xhr.upload.addEventListener("progress", function (ev) {
      if (!ev.lengthComputable) return;
      var pc = Math.floor((ev.loaded / ev.total) * 100);
      bar.value = pc;
      bar.textContent = pc + " %";
      percent.textContent = pc + " %";
    });
    xhr.addEventListener("load", function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
      if (xhr.status === 202 && body && body.next) {
        bar.value = 100;
        percent.textContent = "100 % – received";
        window.location.assign(body.next);
        return;
      }
      if (xhr.responseURL && xhr.responseURL.indexOf("/signin") >= 0) { window.location.assign("/signin"); return; }
      var detail = body && body.detail;
      fail(Array.isArray(detail) ? detail.map(String) : [detail ? String(detail) : "The server answered " + xhr.status + "."]);
    });
    xhr.addEventListener("error", function () { fail(["The connection failed during the upload."]); });
    wrap.hidden = false;
    button.disabled = true;
    xhr.send(new FormData(form));
  });
  status.setAttribute("tabindex", "-1");
})();
