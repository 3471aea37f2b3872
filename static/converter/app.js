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
      localFailed: false, // the browser cannot play the file itself
      proxyUrl: null,     // the server's H.264 copy of such a file, once made
      usingProxy: false,
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
      // The crop, when there is one, is what Width and the size apply to.
      var src = cropSize() || sourceSize();
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

    // ---- The picture: crop box and captions over the player ----
    // Both are drawn in the video's displayed coordinates and kept in
    // source pixels (crop) or fractions of the output (captions): the
    // numbers the server applies, so the preview is where the output is.
    var pictureTools = document.getElementById("picture-tools");
    var cropToggle = document.getElementById("crop-toggle");
    var cropAspect = document.getElementById("crop-aspect");
    var cropReset = document.getElementById("crop-reset");
    var cropBarsButton = document.getElementById("crop-bars");
    var cropStatus = document.getElementById("crop-status");
    var cropLayer = document.getElementById("crop-layer");
    var cropBoxEl = document.getElementById("crop-box");
    var captionLayer = document.getElementById("caption-layer");
    var captionList = document.getElementById("caption-list");
    var addCaptionButton = document.getElementById("add-caption");
    var captionsField = document.getElementById("id_captions");
    var cropInputs = ["x", "y", "width", "height"].map(function (k) { return document.getElementById("id_crop_" + k); });
    var ASPECTS = { "free": 0, "1:1": 1, "4:3": 4 / 3, "16:9": 16 / 9, "9:16": 9 / 16 };
    var CAPTION_SIZES = [["0.07", "Small"], ["0.1", "Medium"], ["0.14", "Large"]];
    var CAPTION_MARGIN = 0.04; // of the output's height, as the server draws it
    var CAPTION_MAX_WIDTH = 0.94; // of the output's width: longer lines are set smaller
    var MAX_CAPTIONS = 10;
    var pic = {
      editing: false,   // the crop tool is on: the box can be drawn, moved, resized
      box: null,        // {x, y, w, h} in source pixels; null: no crop
      bars: null,       // the server's letterbox/pillarbox finding
      barsState: "none", // none (no draft yet), pending, ready, failed
      captions: [],     // {id, text, size, color, outline, position, x, y, start, end, row, el}
      nextId: 1
    };

    var aspectRatio = function () { return ASPECTS[cropAspect.value] || 0; };
    var cropSize = function () { return pic.box ? [pic.box.w, pic.box.h] : null; };
    // The part of #player-box the picture fills (the video letterboxes itself
    // with object-fit: contain), in CSS pixels, with the source's scale.
    var pictureRect = function () {
      var src = sourceSize();
      if (!src || playerBox.hidden) return null;
      var vr = video.getBoundingClientRect(), pr = playerBox.getBoundingClientRect();
      if (!(vr.width > 0 && vr.height > 0)) return null;
      var scale = Math.min(vr.width / src[0], vr.height / src[1]);
      var w = src[0] * scale, h = src[1] * scale;
      return { left: vr.left - pr.left + (vr.width - w) / 2, top: vr.top - pr.top + (vr.height - h) / 2,
        width: w, height: h, scale: scale, src: src };
    };
    var place = function (el, r) {
      el.style.left = r.left + "px";
      el.style.top = r.top + "px";
      el.style.width = r.width + "px";
      el.style.height = r.height + "px";
    };

    // Keeps a box inside the picture, in whole pixels, at least 1 x 1.
    var clampBox = function (b) {
      var src = sourceSize();
      if (!src || !b) return b;
      var w = Math.min(Math.max(1, Math.round(b.w)), src[0]);
      var h = Math.min(Math.max(1, Math.round(b.h)), src[1]);
      var x = Math.min(Math.max(0, Math.round(b.x)), src[0] - w);
      var y = Math.min(Math.max(0, Math.round(b.y)), src[1] - h);
      return { x: x, y: y, w: w, h: h };
    };
    // The box from a fixed corner ``a`` towards the point ``p``, inside the
    // picture and of the chosen aspect (the larger of the two spans wins).
    var spanBox = function (a, p) {
      var src = sourceSize(), r = aspectRatio();
      var dx = p.x - a.x, dy = p.y - a.y;
      var maxW = dx >= 0 ? src[0] - a.x : a.x, maxH = dy >= 0 ? src[1] - a.y : a.y;
      var w = Math.min(Math.abs(dx), maxW), h = Math.min(Math.abs(dy), maxH);
      if (r) {
        w = Math.max(w, h * r);
        h = w / r;
        if (w > maxW) { w = maxW; h = w / r; }
        if (h > maxH) { h = maxH; w = h * r; }
        w = Math.round(w);
        h = Math.round(w / r);
      }
      return clampBox({ x: dx >= 0 ? a.x : a.x - w, y: dy >= 0 ? a.y : a.y - h, w: w, h: h });
    };
    // The largest box of the chosen aspect inside ``within``, centred on it.
    var fitAspect = function (within) {
      var r = aspectRatio();
      if (!r) return within;
      var w = Math.min(within.w, within.h * r), h = w / r;
      return clampBox({ x: within.x + (within.w - w) / 2, y: within.y + (within.h - h) / 2, w: w, h: Math.round(Math.round(w) / r) });
    };
    var wholePicture = function () {
      var src = sourceSize();
      return src ? { x: 0, y: 0, w: src[0], h: src[1] } : null;
    };

    var writeCropFields = function () {
      var values = pic.box ? [pic.box.x, pic.box.y, pic.box.w, pic.box.h] : ["", "", "", ""];
      cropInputs.forEach(function (f, i) {
        if (document.activeElement !== f || f.value === "") f.value = String(values[i]);
      });
    };
    var readCropFields = function () {
      var v = cropInputs.map(function (f) { return f.value.trim(); });
      if (v.every(function (s) { return s === ""; })) return null;
      // As the server reads them: width and height make a crop, left and
      // top default to 0; anything else is not finished yet.
      var n = v.map(function (s, i) { return s === "" && i < 2 ? 0 : parseInt(s, 10); });
      if (n.some(function (x) { return !isFinite(x); })) return undefined;
      return { x: n[0], y: n[1], w: n[2], h: n[3] };
    };
    var setBox = function (b) {
      pic.box = b ? clampBox(b) : null;
      writeCropFields();
      render("fields");
    };

    var showCropStatus = function () {
      var parts = [];
      cropBarsButton.disabled = pic.barsState !== "ready";
      if (pic.box) parts.push("Keeping " + pic.box.w + " × " + pic.box.h + " at " + pic.box.x + ", " + pic.box.y + ".");
      else if (pic.editing && ed.playable) parts.push("Drag on the video to draw the part to keep.");
      if (pic.barsState === "pending") parts.push("Looking for black bars…");
      else if (pic.barsState === "failed") parts.push("Black bars could not be looked for.");
      else if (pic.barsState === "ready" && !pic.bars) parts.push("No black bars found.");
      cropStatus.textContent = parts.join(" ");
    };

    // Draws the box, the dimmed outside and the captions where they will be.
    var layoutPicture = function () {
      var r = pictureRect();
      cropLayer.hidden = !r || !(pic.editing || pic.box);
      captionLayer.hidden = !r;
      // Without a player (a format the browser cannot play) the box cannot
      // be drawn, but the presets and the black bars still fill the numbers.
      pictureTools.hidden = !sourceSize() || !!(ed.draft && ed.draft.audio_only);
      cropToggle.hidden = !ed.playable;
      cropToggle.setAttribute("aria-pressed", pic.editing ? "true" : "false");
      cropLayer.classList.toggle("editing", pic.editing);
      cropBoxEl.tabIndex = pic.editing ? 0 : -1;
      showCropStatus();
      if (!r) return;
      place(cropLayer, r);
      cropBoxEl.hidden = !pic.box;
      cropLayer.classList.toggle("cropped", !!pic.box);
      var area = { left: r.left, top: r.top, width: r.width, height: r.height };
      var shades = cropLayer.querySelectorAll(".crop-shade");
      if (pic.box) {
        var b = pic.box, s = r.scale, L = b.x * s, T = b.y * s, W = b.w * s, H = b.h * s;
        place(cropBoxEl, { left: L, top: T, width: W, height: H });
        // The outside dimmed: above, below, left and right of the box.
        [[0, 0, r.width, T], [0, T + H, r.width, r.height - T - H], [0, T, L, H], [L + W, T, r.width - L - W, H]]
          .forEach(function (q, i) { place(shades[i], { left: q[0], top: q[1], width: Math.max(0, q[2]), height: Math.max(0, q[3]) }); });
        area = { left: r.left + b.x * s, top: r.top + b.y * s, width: b.w * s, height: b.h * s };
      }
      place(captionLayer, area);
      layoutCaptions(area);
    };

    // ---- Drawing, moving and resizing the box with the pointer ----
    var cropDrag = null; // {mode: draw|move|resize, from: point, anchor: point, box: box}
    var pointAt = function (e) {
      var r = cropLayer.getBoundingClientRect(), src = sourceSize(), s = r.width / src[0];
      return {
        x: Math.min(Math.max(0, (e.clientX - r.left) / s), src[0]),
        y: Math.min(Math.max(0, (e.clientY - r.top) / s), src[1])
      };
    };
    cropLayer.addEventListener("pointerdown", function (e) {
      if (!pic.editing || !sourceSize() || e.button !== 0) return;
      e.preventDefault();
      var p = pointAt(e), corner = e.target.dataset && e.target.dataset.corner;
      if (corner && pic.box) {
        var b = pic.box;
        cropDrag = { mode: "resize", anchor: { x: corner.indexOf("w") >= 0 ? b.x + b.w : b.x, y: corner[0] === "n" ? b.y + b.h : b.y } };
      } else if (pic.box && cropBoxEl.contains(e.target)) {
        cropDrag = { mode: "move", from: p, box: pic.box };
      } else {
        cropDrag = { mode: "draw", anchor: p, box: pic.box };
      }
      cropLayer.setPointerCapture(e.pointerId);
      cropLayer.classList.add("dragging");
    });
    cropLayer.addEventListener("pointermove", function (e) {
      if (!cropDrag || !cropLayer.hasPointerCapture(e.pointerId)) return;
      var p = pointAt(e);
      if (cropDrag.mode === "move") {
        var b = cropDrag.box;
        setBox({ x: b.x + p.x - cropDrag.from.x, y: b.y + p.y - cropDrag.from.y, w: b.w, h: b.h });
      } else {
        var next = spanBox(cropDrag.anchor, p);
        // A click (or a tiny drag) does not replace the box with a speck.
        if (cropDrag.mode === "resize" || (next.w >= 4 && next.h >= 4)) setBox(next);
      }
    });
    var endDrag = function (e) {
      if (!cropDrag) return;
      cropDrag = null;
      cropLayer.classList.remove("dragging");
      if (cropLayer.hasPointerCapture(e.pointerId)) cropLayer.releasePointerCapture(e.pointerId);
    };
    cropLayer.addEventListener("pointerup", endDrag);
    cropLayer.addEventListener("pointercancel", endDrag);
    cropBoxEl.addEventListener("keydown", function (e) {
      var step = e.shiftKey ? 10 : 1;
      var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (!pic.box || !(e.key in moves)) return;
      e.preventDefault();
      var b = pic.box, m = moves[e.key];
      setBox({ x: b.x + m[0], y: b.y + m[1], w: b.w, h: b.h });
    });

    cropToggle.addEventListener("click", function () {
      pic.editing = !pic.editing;
      layoutPicture();
    });
    cropAspect.addEventListener("change", function () {
      pic.editing = true;
      if (aspectRatio()) setBox(fitAspect(pic.box || wholePicture()));
      else layoutPicture();
    });
    cropReset.addEventListener("click", function () {
      cropAspect.value = "free";
      setBox(null);
    });
    cropBarsButton.addEventListener("click", function () {
      if (pic.barsState !== "ready") return;
      if (!pic.bars) { cropStatus.textContent = "No black bars found."; return; }
      cropAspect.value = "free";
      pic.editing = true;
      setBox({ x: pic.bars.x, y: pic.bars.y, w: pic.bars.width, h: pic.bars.height });
    });
    // Typed numbers are kept where they can be: a left or top that pushes
    // the box past the edge shortens it rather than moving back.
    var typedBox = function (b) {
      var src = sourceSize();
      if (!src) return b;
      var x = Math.min(Math.max(0, b.x), src[0] - 1), y = Math.min(Math.max(0, b.y), src[1] - 1);
      return clampBox({ x: x, y: y, w: Math.min(b.w, src[0] - x), h: Math.min(b.h, src[1] - y) });
    };
    cropInputs.forEach(function (f, i) {
      f.addEventListener("input", function () {
        var b = readCropFields();
        if (cropAspect.value !== "free") cropAspect.value = "free"; // typed numbers are taken as they are
        pic.box = b ? typedBox(b) : null; // unfinished (undefined): no crop to show yet
        if (b) writeCropFields(); // the others, as the box now is
        render("fields");
        if (b === undefined) cropStatus.textContent = "Give the crop's width and height, or clear all four.";
      });
      f.addEventListener("change", function () { // a value the edges changed is shown once the field is left
        if (readCropFields() && pic.box) f.value = String([pic.box.x, pic.box.y, pic.box.w, pic.box.h][i]);
      });
    });

    // The server looks for letterbox and pillarbox borders once the draft is
    // stored: asked every second while it is still looking, at most 60 s.
    var pollBars = function (url, gen) {
      var began = Date.now();
      pic.barsState = "pending";
      showCropStatus();
      var again = function () { // a proxy of a long video takes a while (the job's limit: 5 min)
        if (Date.now() - began > 300000) { pic.barsState = "failed"; showCropStatus(); return; }
        setTimeout(ask, 1000);
      };
      var ask = function () {
        if (gen !== ed.generation) return;
        fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
          .then(function (body) {
            if (gen !== ed.generation) return;
            var preview = body.preview || {};
            if (preview.state === "pending") { again(); return; }
            pic.barsState = preview.state === "ready" ? "ready" : "failed";
            pic.bars = preview.bars || null;
            showCropStatus();
            ed.proxyUrl = preview.proxy_url || null;
            if (ed.localFailed && ed.proxyUrl) useProxy();
            else if (ed.localFailed) noPreview.textContent = NO_PREVIEW;
          })
          .catch(function () { if (gen === ed.generation) again(); });
      };
      ask();
    };
    var pictureChosen = function () { // a new file: nothing of the old picture applies
      pic.editing = false;
      pic.box = null;
      pic.bars = null;
      pic.barsState = "none";
      cropAspect.value = "free";
      writeCropFields();
    };

    // ---- Captions ----
    var captionOutputHeight = function () {
      var size = outputSize();
      return size ? size[1] : null;
    };
    // Outline: none (0), thin (the server's automatic, about Size / 12) or
    // thick (twice that, in whole pixels of the output).
    var outlinePx = function (c, outH) {
      var px = c.size * outH;
      if (c.outline === "none") return 0;
      return c.outline === "thick" ? Math.max(2, Math.round(px / 6)) : Math.max(1, Math.round(px / 12));
    };
    var serialiseCaptions = function () {
      var outH = captionOutputHeight(), list = [];
      pic.captions.forEach(function (c) {
        if (!c.text.trim()) return; // an empty row is not a caption yet
        var item = { Text: c.text, Size: c.size, Color: c.color, OutlineColor: c.outlineColor, Position: c.position };
        if (c.outline === "none") item.Outline = 0;
        else if (c.outline === "thick" && outH) item.Outline = outlinePx(c, outH);
        if (c.x !== null) { item.X = round3(c.x); item.Y = round3(c.y); }
        if (c.start > 0) item.StartTime = c.start;
        if (c.end !== null) item.EndTime = c.end;
        list.push(item);
      });
      var text = list.length ? JSON.stringify(list) : "";
      if (captionsField.value !== text) captionsField.value = text;
    };
    var layoutCaptions = function (area) {
      var outH = captionOutputHeight() || area.height;
      pic.captions.forEach(function (c) {
        var el = c.el;
        el.textContent = c.text;
        el.hidden = !c.text.trim();
        var font = c.size * area.height;
        el.style.fontSize = font + "px";
        el.style.color = c.color;
        var stroke = (outlinePx(c, outH) * area.height) / outH;
        el.style.webkitTextStroke = stroke > 0 ? 2 * stroke + "px " + c.outlineColor : "0";
        el.style.left = "50%";
        el.style.top = el.style.bottom = "";
        el.classList.remove("band-top", "band-middle", "band-bottom", "placed");
        if (el.hidden) return;
        // Longer than the server's widest line: set smaller, as it will be.
        var wide = el.offsetWidth;
        if (wide > CAPTION_MAX_WIDTH * area.width) el.style.fontSize = (font * CAPTION_MAX_WIDTH * area.width) / wide + "px";
        if (c.x !== null) {
          el.classList.add("placed");
          var hw = el.offsetWidth / 2, hh = el.offsetHeight / 2;
          el.style.left = Math.min(Math.max(c.x * area.width, hw), Math.max(hw, area.width - hw)) + "px";
          el.style.top = Math.min(Math.max(c.y * area.height, hh), Math.max(hh, area.height - hh)) + "px";
        } else {
          el.classList.add("band-" + c.position);
          if (c.position === "top") el.style.top = CAPTION_MARGIN * area.height + "px";
          else if (c.position === "bottom") el.style.bottom = CAPTION_MARGIN * area.height + "px";
        }
      });
    };
    // Shown while the player is within the caption's time on the
    // animation's clock (0: its first frame), as the speed and order make it.
    var captionsAt = function () {
      if (!pic.captions.length || !(ed.duration > 0)) return;
      var reverse = document.getElementById("id_reverse");
      var t = reverse && reverse.checked ? ed.end - video.currentTime : video.currentTime - ed.start;
      t = Math.max(0, t) / speed();
      // A boomerang shows each frame twice, going and coming back (the
      // player only goes): shown when either time is in the range.
      var times = boomerang() ? [t, (2 * (ed.end - ed.start)) / speed() - t] : [t];
      pic.captions.forEach(function (c) {
        var on = times.some(function (u) { return u >= c.start - 1e-3 && (c.end === null || u < c.end); });
        c.el.classList.toggle("off", !on);
      });
    };

    var captionChanged = function () {
      serialiseCaptions();
      layoutPicture();
      captionsAt();
      addCaptionButton.disabled = pic.captions.length >= MAX_CAPTIONS;
    };
    var fieldOf = function (c, kind, labelText, control) {
      var wrap = document.createElement("div");
      wrap.className = "field caption-" + kind;
      var l = document.createElement("label");
      control.id = "caption-" + c.id + "-" + kind;
      l.htmlFor = control.id;
      l.textContent = labelText;
      wrap.appendChild(l);
      wrap.appendChild(control);
      return wrap;
    };
    var selectOf = function (options, value) {
      var s = document.createElement("select");
      options.forEach(function (o) {
        var opt = document.createElement("option");
        opt.value = o[0];
        opt.textContent = o[1];
        s.appendChild(opt);
      });
      s.value = value;
      return s;
    };
    var numberOf = function (value) {
      var n = document.createElement("input");
      n.type = "number";
      n.min = "0";
      n.step = "0.1";
      n.inputMode = "decimal";
      if (value !== null && value !== undefined) n.value = String(value);
      return n;
    };
    var positionOptions = [["top", "Top"], ["middle", "Middle"], ["bottom", "Bottom"], ["dragged", "Where dragged"]];
    var addCaption = function (init) {
      if (pic.captions.length >= MAX_CAPTIONS) return null;
      init = init || {};
      var c = {
        id: pic.nextId++, text: init.Text || "", color: init.Color || "#ffffff",
        size: init.Size > 0 && init.Size < 1 ? init.Size : 0.1,
        outline: init.Outline === 0 ? "none" : init.Outline > 0 ? "thick" : "thin",
        outlineColor: typeof init.OutlineColor === "string" ? init.OutlineColor : "#000000",
        position: init.Position || "bottom",
        x: typeof init.X === "number" ? init.X : null, y: typeof init.Y === "number" ? init.Y : null,
        start: init.StartTime > 0 ? init.StartTime : 0, end: init.EndTime > 0 ? init.EndTime : null
      };
      var row = document.createElement("li");
      row.className = "caption-row";
      // A textarea: a caption may run to three lines (Enter starts the next).
      var text = document.createElement("textarea");
      text.rows = 1;
      text.maxLength = 200;
      text.value = c.text;
      text.placeholder = "Caption text";
      var sizeKnown = CAPTION_SIZES.some(function (o) { return parseFloat(o[0]) === c.size; });
      var sizes = CAPTION_SIZES.concat(sizeKnown ? [] : [[String(c.size), Math.round(c.size * 100) + "% of the height"]]);
      var size = selectOf(sizes, String(c.size));
      var colour = document.createElement("input");
      colour.type = "color";
      colour.value = c.color;
      var outline = selectOf([["none", "None"], ["thin", "Thin"], ["thick", "Thick"]], c.outline);
      var position = selectOf(positionOptions, c.x !== null ? "dragged" : c.position);
      position.querySelector("option[value=dragged]").hidden = c.x === null;
      var start = numberOf(c.start || null), end = numberOf(c.end);
      start.placeholder = "0";
      end.placeholder = "to the end";
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "Remove";
      var n = pic.captions.length + 1;
      remove.setAttribute("aria-label", "Remove caption " + n);
      row.setAttribute("aria-label", "Caption " + n);
      row.appendChild(fieldOf(c, "text", "Caption " + n + " text", text));
      var opts = document.createElement("div");
      opts.className = "caption-options";
      opts.appendChild(fieldOf(c, "size", "Size", size));
      opts.appendChild(fieldOf(c, "color", "Colour", colour));
      opts.appendChild(fieldOf(c, "outline", "Outline", outline));
      opts.appendChild(fieldOf(c, "position", "Position", position));
      opts.appendChild(fieldOf(c, "start", "From (s)", start));
      opts.appendChild(fieldOf(c, "end", "To (s)", end));
      row.appendChild(opts);
      row.appendChild(remove);
      captionList.appendChild(row);
      var el = document.createElement("div");
      el.className = "caption-preview";
      captionLayer.appendChild(el);
      c.row = row;
      c.el = el;

      text.addEventListener("input", function () { c.text = text.value; captionChanged(); });
      size.addEventListener("change", function () { c.size = parseFloat(size.value); captionChanged(); });
      colour.addEventListener("input", function () { c.color = colour.value; captionChanged(); });
      outline.addEventListener("change", function () { c.outline = outline.value; captionChanged(); });
      position.addEventListener("change", function () {
        if (position.value === "dragged") return;
        c.position = position.value;
        c.x = c.y = null;
        position.querySelector("option[value=dragged]").hidden = true;
        captionChanged();
      });
      var seconds = function (f) { var v = parseFloat(f.value); return v >= 0 ? round3(v) : null; };
      start.addEventListener("input", function () { c.start = seconds(start) || 0; captionChanged(); });
      end.addEventListener("input", function () { var v = seconds(end); c.end = v > 0 ? v : null; captionChanged(); });
      remove.addEventListener("click", function () {
        pic.captions.splice(pic.captions.indexOf(c), 1);
        row.remove();
        el.remove();
        pic.captions.forEach(function (other, i) {
          other.row.setAttribute("aria-label", "Caption " + (i + 1));
          other.row.querySelector(".caption-text label").textContent = "Caption " + (i + 1) + " text";
          other.row.querySelector(".remove").setAttribute("aria-label", "Remove caption " + (i + 1));
        });
        captionChanged();
        addCaptionButton.focus();
      });

      // Dragged with the pointer: the text's centre, as fractions of the output.
      var grab = null;
      el.addEventListener("pointerdown", function (e) {
        if (e.button !== 0) return;
        e.preventDefault();
        e.stopPropagation();
        var r = el.getBoundingClientRect();
        grab = { dx: e.clientX - (r.left + r.width / 2), dy: e.clientY - (r.top + r.height / 2) };
        el.setPointerCapture(e.pointerId);
        el.classList.add("dragging");
      });
      el.addEventListener("pointermove", function (e) {
        if (!grab || !el.hasPointerCapture(e.pointerId)) return;
        var area = captionLayer.getBoundingClientRect();
        if (!(area.width > 0 && area.height > 0)) return;
        var hw = el.offsetWidth / 2 / area.width, hh = el.offsetHeight / 2 / area.height;
        var fx = (e.clientX - grab.dx - area.left) / area.width, fy = (e.clientY - grab.dy - area.top) / area.height;
        c.x = Math.min(Math.max(fx, Math.min(hw, 0.5)), Math.max(1 - hw, 0.5));
        c.y = Math.min(Math.max(fy, Math.min(hh, 0.5)), Math.max(1 - hh, 0.5));
        position.querySelector("option[value=dragged]").hidden = false;
        position.value = "dragged";
        captionChanged();
      });
      var letGo = function (e) {
        if (!grab) return;
        grab = null;
        el.classList.remove("dragging");
        if (el.hasPointerCapture(e.pointerId)) el.releasePointerCapture(e.pointerId);
      };
      el.addEventListener("pointerup", letGo);
      el.addEventListener("pointercancel", letGo);

      pic.captions.push(c);
      captionChanged();
      return text;
    };
    document.getElementById("captions").hidden = false; // without script there is no caption editor
    addCaptionButton.addEventListener("click", function () {
      var text = addCaption();
      if (text) text.focus();
    });
    // The page came back with the form's errors: the captions sent are rows again.
    (function () {
      var sent = [];
      try { sent = JSON.parse(captionsField.value || "[]"); } catch (err) { sent = []; }
      if (Array.isArray(sent)) sent.forEach(function (item) { if (item && typeof item === "object") addCaption(item); });
      var b = readCropFields();
      if (b) pic.box = b;
    })();
    window.addEventListener("resize", function () { layoutPicture(); });
    if (window.ResizeObserver) new ResizeObserver(function () { layoutPicture(); }).observe(video);

    // ---- Suggested moments: asked of the server, shown on the timeline ----
    var momentsButton = document.getElementById("suggest-moments");
    var momentsStatus = document.getElementById("moments-status");
    var momentsList = document.getElementById("moments");
    var clearMoments = function () {
      momentsList.textContent = "";
      momentsList.hidden = true;
      track.querySelectorAll(".moment-mark").forEach(function (m) { m.remove(); });
    };
    var chooseMoment = function (m) {
      ed.start = m.start;
      ed.end = m.end;
      settle("end");
      render();
      seek(ed.start);
    };
    var thumbnailOf = function (canvas, t) { // drawn from the video the player plays
      if (!ed.objectUrl || !ed.playable) return;
      var probe = document.createElement("video");
      probe.muted = true;
      probe.preload = "auto";
      probe.addEventListener("loadeddata", function () { probe.currentTime = t; }, { once: true });
      probe.addEventListener("seeked", function () {
        var h = 54, w = Math.max(1, Math.round((h * probe.videoWidth) / Math.max(1, probe.videoHeight)));
        canvas.width = w;
        canvas.height = h;
        canvas.getContext("2d").drawImage(probe, 0, 0, w, h);
        probe.removeAttribute("src");
        probe.load();
      }, { once: true });
      probe.src = ed.objectUrl;
    };
    var showMoments = function (found) {
      clearMoments();
      if (!found.items.length) {
        momentsStatus.textContent = "No moment found: the video may be too short for that length.";
        return;
      }
      momentsStatus.textContent = found.items.length + " moments of " + secs(found.length) +
        ", best first: choose one to select it.";
      found.items.forEach(function (m, i) {
        var label = "Moment " + (i + 1) + ": " + secs(m.start) + " to " + secs(m.end);
        var mark = document.createElement("div");
        mark.className = "moment-mark";
        mark.style.left = (100 * m.start) / ed.duration + "%";
        mark.style.width = (100 * (m.end - m.start)) / ed.duration + "%";
        mark.title = label;
        track.appendChild(mark);
        var item = document.createElement("li");
        var pick = document.createElement("button");
        pick.type = "button";
        pick.className = "moment";
        pick.setAttribute("aria-label", label);
        var thumb = document.createElement("canvas");
        thumb.setAttribute("aria-hidden", "true");
        var text = document.createElement("span");
        text.textContent = (i + 1) + ". " + secs(m.start) + "–" + secs(m.end);
        pick.appendChild(thumb);
        pick.appendChild(text);
        pick.addEventListener("click", function () { chooseMoment(m); });
        item.appendChild(pick);
        momentsList.appendChild(item);
        thumbnailOf(thumb, m.start + Math.min(0.5, (m.end - m.start) / 2));
      });
      momentsList.hidden = false;
    };
    var pollMoments = function (gen, began) {
      if (gen !== ed.generation || !ed.draft) return;
      fetch(ed.draft.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
        .then(function (body) {
          if (gen !== ed.generation) return;
          var found = body.moments || { state: "pending" };
          if (found.state === "pending") {
            if (Date.now() - began > 300000) throw new Error("too long");
            setTimeout(function () { pollMoments(gen, began); }, 700);
            return;
          }
          momentsButton.disabled = false;
          if (found.state === "ready") showMoments(found);
          else momentsStatus.textContent = "Moments could not be found in this video.";
        })
        .catch(function () {
          if (gen !== ed.generation) return;
          momentsButton.disabled = false;
          momentsStatus.textContent = "Moments could not be found just now; try again.";
        });
    };
    momentsButton.addEventListener("click", function () {
      if (!ed.draft || !ed.draft.moments_url) {
        momentsStatus.textContent = "The video is still uploading: moments can be found once it is stored.";
        return;
      }
      var length = Math.max(0.5, Math.min(60, ed.end - ed.start || 3));
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      data.append("length", num(length));
      momentsButton.disabled = true;
      momentsStatus.textContent = "Finding moments of " + secs(length) + "…";
      var gen = ed.generation;
      fetch(ed.draft.moments_url, { method: "POST", body: data, credentials: "same-origin",
        headers: { Accept: "application/json" } })
        .then(function (r) { if (r.status !== 202) throw new Error("HTTP " + r.status); pollMoments(gen, Date.now()); })
        .catch(function () {
          momentsButton.disabled = false;
          momentsStatus.textContent = "Moments could not be found just now; try again.";
        });
    });

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
      serialiseCaptions(); // outlines are pixels of the output: its size may have changed
      layoutPicture();
      if (scheduleEstimate) scheduleEstimate(); // (defined below; not yet on the first render)
    };

    // ---- Where it goes: a platform preset or a size cap ----
    var presetsElement = document.getElementById("presets");
    var presets = presetsElement ? JSON.parse(presetsElement.textContent) : {};
    var presetField = document.getElementById("id_preset");
    var capField = document.getElementById("id_max_bytes");
    var formatField = document.getElementById("id_format");
    var sizeCap = function () { // bytes, or 0: no cap
      var mb = parseFloat(capField ? capField.value : "");
      if (mb > 0) return Math.round(mb * 1e6);
      var preset = presets[presetField ? presetField.value : ""];
      return preset ? preset.max_bytes : 0;
    };
    if (presetField) {
      presetField.addEventListener("change", function () {
        var preset = presets[presetField.value];
        // A platform that takes only some formats gets its first.
        if (preset && preset.formats.length && preset.formats.indexOf(formatField.value) < 0) {
          formatField.value = preset.formats[0];
        }
        render();
      });
    }
    if (capField) capField.addEventListener("input", function () { render(); });
    if (formatField) formatField.addEventListener("change", function () { render(); });

    // ---- The estimate: asked of the server (a trial encode) as settings change ----
    var estimateFacts = document.getElementById("estimate-facts");
    var estimateTimer = null, estimatedFor = "", estimateGen = 0;
    var settingsKey = function () {
      var data = new FormData(form), parts = [];
      data.forEach(function (v, k) {
        if (k !== "video" && k !== "csrfmiddlewaretoken" && k !== "draft") parts.push(k + "=" + v);
      });
      return parts.join("&");
    };
    var scheduleEstimate = function () {
      if (!ed.draft || !ed.draft.estimate_url || !(ed.duration > 0)) return;
      if (settingsKey() === estimatedFor) return;
      clearTimeout(estimateTimer);
      estimateTimer = setTimeout(askEstimate, 700); // after the person stops changing things
    };
    var askEstimate = function () {
      var key = settingsKey();
      if (key === estimatedFor || !ed.draft) return;
      estimatedFor = key;
      var asked = ++estimateGen;
      var data = new FormData(form);
      data.delete("video");
      estimateFacts.hidden = false;
      estimateFacts.textContent = "Estimating the size…";
      fetch(ed.draft.estimate_url, { method: "POST", body: data, credentials: "same-origin",
        headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); })
        .then(function (answer) {
          if (asked !== estimateGen) return; // a later ask is on its way
          var status = answer[0], e = answer[1];
          if (status !== 200) {
            estimateFacts.textContent = "No estimate: " + (e.message || "the settings need a second look.");
            return;
          }
          var spread = Math.max(e.high - e.bytes, e.bytes - e.low) / Math.max(1, e.bytes);
          var words = spread < 0.1 ? "give or take a tenth" : spread < 0.3 ? "give or take a quarter"
            : "it varies a lot over the video";
          estimateFacts.dataset.bytes = e.bytes;
          var text = "Estimated: " + e.width + " × " + e.height + ", " + e.frames + " frames, about " +
            humanBytes(e.bytes) + " (" + words + ": likely " + humanBytes(e.low) + " to " +
            humanBytes(e.high) + ").";
          var cap = sizeCap();
          if (cap) {
            var fits = e.high <= cap ? "fits" : e.bytes <= cap ? "likely fits" : "over";
            estimateFacts.dataset.verdict = fits;
            text += fits === "over"
              ? " Over the " + humanBytes(cap) + " cap: the frame rate, size and quality will be lowered until it fits."
              : " It " + fits + " under the " + humanBytes(cap) + " cap.";
          } else {
            delete estimateFacts.dataset.verdict;
          }
          estimateFacts.textContent = text;
        })
        .catch(function () {
          if (asked === estimateGen) estimateFacts.textContent = "No estimate just now.";
        });
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
        captionsAt();
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
      // Drawn once the picture plays: at once for a local file, later for
      // the server's proxy (the timeline had the probe's length by then).
      if (ed.filmstripOf !== ed.objectUrl) drawFilmstrip();
      if (!ed.paused) play();
    });
    video.addEventListener("ended", function () { if (!ed.paused) play(); });
    // A file the browser cannot play plays from the server's proxy once it
    // is made (the preview job), with the same timeline: the proxy keeps
    // the source's clock.
    var NO_PREVIEW = "This browser cannot play this format; it converts all the same. " +
      "Set the start and duration below.";
    var MAKING_PREVIEW = "This browser cannot play this format: the server is making a preview " +
      "to play here. Meanwhile you can set the start and duration below.";
    var useProxy = function () {
      if (ed.usingProxy || !ed.proxyUrl) return;
      ed.usingProxy = true;
      ed.objectUrl = ed.proxyUrl;
      noPreview.textContent = "Playing a preview made by the server.";
      video.src = ed.proxyUrl;
    };
    video.addEventListener("error", function () {
      if (!ed.objectUrl) return;
      ed.playable = false;
      playerBox.hidden = true;
      noPreview.hidden = false;
      if (!ed.usingProxy && pic.barsState !== "failed" && !(pic.barsState === "ready" && !ed.proxyUrl)) {
        ed.localFailed = true;
        noPreview.textContent = MAKING_PREVIEW;
        useProxy();
      } else {
        noPreview.textContent = NO_PREVIEW;
      }
      if (ed.draft) setDuration(ed.draft.duration); // stored already (Edit again): trimmed by its numbers
      render();
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
      ed.filmstripOf = ed.objectUrl;
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
          if (ed.draft.url) pollBars(ed.draft.url, gen);
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
      ed.localFailed = false;
      clearMoments();
      estimatedFor = "";
      estimateGen += 1;
      estimateFacts.hidden = true;
      ed.filmstripOf = null;
      ed.proxyUrl = null;
      ed.usingProxy = false;
      pictureChosen();
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
        // An HLS bundle is joined on the server, which then makes the
        // preview it plays from.
        ed.localFailed = true;
        noPreview.textContent = MAKING_PREVIEW;
        noPreview.hidden = false;
      }
      zone.classList.add("compact");
      upload();
    };
    input.addEventListener("change", chosen);

    // Edit again: the page opens on a draft stored already (a copy of a
    // task's source), with that task's settings in the fields. It plays
    // from the server; nothing is uploaded unless another video is chosen.
    var openDraft = function (facts) {
      ed.generation += 1;
      ed.draft = facts;
      draftField.value = facts.draft_id;
      label.textContent = facts.filename + " (stored: choose another video to replace it)";
      zone.classList.add("compact");
      input.required = false;
      if (facts.source_url && !facts.audio_only) {
        ed.objectUrl = facts.source_url; // revoking a non-blob address does nothing
        video.src = facts.source_url;
      } else {
        noPreview.hidden = false;
        setDuration(facts.duration);
      }
      if (facts.url) pollBars(facts.url, ed.generation);
      render(ed.duration > 0 ? "fields" : undefined);
    };
    var factsElement = document.getElementById("draft-facts");
    if (factsElement) {
      try { openDraft(JSON.parse(factsElement.textContent)); } catch (err) { /* the page works as a plain form */ }
    }

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
            // An MP4 is a video: it plays muted and looping, as a GIF would.
            var img = document.createElement(o.format === "mp4" ? "video" : "img");
            img.className = "animation";
            img.src = o.url;
            if (o.format === "mp4") {
              img.muted = true;
              img.loop = img.autoplay = img.playsInline = true;
              img.setAttribute("aria-label", "Animation");
            } else {
              img.alt = "Animation";
            }
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
            dl.href = o.url.split("?")[0] + "?download=1"; // the versioned address without its version
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
      var label = button.dataset.label || button.textContent;
      button.dataset.label = label;
      var done = function () { // said for a moment, then the button is as before
        button.textContent = "Copied!";
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
})();
