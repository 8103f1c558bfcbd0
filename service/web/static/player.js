// The review page's player: click a segment's time or a word to play from there; the segment playing is marked and
// kept in view; keyboard shortcuts (listed on the page) and "next uncertain" jump to what Whisper doubted.
// Without this script the page still has the plain <audio> player and the marked transcript.
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var list = document.querySelector(".segments");
  if (!audio || !list) return;
  ["player-tools", "shortcuts"].forEach(function (id) {
    var el = document.getElementById(id);
    if (el) el.hidden = false;
  });
  var rateOut = document.getElementById("rate");
  var RATES = [0.5, 0.6, 0.75, 0.85, 1, 1.25, 1.5, 1.75, 2];
  var segments = Array.prototype.slice.call(list.querySelectorAll("li[data-start]"));
  var starts = segments.map(function (li) { return parseFloat(li.getAttribute("data-start")); });
  // What to listen to closely, in time order: doubted words, and flagged segments (at their start).
  var uncertain = [];
  segments.forEach(function (li, i) {
    var low = li.querySelectorAll(".w-low");
    if (li.classList.contains("seg-uncertain") && !low.length) uncertain.push({ t: starts[i], el: li });
    Array.prototype.forEach.call(low, function (w) {
      uncertain.push({ t: parseFloat(w.getAttribute("data-start")), el: w });
    });
  });
  uncertain.sort(function (a, b) { return a.t - b.t; });
  var playing = null;

  function seek(t) {
    audio.currentTime = Math.max(0, t);
    mark(t);
  }

  function play(t) {
    seek(t);
    var started = audio.play();
    if (started && started.catch) started.catch(function () { /* refused: the user presses play */ });
  }

  function indexAt(t) {
    // The last segment starting at or before t (segments are in time order).
    var lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= t + 0.01) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function mark(t) {
    var i = indexAt(t);
    var li = i >= 0 ? segments[i] : null;
    if (li === playing) return;
    if (playing) { playing.classList.remove("playing"); playing.removeAttribute("aria-current"); }
    playing = li;
    if (li) {
      li.classList.add("playing");
      li.setAttribute("aria-current", "true");
      li.scrollIntoView({ block: "nearest" });
    }
  }

  function jump(direction) {
    var now = audio.currentTime;
    var item = null;
    if (direction > 0) {
      for (var i = 0; i < uncertain.length && !item; i++) if (uncertain[i].t > now + 0.05) item = uncertain[i];
    } else {
      for (var j = uncertain.length - 1; j >= 0 && !item; j--) if (uncertain[j].t < now - 1) item = uncertain[j];
    }
    if (!item) return;
    play(item.t);
    item.el.scrollIntoView({ block: "center" });
  }

  function speed(step) {
    var at = RATES.indexOf(audio.playbackRate);
    if (at < 0) at = RATES.indexOf(1);
    audio.playbackRate = RATES[Math.min(RATES.length - 1, Math.max(0, at + step))];
    if (rateOut) rateOut.textContent = audio.playbackRate + "\u00d7";
  }

  list.addEventListener("click", function (e) {
    var time = e.target.closest("a.time");
    if (time) {
      e.preventDefault();
      play(parseFloat(time.getAttribute("data-start")));
      return;
    }
    var word = e.target.closest(".w");
    var sel = window.getSelection();
    // A word inside a redaction span is its link to the span's card; selecting text fills the add-span form.
    if (!word || word.closest("a.span") || (sel && !sel.isCollapsed)) return;
    play(parseFloat(word.getAttribute("data-start")));
  });
  audio.addEventListener("timeupdate", function () { mark(audio.currentTime); });
  audio.addEventListener("seeked", function () { mark(audio.currentTime); });
  var next = document.getElementById("next-uncertain");
  if (next) next.addEventListener("click", function () { jump(1); });

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    switch (e.key) {
      case " ":
        // Buttons, links and the player's own controls keep their own Space.
        if (/^(BUTTON|A|AUDIO|SUMMARY)$/.test(e.target.tagName)) return;
      // falls through
      case "k":
        if (audio.paused) play(audio.currentTime); else audio.pause();
        break;
      case "j": seek(audio.currentTime - 5); break;
      case "l": seek(audio.currentTime + 5); break;
      case "n": jump(1); break;
      case "p": jump(-1); break;
      case "[": speed(-1); break;
      case "]": speed(1); break;
      default: return;
    }
    e.preventDefault();
  });
})();
