// Loopforge front end: the editor (background upload, player, timeline), live task status.
(function () {
  "use strict";

  function humanBytes(n) {
    if (n < 1024) return n + " bytes";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  // ---- Upload page: the editor ---------------------------------------------
  // A chosen video uploads at once in the background (a "draft": stored and
  // probed), plays here from the local file when the browser can, and is
  // trimmed on a timeline; Convert then sends only the settings and the
  // draft's id. Without script the form posts everything in one request.
  var form = document.getElementById("upload-form");
  if (form) {
    var input = document.getElementById("id_video");
    var zone = document.getElementById("dropzone");
    var label = document.getElementById("dz-file");
    var draftField = document.getElementById("id_draft");
    var errorBox = document.getElementById("upload-error");
    var bar = document.getElementById("upload-progress");
    var fill = document.getElementById("upload-fill");
    var percent = document.getElementById("upload-percent");
    var uploadLabel = document.getElementById("upload-label");
    var button = document.getElementById("submit");
    var startField = document.getElementById("id_start");
    var durationField = document.getElementById("id_duration");
    var fpsField = document.getElementById("id_fps");
    var widthField = document.getElementById("id_width");
    var editor = document.getElementById("editor");
    var playerBox = document.getElementById("player-box");
    var video = document.getElementById("player");
    var noPreview = document.getElementById("no-preview");
    var timeline = document.getElementById("timeline");
    var track = document.getElementById("track");
    var selection = document.getElementById("selection");
    var playhead = document.getElementById("playhead");
    var handleStart = document.getElementById("handle-start");
    var handleEnd = document.getElementById("handle-end");
    var selectionText = document.getElementById("selection-text");
    var maxLengthText = document.getElementById("max-length");
    var sourceFacts = document.getElementById("source-facts");
    var outputFacts = document.getElementById("output-facts");
    var filmstrip = document.getElementById("filmstrip");
    var maxFrames = parseInt(form.dataset.maxFrames, 10) || 1000;
    // Django refuses a request with more files than DATA_UPLOAD_MAX_NUMBER_FILES (100).
    var MAX_FILES = 100;
    var FALLBACK_FPS = 30; // a frame step before the probe has answered

    var ed = {
      xhr: null,          // the background upload while it runs
      uploading: false,
      draft: null,        // the server's answer: {draft_id, duration, width, height, fps, ...}
      failure: "",        // the server's refusal of the chosen file
      objectUrl: null,
      duration: 0,        // of the source, seconds (the player's, else the probe's)
      start: 0,
      end: 0,
      playable: false,
      convertWaiting: false,
      paused: false,      // paused by the person (not by a drag)
      generation: 0       // bumped with every new file: late answers for old ones are ignored
    };

    var showError = function (text) {
      errorBox.textContent = text;
      errorBox.hidden = !text;
    };
    var messagesOf = function (xhr) {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
      // The web's one error shape: {code, message, errors: {field: [...]}}.
      var messages = body.message ? [body.message] : [];
      Object.keys(body.errors || {}).forEach(function (k) {
        body.errors[k].forEach(function (m) { if (messages.indexOf(m) < 0) messages.push(m); });
      });
      return { body: body, text: messages.join(" ") || ("The request failed (HTTP " + xhr.status + ").") };
    };
    var round3 = function (t) { return Math.round(t * 1000) / 1000; };
    var num = function (t) { return String(round3(t)); };
    var secs = function (t) { return t.toFixed(2) + " s"; };

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

    // ---- Numbers: frame step, limits, output ----
    var sourceFps = function () {
      var f = ed.draft && ed.draft.fps;
      return f > 0 && f <= 1000 ? f : FALLBACK_FPS;
    };
    var frameStep = function () { return 1 / sourceFps(); };
    var outFps = function () {
      var f = parseFloat(fpsField.value);
      return f > 0 ? f : 10;
    };
    var speedField = document.getElementById("id_speed");
    var boomerangField = document.getElementById("id_boomerang");
    var speed = function () {
      var v = speedField ? parseFloat(speedField.value) : 1;
      return v >= 0.25 && v <= 4 ? v : 1;
    };
    var boomerang = function () { return !!(boomerangField && boomerangField.checked); };
    // Frames sampled from the selection: speed s samples the source s times
    // further apart; a boomerang of n sampled frames makes 2n - 2.
    var madeFrames = function (sampled) { return boomerang() ? Math.max(sampled, 2 * sampled - 2) : sampled; };
    // The longest selection the frame limit allows at the chosen fps and speed.
    var maxLength = function () {
      var sampled = boomerang() ? Math.floor((maxFrames + 2) / 2) : maxFrames;
      return (sampled * speed()) / outFps();
    };
    var sourceSize = function () {
      if (video.videoWidth && video.videoHeight) return [video.videoWidth, video.videoHeight];
      if (ed.draft && ed.draft.width) return [ed.draft.width, ed.draft.height];
      return null;
    };
    var outputSize = function () {
      var src = sourceSize();
      if (!src) return null;
      var chosen = form.querySelector("input[name=size]:checked");
      var how = chosen ? chosen.value : "half";
      var w = how === "original" ? src[0] : how === "pixels" ? parseInt(widthField.value, 10) : src[0] / 2;
      if (!(w > 0)) return null;
      w = Math.round(w);
      return [w, Math.max(1, Math.round((w * src[1]) / src[0]))];
    };
    var frameCount = function () {
      return madeFrames(Math.max(1, Math.ceil(((ed.end - ed.start) * outFps()) / speed() - 1e-6)));
    };
    var shortSeconds = function (t) { // never more than the limit: rounded down
      var s = Math.floor(t * 10) / 10;
      return (s === Math.floor(s) ? String(s) : s.toFixed(1)) + " s";
    };

    // ---- Rendering the state on the timeline, the fields and the texts ----
    var render = function (from) {
      var d = ed.duration;
      if (d > 0) {
        var a = (100 * ed.start) / d, b = (100 * ed.end) / d;
        handleStart.style.left = a + "%";
        handleEnd.style.left = b + "%";
        selection.style.left = a + "%";
        selection.style.width = Math.max(0, b - a) + "%";
        [[handleStart, ed.start, "Start"], [handleEnd, ed.end, "End"]].forEach(function (h) {
          h[0].setAttribute("aria-valuemin", "0");
          h[0].setAttribute("aria-valuemax", num(d));
          h[0].setAttribute("aria-valuenow", num(h[1]));
          h[0].setAttribute("aria-valuetext", h[2] + " " + secs(h[1]));
        });
        selectionText.textContent = "Selection: " + secs(ed.start) + " to " + secs(ed.end) +
          " (" + secs(ed.end - ed.start) + ")";
        // Written back unless the person is typing in them: "fields" writes
        // neither, a field's own name only that one (left after typing).
        if (from !== "fields" && from !== durationField) startField.value = num(ed.start);
        if (from !== "fields" && from !== startField) durationField.value = num(ed.end - ed.start);
        var limit = maxLength();
        var reached = ed.end - ed.start >= limit - frameStep() / 2;
        maxLengthText.hidden = !reached;
        maxLengthText.textContent = reached
          ? "At " + num(outFps()) + " fps, at most " + shortSeconds(limit) + " (" + maxFrames + " frames)."
          : "";
      }
      if (ed.draft) {
        // The player's size when it plays the file (it applies the rotation
        // a phone recorded), else the header probe's.
        var src = sourceSize(), facts = [];
        if (!ed.draft.audio_only) facts.push(src[0] + " × " + src[1], num(ed.draft.fps) + " fps");
        facts.push(secs(ed.draft.duration));
        sourceFacts.textContent = "Source: " + facts.join(", ");
      }
      var size = outputSize();
      var parts = [];
      if (size) parts.push(size[0] + " × " + size[1]);
      if (d > 0) parts.push(frameCount() + " frames");
      outputFacts.textContent = parts.length ? "Output: " + parts.join(", ") : "";
      outputFacts.hidden = !parts.length;
    };

    // Keeps start/end inside the video, in order, and within the frame limit;
    // ``moved`` says which end the person moved (the other one stays).
    var settle = function (moved) {
      var d = ed.duration, step = frameStep(), limit = maxLength();
      ed.start = Math.min(Math.max(0, ed.start), Math.max(0, d - step));
      ed.end = Math.min(Math.max(ed.end, ed.start + step), d);
      // The handle moved stops at the longest length; the other stays put.
      if (ed.end - ed.start > limit) {
        if (moved === "start") ed.start = ed.end - limit;
        else ed.end = ed.start + limit;
      }
    };
    var snap = function (t) { // onto the source's frame grid
      var f = sourceFps();
      return Math.round(t * f) / f;
    };

    var seek = function (t) {
      if (ed.playable && isFinite(t)) {
        try { video.currentTime = Math.max(0, t); } catch (err) { /* not seekable yet */ }
      }
    };

    var setFromFields = function () {
      if (!(ed.duration > 0)) return;
      var s = parseFloat(startField.value);
      var len = parseFloat(durationField.value);
      ed.start = s >= 0 ? s : 0;
      ed.end = len > 0 ? ed.start + len : ed.duration;
      settle("end");
      render("fields");
      seek(ed.start);
    };
    startField.addEventListener("input", setFromFields);
    durationField.addEventListener("input", setFromFields);
    // A value the limits changed is written back when the field is left
    // (only that field: the other may be empty, "to the end").
    [startField, durationField].forEach(function (f) {
      f.addEventListener("change", function () {
        if (ed.duration > 0 && (f === startField || f.value !== "")) render(f);
      });
    });
    fpsField.addEventListener("input", function () {
      if (ed.duration > 0) { settle("end"); render("fields"); } else { render(); }
    });
    if (widthField) widthField.addEventListener("input", function () { render("fields"); });
    [speedField, boomerangField].forEach(function (f) {
      if (!f) return;
      f.addEventListener("change", function () {
        video.playbackRate = speed();
        if (ed.duration > 0) { settle("end"); render("fields"); } else { render(); }
      });
    });

    // The source's length is known: from the player, or else the probe.
    var setDuration = function (d) {
      if (!(d > 0) || !isFinite(d)) return;
      var first = !(ed.duration > 0);
      ed.duration = d;
      timeline.hidden = false;
      if (first) {
        var s = parseFloat(startField.value);
        var len = parseFloat(durationField.value);
        ed.start = s > 0 ? s : 0;
        ed.end = len > 0 ? ed.start + len : d;
        var untouched = !(len > 0);
        settle("end");
        // "Empty: to the end" stays as it is while the whole video fits.
        if (untouched && ed.end >= d) { render("fields"); } else { render(); }
        drawFilmstrip();
      } else {
        settle("end");
        render("fields");
      }
    };

    // ---- Dragging and keys ----
    var timeAt = function (clientX) {
      var r = track.getBoundingClientRect();
      var x = Math.min(Math.max(clientX - r.left, 0), r.width);
      return snap((x / r.width) * ed.duration);
    };
    [[handleStart, "start"], [handleEnd, "end"]].forEach(function (pair) {
      var handle = pair[0], which = pair[1];
      var move = function (t) {
        if (which === "start") ed.start = t; else ed.end = t;
        settle(which);
        render();
        seek(which === "start" ? ed.start : Math.max(ed.start, ed.end - frameStep()));
      };
      handle.addEventListener("pointerdown", function (e) {
        if (!(ed.duration > 0)) return;
        e.preventDefault();
        handle.focus();
        handle.setPointerCapture(e.pointerId);
        handle.classList.add("dragging");
        video.pause();
      });
      handle.addEventListener("pointermove", function (e) {
        if (handle.hasPointerCapture && handle.hasPointerCapture(e.pointerId)) move(timeAt(e.clientX));
      });
      var release = function (e) {
        if (!handle.classList.contains("dragging")) return;
        handle.classList.remove("dragging");
        if (handle.hasPointerCapture(e.pointerId)) handle.releasePointerCapture(e.pointerId);
        if (!ed.paused) play();
      };
      handle.addEventListener("pointerup", release);
      handle.addEventListener("pointercancel", release);
      handle.addEventListener("keydown", function (e) {
        if (!(ed.duration > 0)) return;
        var t = which === "start" ? ed.start : ed.end, step = frameStep();
        var keys = {
          ArrowLeft: t - step, ArrowDown: t - step, ArrowRight: t + step, ArrowUp: t + step,
          PageDown: t - 1, PageUp: t + 1, Home: 0, End: ed.duration
        };
        if (!(e.key in keys)) return;
        e.preventDefault();
        move(keys[e.key]);
      });
    });

    // ---- The player loops the selection ----
    var play = function () {
      if (!ed.playable) return;
      if (video.currentTime < ed.start || video.currentTime >= ed.end) seek(ed.start);
      var p = video.play();
      if (p && p.catch) p.catch(function () { /* autoplay refused: the person presses play */ });
    };
    var tick = function () {
      if (ed.playable && ed.duration > 0) {
        if (!video.paused && (video.currentTime >= ed.end || video.currentTime < ed.start - 0.25)) seek(ed.start);
        playhead.style.left = (100 * video.currentTime) / ed.duration + "%";
      }
      window.requestAnimationFrame(tick);
    };
    window.requestAnimationFrame(tick);
    video.addEventListener("loadedmetadata", function () {
      ed.playable = true;
      playerBox.hidden = false;
      noPreview.hidden = true;
      editor.classList.toggle("portrait", video.videoHeight > video.videoWidth);
      setDuration(video.duration);
      if (!ed.paused) play();
    });
    video.addEventListener("ended", function () { if (!ed.paused) play(); });
    video.addEventListener("error", function () {
      if (!ed.objectUrl) return;
      ed.playable = false;
      playerBox.hidden = true;
      noPreview.hidden = false;
    });
    // Moving pictures can be stopped (with the button from the keyboard too).
    var playToggle = document.getElementById("play-toggle");
    var toggle = function () {
      ed.paused = !video.paused; // the person's choice, which a drag keeps
      if (ed.paused) video.pause(); else play();
    };
    video.addEventListener("click", toggle);
    playToggle.addEventListener("click", toggle);
    video.addEventListener("play", function () { playToggle.textContent = "Pause"; });
    video.addEventListener("pause", function () { playToggle.textContent = "Play"; });

    // Thumbnails drawn from the local file by a second, hidden video element.
    var drawFilmstrip = function () {
      filmstrip.textContent = "";
      if (!ed.objectUrl || !ed.playable) return;
      var count = 8, gen = ed.generation, i = 0;
      var probe = document.createElement("video");
      probe.muted = true;
      probe.preload = "auto";
      var next = function () {
        if (gen !== ed.generation || i >= count) { probe.removeAttribute("src"); probe.load(); return; }
        probe.currentTime = ((i + 0.5) * ed.duration) / count;
      };
      probe.addEventListener("seeked", function () {
        if (gen !== ed.generation) return;
        var c = document.createElement("canvas");
        var h = 48, w = Math.max(1, Math.round((h * probe.videoWidth) / Math.max(1, probe.videoHeight)));
        c.width = w;
        c.height = h;
        c.getContext("2d").drawImage(probe, 0, 0, w, h);
        filmstrip.appendChild(c);
        i += 1;
        next();
      });
      probe.addEventListener("loadeddata", next, { once: true });
      probe.src = ed.objectUrl;
    };

    // ---- The background upload ----
    var progress = function (p, text) {
      bar.hidden = false;
      fill.style.width = p + "%";
      percent.textContent = p + "%";
      uploadLabel.textContent = text;
    };
    var upload = function () {
      var gen = ed.generation;
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      for (var i = 0; i < input.files.length; i++) data.append("video", input.files[i]);
      var xhr = new XMLHttpRequest();
      ed.xhr = xhr;
      ed.uploading = true;
      xhr.open("POST", form.dataset.draftUrl);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (ev) {
        if (ev.lengthComputable) progress(Math.round((100 * ev.loaded) / ev.total), "Uploading");
      });
      xhr.addEventListener("load", function () {
        if (gen !== ed.generation) return;
        ed.uploading = false;
        if (xhr.status === 201) {
          ed.draft = JSON.parse(xhr.responseText);
          draftField.value = ed.draft.draft_id;
          progress(100, "Uploaded");
          if (!ed.playable) setDuration(ed.draft.duration);
          render(ed.duration > 0 ? "fields" : undefined);
        } else {
          ed.failure = messagesOf(xhr).text;
          bar.hidden = true;
          showError(ed.failure);
        }
        if (ed.convertWaiting) convert();
      });
      xhr.addEventListener("error", function () {
        if (gen !== ed.generation) return;
        ed.uploading = false;
        ed.failure = "The upload was interrupted. Check your connection and try again.";
        bar.hidden = true;
        showError(ed.failure);
        if (ed.convertWaiting) convert();
      });
      progress(0, "Uploading");
      xhr.send(data);
    };

    var chosen = function () {
      showName();
      ed.generation += 1;
      if (ed.xhr && ed.uploading) ed.xhr.abort();
      if (ed.objectUrl) URL.revokeObjectURL(ed.objectUrl);
      ed.xhr = null;
      ed.uploading = false;
      ed.draft = null;
      ed.failure = "";
      ed.objectUrl = null;
      ed.duration = 0;
      ed.playable = false;
      ed.paused = false;
      draftField.value = "";
      sourceFacts.textContent = "";
      timeline.hidden = true;
      playerBox.hidden = true;
      noPreview.hidden = true;
      filmstrip.textContent = "";
      showError("");
      render();
      if (!input.files.length) return;
      if (input.files.length >= MAX_FILES) {
        ed.failure = "At most " + (MAX_FILES - 1) + " segments can be uploaded with a playlist.";
        showError(ed.failure);
        return;
      }
      if (input.files.length === 1) {
        // Played from the local file at once; a format the browser cannot
        // play says so (error event) and is trimmed with the numbers alone.
        ed.objectUrl = URL.createObjectURL(input.files[0]);
        video.src = ed.objectUrl;
      } else {
        noPreview.hidden = false; // an HLS bundle is joined on the server
      }
      zone.classList.add("compact");
      upload();
    };
    input.addEventListener("change", chosen);

    // The width box matters only for "Width in pixels".
    var widthRow = document.getElementById("width-row");
    var sizeChoice = function () {
      var choice = form.querySelector("input[name=size]:checked");
      widthRow.hidden = !choice || choice.value !== "pixels";
      render("fields");
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
        chosen();
      }
    });

    // ---- Convert: the settings and the draft's id, never the file again ----
    var convert = function () {
      ed.convertWaiting = false;
      if (ed.failure) {
        showError(ed.failure);
        button.disabled = false;
        button.textContent = "Convert";
        return;
      }
      var data = new FormData(form);
      // With a draft the file is on the server already; without one (the
      // file input was filled before this script ran) it goes in this post.
      if (ed.draft) data.delete("video");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.addEventListener("load", function () {
        var answer = messagesOf(xhr);
        if (xhr.status === 201 && answer.body.url) {
          window.location.assign(answer.body.url);
          return;
        }
        showError(answer.text);
        button.disabled = false;
        button.textContent = "Convert";
      });
      xhr.addEventListener("error", function () {
        showError("The connection was interrupted. Check it and press Convert again.");
        button.disabled = false;
        button.textContent = "Convert";
      });
      button.disabled = true;
      button.textContent = "Starting…";
      xhr.send(data);
    };
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      showError("");
      if (!input.files.length && !ed.draft) {
        showError("Choose a video first.");
        return;
      }
      if (ed.uploading) {
        // Pressed before the upload finished: it goes on as soon as it has.
        ed.convertWaiting = true;
        button.disabled = true;
        button.textContent = "Waiting for the upload…";
        return;
      }
      convert();
    });
    render();
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
