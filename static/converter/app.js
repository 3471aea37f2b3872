// Loopforge front end: upload with progress and drag-and-drop, live task status.
(function () {
  "use strict";

  function humanBytes(n) {
    if (n < 1024) return n + " bytes";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  // ---- Upload page ---------------------------------------------------------
  var form = document.getElementById("upload-form");
  if (form) {
    var input = document.getElementById("id_video");
    var zone = document.getElementById("dropzone");
    var label = document.getElementById("dz-file");
    // Django refuses a request with more files than DATA_UPLOAD_MAX_NUMBER_FILES (100).
    var MAX_FILES = 100;
    var showName = function () {
      var files = input.files;
      if (files.length === 1) {
        label.textContent = files[0].name + " (" + humanBytes(files[0].size) + ")";
      } else if (files.length > 1) {
        // An HLS bundle: name the playlist and count its segments.
        var total = 0, playlist = null;
        for (var i = 0; i < files.length; i++) {
          total += files[i].size;
          if (/\.m3u8?$/i.test(files[i].name)) playlist = files[i].name;
        }
        label.textContent = (playlist ? playlist + " + " + (files.length - 1) + " segments" : files.length + " files") +
          " (" + humanBytes(total) + ")";
      }
    };
    input.addEventListener("change", showName);

    // The width box matters only for "Width in pixels".
    var widthRow = document.getElementById("width-row");
    var sizeChoice = function () {
      var chosen = form.querySelector("input[name=size]:checked");
      widthRow.hidden = !chosen || chosen.value !== "pixels";
    };
    form.querySelectorAll("input[name=size]").forEach(function (r) { r.addEventListener("change", sizeChoice); });
    sizeChoice();
    ["dragenter", "dragover"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        showName();
      }
    });

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var error = document.getElementById("upload-error");
      var bar = document.getElementById("upload-progress");
      var fill = document.getElementById("upload-fill");
      var percent = document.getElementById("upload-percent");
      var button = document.getElementById("submit");
      error.hidden = true;
      if (!input.files.length) {
        error.textContent = "Choose a video first.";
        error.hidden = false;
        return;
      }
      if (input.files.length >= MAX_FILES) {
        error.textContent = "At most " + (MAX_FILES - 1) + " segments can be uploaded with a playlist.";
        error.hidden = false;
        return;
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (ev) {
        if (!ev.lengthComputable) return;
        var p = Math.round((100 * ev.loaded) / ev.total);
        fill.style.width = p + "%";
        percent.textContent = p + "%";
      });
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
        if (xhr.status === 201 && body.url) {
          window.location.assign(body.url);
          return;
        }
        // The web's one error shape: {code, message, errors: {field: [...]}}.
        var messages = body.message ? [body.message] : [];
        Object.keys(body.errors || {}).forEach(function (k) {
          body.errors[k].forEach(function (m) { if (messages.indexOf(m) < 0) messages.push(m); });
        });
        error.textContent = messages.join(" ") || ("Upload failed (HTTP " + xhr.status + ").");
        error.hidden = false;
        button.disabled = false;
        bar.hidden = true;
      });
      xhr.addEventListener("error", function () {
        error.textContent = "The upload was interrupted. Check your connection and try again.";
        error.hidden = false;
        button.disabled = false;
      });
      button.disabled = true;
      bar.hidden = false;
      xhr.send(new FormData(form));
    });
  }

  // ---- Task page -------------------------------------------------------------
  var task = document.getElementById("task");
  if (task) {
    var statusUrl = task.dataset.statusUrl;
    // Set here, not in a style attribute: the Content-Security-Policy allows no inline style.
    var fill = document.getElementById("progress-fill");
    fill.style.width = fill.dataset.progress + "%";
    var render = function (s) {
      var badge = document.getElementById("status");
      badge.textContent = s.status_label;
      badge.className = "badge " + s.status;
      var finished = s.status === "succeeded" || s.status === "failed";
      document.getElementById("progress-bar").hidden = finished;
      document.getElementById("progress-fill").style.width = s.progress + "%";
      document.getElementById("progress").textContent = finished ? "" : s.progress + "%";
      if (s.status === "failed") {
        document.getElementById("failure-code").textContent = s.code;
        document.getElementById("failure-message").textContent = s.message;
        document.getElementById("failure").hidden = false;
      }
      if (s.status === "succeeded") {
        var box = document.getElementById("outputs");
        if (!box.children.length) {
          s.outputs.forEach(function (o) {
            var fig = document.createElement("figure");
            fig.className = "output";
            var img = document.createElement("img");
            img.className = "animation";
            img.src = o.url;
            img.alt = "Animation";
            img.width = o.width;
            img.height = o.height;
            var cap = document.createElement("figcaption");
            cap.innerHTML = '<span class="dims"></span> · <span class="frames"></span> frames · ' +
              '<span class="bytes"></span> · <span class="fmt"></span> <a class="button download">Download</a>';
            cap.querySelector(".dims").textContent = o.width + " × " + o.height;
            cap.querySelector(".frames").textContent = o.frames;
            cap.querySelector(".bytes").textContent = humanBytes(o.bytes);
            cap.querySelector(".bytes").dataset.bytes = o.bytes;
            cap.querySelector(".fmt").textContent = o.format.toUpperCase();
            var dl = cap.querySelector(".download");
            dl.href = o.url + "?download=1";
            dl.setAttribute("download", "");
            fig.appendChild(img);
            fig.appendChild(cap);
            box.appendChild(fig);
          });
        }
        document.getElementById("share").hidden = false;
      }
      return finished;
    };
    var poll = function () {
      fetch(statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) { if (!render(s)) setTimeout(poll, 1000); })
        .catch(function () { setTimeout(poll, 3000); });
    };
    if (task.dataset.status !== "succeeded" && task.dataset.status !== "failed") poll();
  }

  // ---- Copy buttons ---------------------------------------------------------
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.querySelector(button.dataset.copy);
      field.select();
      var done = function () { button.textContent = "Copied!"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
})();
