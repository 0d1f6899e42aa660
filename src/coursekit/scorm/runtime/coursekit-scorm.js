/*
 * coursekit SCORM runtime: loaded (as an external file, deferred) by every
 * generated launch page `scorm/launch-<module>.html`, one per SCO.
 *
 * The launch page lists the module's pages (#ck-pages links) and shows them in a
 * frame (#ck-frame). This script:
 *   - finds the LMS API (SCORM 1.2 `API`, 2004 `API_1484_11`): the parent
 *     windows first, then the opener's, a bounded number of levels each;
 *   - initialises once, marks the SCO incomplete on first launch and completed
 *     when every page of the module has been shown in the frame;
 *   - records the module's quiz score, posted by a framed page as
 *     {type: "coursekit:quiz-score", module, quiz, raw, min, max, scaled},
 *     and sets passed/failed against the mastery score;
 *   - bookmarks the current page (location) and what was seen (suspend_data),
 *     and resumes there on relaunch;
 *   - reports the session time and finishes exactly once when the page goes away.
 * With no LMS, navigation works and nothing is recorded; nothing throws.
 * No eval, no inline handlers, no requests of its own.
 */
(function () {
  "use strict";

  var MAX_LEVELS = 10; // how far up the window tree (and the opener's) to look for the API
  var SUSPEND_LIMIT = { "1.2": 4096, "2004": 64000 }; // characters allowed by each standard

  var VERSIONS = {
    "1.2": {
      api: "API", init: "LMSInitialize", get: "LMSGetValue", set: "LMSSetValue",
      commit: "LMSCommit", finish: "LMSFinish",
      entry: "cmi.core.entry", mode: "cmi.core.lesson_mode", status: "cmi.core.lesson_status",
      location: "cmi.core.lesson_location", exit: "cmi.core.exit",
      session: "cmi.core.session_time", score: "cmi.core.score"
    },
    "2004": {
      api: "API_1484_11", init: "Initialize", get: "GetValue", set: "SetValue",
      commit: "Commit", finish: "Terminate",
      entry: "cmi.entry", mode: "cmi.mode", status: "cmi.completion_status",
      location: "cmi.location", exit: "cmi.exit",
      session: "cmi.session_time", score: "cmi.score"
    }
  };

  var body = document.body;
  var version = body.getAttribute("data-ck-scorm") === "2004" ? "2004" : "1.2";
  var moduleId = body.getAttribute("data-ck-module") || "";
  var mastery = Number(body.getAttribute("data-ck-mastery") || "80") / 100;
  var frame = document.getElementById("ck-frame");
  var links = Array.prototype.slice.call(document.querySelectorAll("#ck-pages a"));
  var prevButton = document.getElementById("ck-prev");
  var nextButton = document.getElementById("ck-next");
  var position = document.getElementById("ck-position");
  var tracking = document.getElementById("ck-tracking");

  var names = VERSIONS[version];
  var api = null; // the LMS API object, once initialised
  var tracked = false; // whether this session may change status and score (mode "normal")
  var finished = false;
  var started = new Date().getTime();
  var current = 0; // index of the page in the frame
  var seen = links.map(function () { return false; });
  var quizzes = {}; // quiz id -> [raw, max]
  var status = "";

  function findIn(win) {
    for (var level = 0; win && level < MAX_LEVELS; level++) {
      try {
        if (win[names.api]) { return win[names.api]; }
      } catch (e) { /* a cross-origin window: keep climbing */ }
      if (!win.parent || win.parent === win) { return null; }
      win = win.parent;
    }
    return null;
  }

  function findApi() {
    var found = findIn(window);
    if (!found) {
      try { found = findIn(window.top.opener); } catch (e) { found = null; }
    }
    if (!found) {
      try { found = findIn(window.opener); } catch (e) { found = null; }
    }
    return found;
  }

  // Every LMS call goes through these two, so a misbehaving LMS never breaks the page.
  function call(method) {
    var args = Array.prototype.slice.call(arguments, 1);
    if (!api) { return ""; }
    try { return String(api[names[method]].apply(api, args)); } catch (e) { return ""; }
  }
  function get(element) { return call("get", element); }
  function set(element, value) { return call("set", element, String(value)); }

  function pageKey(index) { return links[index].getAttribute("data-ck-page") || String(index); }

  function indexOfKey(key) {
    for (var i = 0; i < links.length; i++) {
      if (pageKey(i) === key) { return i; }
    }
    return /^\d+$/.test(key) && Number(key) < links.length ? Number(key) : -1;
  }

  function suspendData() {
    var data = { v: 1, seen: seen.map(function (s) { return s ? "1" : "0"; }).join(""), q: quizzes };
    var text = JSON.stringify(data);
    if (text.length > SUSPEND_LIMIT[version]) { // keep the total, drop the per-quiz detail
      data.q = { total: totals() };
      text = JSON.stringify(data);
    }
    if (text.length > SUSPEND_LIMIT[version]) { // a module of thousands of pages: keep progress only
      text = JSON.stringify({ v: 1, done: seen.every(Boolean), q: data.q });
    }
    return text;
  }

  function restore(text) {
    var data;
    try { data = JSON.parse(text); } catch (e) { return; }
    if (!data || data.v !== 1) { return; }
    if (typeof data.seen === "string") {
      seen = seen.map(function (s, i) { return s || data.seen.charAt(i) === "1"; });
    }
    if (data.done === true) { seen = seen.map(function () { return true; }); }
    if (data.q && typeof data.q === "object") { quizzes = data.q; }
  }

  function totals() {
    var raw = 0, max = 0;
    Object.keys(quizzes).forEach(function (id) {
      raw += Number(quizzes[id][0]) || 0;
      max += Number(quizzes[id][1]) || 0;
    });
    return [raw, max];
  }

  function round(x) { return Math.round(x * 10000) / 10000; }

  // What the LMS should hold now; written only in "normal" mode.
  function record() {
    if (!api || !tracked) { return; }
    var all = seen.every(Boolean);
    var total = totals();
    var scored = total[1] > 0;
    var scaled = scored ? total[0] / total[1] : 0;
    set(names.location, pageKey(current).length <= 255 ? pageKey(current) : String(current));
    set("cmi.suspend_data", suspendData());
    if (version === "1.2") {
      var next = scored ? (scaled >= mastery ? "passed" : "failed") : (all ? "completed" : "incomplete");
      var settled = ["completed", "passed", "failed"].indexOf(status) >= 0;
      if (next !== status && !(next === "incomplete" && settled)) { set(names.status, next); status = next; }
      if (scored) {
        set("cmi.core.score.raw", round(scaled * 100)); // 1.2 LMSs read raw as a percentage
        set("cmi.core.score.min", 0);
        set("cmi.core.score.max", 100);
      }
    } else {
      if (all && status !== "completed") { set(names.status, "completed"); status = "completed"; }
      set("cmi.progress_measure", round(seen.filter(Boolean).length / seen.length));
      if (scored) {
        set("cmi.score.raw", total[0]);
        set("cmi.score.min", 0);
        set("cmi.score.max", total[1]);
        set("cmi.score.scaled", round(scaled));
        set("cmi.success_status", scaled >= mastery ? "passed" : "failed");
      }
    }
    call("commit", "");
  }

  function start() {
    api = findApi();
    if (!api || call("init", "") !== "true") {
      api = null;
      tracking.textContent = "Progress is not recorded here (no LMS found).";
      return 0;
    }
    var mode = get(names.mode);
    tracked = mode === "normal" || mode === "";
    tracking.textContent = tracked ? "" : "Progress is not recorded in " + mode + " mode.";
    var resuming = get(names.entry) === "resume";
    status = get(names.status);
    if (version === "1.2") {
      var lmsMastery = get("cmi.student_data.mastery_score");
      if (/^\d+(\.\d+)?$/.test(lmsMastery)) { mastery = Number(lmsMastery) / 100; }
    }
    var at = -1;
    // 2004 LMSs raise "not initialized" for unset elements: read them only on resume.
    if (resuming || version === "1.2") {
      restore(get("cmi.suspend_data"));
      at = indexOfKey(get(names.location));
    }
    if (tracked && (status === "not attempted" || status === "unknown" || status === "")) {
      set(names.status, "incomplete");
      status = "incomplete";
      call("commit", "");
    }
    return at >= 0 ? at : 0;
  }

  function pad(n, width) { var s = String(n); while (s.length < width) { s = "0" + s; } return s; }

  function sessionTime() {
    var seconds = Math.max(0, (new Date().getTime() - started) / 1000);
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (version === "1.2") { // HHHH:MM:SS.SS
      return pad(Math.min(h, 9999), 2) + ":" + pad(m, 2) + ":" + pad(s.toFixed(2), 5);
    }
    return "PT" + h + "H" + m + "M" + s.toFixed(2) + "S"; // ISO 8601 duration
  }

  function finish() {
    if (finished) { return; }
    finished = true;
    if (!api) { return; }
    set(names.session, sessionTime());
    if (tracked) { set(names.exit, "suspend"); } // keep the bookmark for the next launch
    call("commit", "");
    call("finish", "");
    api = null;
  }

  function show(index) {
    current = index;
    prevButton.disabled = index <= 0;
    nextButton.disabled = index >= links.length - 1;
    position.textContent = "Page " + (index + 1) + " of " + links.length;
    links.forEach(function (a, i) {
      if (i === index) { a.setAttribute("aria-current", "page"); } else { a.removeAttribute("aria-current"); }
    });
  }

  function go(index) {
    if (index < 0 || index >= links.length) { return; }
    show(index);
    frame.src = links[index].href;
  }

  // A page counts as seen once it has loaded in the frame, however the learner got there.
  function framed() {
    var index = current;
    try {
      var here = frame.contentWindow.location.href.split("#")[0];
      if (here === "about:blank") { return; }
      var found = links.map(function (a) { return a.href.split("#")[0]; }).indexOf(here);
      if (found < 0) { return; } // a page outside this module: nothing to record
      index = found;
    } catch (e) { /* file:// pages are opaque to each other: trust our own navigation */ }
    show(index);
    seen[index] = true;
    record();
  }

  function receive(event) {
    var d = event.data;
    if (event.source !== frame.contentWindow || event.origin !== window.location.origin) { return; }
    if (!d || d.type !== "coursekit:quiz-score" || (d.module && d.module !== moduleId)) { return; }
    var raw = Number(d.raw), max = Number(d.max);
    if (!isFinite(raw) || !isFinite(max) || max <= 0 || raw < 0 || raw > max) { return; }
    quizzes[String(d.quiz || "quiz")] = [raw, max];
    record();
  }

  if (!frame || links.length === 0) { return; }
  prevButton.addEventListener("click", function () { go(current - 1); });
  nextButton.addEventListener("click", function () { go(current + 1); });
  links.forEach(function (a, i) {
    a.addEventListener("click", function (event) { event.preventDefault(); go(i); });
  });
  frame.addEventListener("load", framed);
  window.addEventListener("message", receive);
  window.addEventListener("pagehide", finish);
  window.addEventListener("beforeunload", finish);
  go(start());
})();
