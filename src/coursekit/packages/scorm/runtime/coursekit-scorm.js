/*
 * coursekit SCORM runtime: loaded (as an external file, deferred) by every
 * generated launch page `scorm/launch-<module>.html`, one per SCO.
 *
 * The launch page lists the module's pages (#ck-pages links) and shows them in a
 * frame (#ck-frame). This script:
 *   - finds the LMS API (SCORM 1.2 `API`, 2004 `API_1484_11`): the parent
 *     windows first, then the opener's; an LMS may create it after the SCO has
 *     loaded, so it looks again, with backoff, for a few seconds before deciding
 *     there is no LMS (the pages work meanwhile, and are recorded once found);
 *   - initialises once, marks the SCO incomplete on its first launch and
 *     completed when every page of the module has been shown in the frame;
 *   - records the module's quiz score, posted by a framed page as
 *     {type: "coursekit:quiz-score", module, quiz, raw, min, max, scaled},
 *     and sets passed/failed against the mastery score;
 *   - bookmarks the current page (location) and what was seen (suspend_data,
 *     keyed by course and module: an LMS may keep one store for several SCOs),
 *     and resumes there whenever the LMS hands that data back, whatever
 *     `entry` says; it never lowers a completion or success the LMS holds;
 *   - writes exit and session time with every record (the last requests of an
 *     unloading page are often lost) and finishes exactly once;
 *   - on an LMS error, logs GetLastError/GetErrorString and tells the learner.
 * In browse/review mode it writes nothing (it only initialises and terminates).
 * With no LMS, navigation works and nothing is recorded; nothing throws.
 * No eval, no inline handlers, no requests of its own.
 */
(function () {
  "use strict";

  var MAX_LEVELS = 10; // how far up the window tree (and the opener's) to look for the API
  var LOOKUP_MS = 5000; // how long to keep looking for an API that is not there yet
  var FIRST_RETRY_MS = 25; // then 50, 100, … capped at MAX_RETRY_MS
  var MAX_RETRY_MS = 1000;
  var SUSPEND_LIMIT = { "1.2": 4096, "2004": 64000 }; // characters allowed by each standard
  var FORMAT = 2; // version of the suspend_data layout
  // 1.2 lesson_status by how far the learner got; a status is never replaced by a lower one.
  var RANK12 = { "": 0, "not attempted": 0, "browsed": 0, "incomplete": 1, "completed": 2, "failed": 2, "passed": 3 };

  var VERSIONS = {
    "1.2": {
      api: "API", init: "LMSInitialize", get: "LMSGetValue", set: "LMSSetValue",
      commit: "LMSCommit", finish: "LMSFinish", error: "LMSGetLastError", text: "LMSGetErrorString",
      mode: "cmi.core.lesson_mode", status: "cmi.core.lesson_status",
      location: "cmi.core.lesson_location", exit: "cmi.core.exit",
      session: "cmi.core.session_time", normalExit: ""
    },
    "2004": {
      api: "API_1484_11", init: "Initialize", get: "GetValue", set: "SetValue",
      commit: "Commit", finish: "Terminate", error: "GetLastError", text: "GetErrorString",
      mode: "cmi.mode", status: "cmi.completion_status",
      location: "cmi.location", exit: "cmi.exit",
      session: "cmi.session_time", normalExit: "normal"
    }
  };

  function pad(n, width) { var s = String(n); while (s.length < width) { s = "0" + s; } return s; }

  /* A duration in milliseconds as SCORM wants it: 1.2 "HHHH:MM:SS.SS" (CMITimespan),
   * 2004 "PT#H#M#S" (ISO 8601). Rounded to hundredths first, so 59.996 s is
   * 1 minute, never "60" seconds. */
  function formatDuration(ms, version) {
    var cs = Math.max(0, Math.round(Number(ms) / 10) || 0);
    var h = Math.floor(cs / 360000), m = Math.floor((cs % 360000) / 6000), rest = cs % 6000;
    var s = Math.floor(rest / 100) + "." + pad(rest % 100, 2);
    if (version === "1.2") {
      if (h > 9999) { return "9999:59:59.99"; } // the largest CMITimespan
      return pad(h, 2) + ":" + pad(m, 2) + ":" + pad(s, 5);
    }
    return "PT" + h + "H" + m + "M" + s + "S";
  }

  // For the tests (and curious authors): the formatter, run as the SCO runs it.
  var exported = { formatDuration: formatDuration };
  if (typeof window !== "undefined") { window.coursekitScorm = exported; }
  if (typeof module !== "undefined" && module.exports) { module.exports = exported; }
  if (typeof document === "undefined" || !document.body) { return; }

  var body = document.body;
  var unit = window.coursekitUnit; // coursekit-unit.js: the bar, the frame, the unit's words
  var nav = unit && unit.pages(framed);
  if (!nav) { return; }
  var rules = unit.config || {};
  var completion = rules.completion || "pages"; // pages, quiz, both, share
  var share = Number(rules.completionShare) || 1;
  var assesses = rules.assesses || {}; // question id -> the 1-based objectives it assesses
  var objectives = rules.objectives || [];
  var version = body.getAttribute("data-ck-scorm") === "2004" ? "2004" : "1.2";
  var courseId = body.getAttribute("data-ck-course") || "";
  var moduleId = body.getAttribute("data-ck-module") || "";
  var mastery = Number(body.getAttribute("data-ck-mastery") || "80") / 100;
  var frame = nav.frame;
  var links = nav.links;
  var tracking = document.getElementById("ck-tracking");

  var names = VERSIONS[version];
  var api = null; // the LMS API object, once initialised
  var tracked = false; // whether this session may write (mode "normal")
  var finished = false;
  var started = new Date().getTime();
  var seen = links.map(function () { return false; });
  var quizzes = {}; // "<module>/<quiz id>" -> [raw, max], the best result of each quiz
  var answers = {}; // quiz id -> {question id: response}, the last answers submitted
  var interactions = 0; // cmi.interactions._count: the next interaction's index
  var held = { status: "", success: "" }; // the best the LMS or this SCO recorded so far
  var warned = false;

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

  function say(text) { tracking.textContent = text; }

  // An LMS call failed: log what the LMS says about it, and tell the learner once.
  function lmsError(what, from) {
    var code = "", text = "";
    try { code = String(from[names.error]()); } catch (e) { code = "?"; }
    try { text = String(from[names.text](code)); } catch (e) { text = ""; }
    if (window.console && console.warn) {
      console.warn("coursekit SCORM: " + what + " failed, LMS error " + code + (text ? " (" + text + ")" : ""));
    }
    if (!warned) {
      warned = true;
      say(unit.t("lms_error", { error: code + (text ? ": " + text : "") }));
    }
  }

  // Every LMS call goes through these, so a misbehaving LMS never breaks the page.
  function call(method) {
    var args = Array.prototype.slice.call(arguments, 1);
    if (!api) { return ""; }
    var result;
    try { result = String(api[names[method]].apply(api, args)); } catch (e) { result = "false"; }
    if (result === "false" && method !== "get") { lmsError(names[method] + "(" + (args[0] || "") + ")", api); }
    return result;
  }
  // 2004 LMSs answer "" with error 403 for elements never set: that is an empty value, not a failure.
  function get(element) { return call("get", element); }
  function set(element, value) { return call("set", element, String(value)); }

  function suspendData() {
    var data = { v: FORMAT, c: courseId, m: moduleId, seen: seen.map(function (s) { return s ? "1" : "0"; }).join(""), q: quizzes, a: answers };
    var text = JSON.stringify(data);
    if (text.length > SUSPEND_LIMIT[version]) { // keep the scores, drop the answers
      delete data.a;
      text = JSON.stringify(data);
    }
    if (text.length > SUSPEND_LIMIT[version]) { // keep the total, drop the per-quiz detail
      data.q = { total: totals() };
      text = JSON.stringify(data);
    }
    if (text.length > SUSPEND_LIMIT[version]) { // a module of thousands of pages: keep progress only
      text = JSON.stringify({ v: FORMAT, c: courseId, m: moduleId, done: seen.every(Boolean), q: data.q });
    }
    return text;
  }

  /* What the LMS handed back, if it is this module's. Returns "ours", "empty", or
   * "foreign" (another SCO's data: the LMS keeps one store for several SCOs). */
  function restore(text) {
    if (!text) { return "empty"; }
    var data;
    try { data = JSON.parse(text); } catch (e) { return "foreign"; }
    if (!data || data.v !== FORMAT || data.c !== courseId || data.m !== moduleId) { return "foreign"; }
    if (typeof data.seen === "string") {
      seen = seen.map(function (s, i) { return s || data.seen.charAt(i) === "1"; });
    }
    if (data.done === true) { seen = seen.map(function () { return true; }); }
    if (data.q && typeof data.q === "object") { quizzes = data.q; }
    if (data.a && typeof data.a === "object") { answers = data.a; }
    return "ours";
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

  function hasQuiz() { return Object.keys(assesses).length > 0; }
  function pagesDone() {
    if (completion === "share") { return seen.filter(Boolean).length >= Math.ceil(share * seen.length - 1e-9); }
    return seen.every(Boolean);
  }
  // Complete by the unit's rule (module.yml `completion`); a unit without questions by its pages.
  function complete() {
    if (held.status === "completed") { return true; }
    var quizDone = passedNow() || held.success === "passed";
    if (completion === "quiz") { return hasQuiz() ? quizDone : pagesDone(); }
    if (completion === "both") { return pagesDone() && (!hasQuiz() || quizDone); }
    return pagesDone();
  }
  function passedNow() {
    var total = totals();
    return total[1] > 0 && total[0] / total[1] >= mastery;
  }
  function finishedModule() { // nothing left to do: every page seen, and the quiz passed if any
    var scored = totals()[1] > 0 || held.success !== "";
    return complete() && (!scored || passedNow() || held.success === "passed");
  }

  // Exit and session time go with every record: the requests of an unloading page are often lost.
  function closing() {
    set(names.session, formatDuration(new Date().getTime() - started, version));
    set(names.exit, finishedModule() ? names.normalExit : "suspend");
  }

  function status12() {
    var total = totals();
    var next = total[1] > 0 ? (passedNow() ? "passed" : "failed") : (complete() ? "completed" : "incomplete");
    if (held.success === "passed") { next = "passed"; }
    return RANK12[next] >= (RANK12[held.status] || 0) ? next : held.status;
  }

  // What the LMS should hold now; written only in "normal" mode.
  function record() {
    if (!api || !tracked) { return; }
    var total = totals();
    var scored = total[1] > 0;
    var scaled = scored ? total[0] / total[1] : 0;
    var key = nav.key(nav.current);
    set(names.location, key.length <= 255 ? key : String(nav.current));
    set("cmi.suspend_data", suspendData()); // if rejected, the learner is told (see call)
    if (version === "1.2") {
      var next = status12();
      if (next !== held.status) { set(names.status, next); held.status = next; }
      if (next === "passed" || next === "failed") { held.success = next; }
      if (scored) {
        set("cmi.core.score.raw", round(scaled * 100)); // 1.2 LMSs read raw as a percentage
        set("cmi.core.score.min", 0);
        set("cmi.core.score.max", 100);
      }
    } else {
      if (complete() && held.status !== "completed") { set(names.status, "completed"); held.status = "completed"; }
      // Completed stays completed: progress is 1 then, even if the pages seen were lost.
      set("cmi.progress_measure", complete() ? 1 : round(seen.filter(Boolean).length / seen.length));
      if (scored) {
        var success = passedNow() || held.success === "passed" ? "passed" : "failed";
        set("cmi.score.raw", total[0]);
        set("cmi.score.min", 0);
        set("cmi.score.max", total[1]);
        set("cmi.score.scaled", round(scaled));
        if (success !== held.success) { set("cmi.success_status", success); held.success = success; }
      }
    }
    closing();
    call("commit", "");
  }

  // What the LMS holds about this SCO, before anything is written.
  function readHeld(mine) {
    var status = get(names.status);
    var success = version === "2004" ? get("cmi.success_status") : "";
    if (version === "1.2" && (status === "passed" || status === "failed")) { success = status; }
    if (mine === "foreign") { // another SCO's result in a shared store: not ours to keep
      held = { status: "", success: "" };
      return;
    }
    held.status = status;
    held.success = success === "passed" || success === "failed" ? success : "";
  }

  function connected(found) {
    api = found;
    if (call("init", "") !== "true") { api = null; return -1; }
    var mode = get(names.mode);
    tracked = mode === "normal" || mode === "";
    if (!tracked) {
      say(unit.t("mode", { mode: mode }));
      return -1;
    }
    if (version === "1.2") {
      var lmsMastery = get("cmi.student_data.mastery_score");
      if (/^\d+(\.\d+)?$/.test(lmsMastery)) { mastery = Number(lmsMastery) / 100; }
    }
    var mine = restore(get("cmi.suspend_data"));
    readHeld(mine);
    interactions = Number(get("cmi.interactions._count")) || 0;
    var at = mine === "foreign" ? -1 : nav.indexOf(get(names.location));
    var first = mine !== "ours" && (held.status === "" || held.status === "not attempted" || held.status === "unknown");
    if (first) {
      set(names.status, "incomplete");
      held.status = "incomplete";
      if (mine === "foreign" && version === "2004") { set("cmi.success_status", "unknown"); }
    }
    closing();
    call("commit", "");
    return at;
  }

  function connect(delay) {
    var found = findApi();
    if (!found) {
      if (new Date().getTime() - started + delay > LOOKUP_MS) {
        say(unit.t("no_lms"));
        return;
      }
      window.setTimeout(function () { connect(Math.min(delay * 2, MAX_RETRY_MS)); }, delay);
      return;
    }
    var bookmark = connected(found);
    if (!api) { return; }
    welcome(bookmark);
    if (bookmark > 0 && !nav.moved) { nav.go(bookmark); } else { record(); }
  }

  // What a returning learner is told: their quiz results and where they were.
  function welcome(bookmark) {
    var parts = [];
    Object.keys(quizzes).forEach(function (key) {
      if (key === "total") { return; }
      parts.push(unit.t("scored", { raw: quizzes[key][0], max: quizzes[key][1], quiz: rules.quizTitle || key.split("/").pop() }));
    });
    if (bookmark > 0) { parts.push(unit.t("resume", { n: bookmark + 1, total: links.length })); }
    if (parts.length && !warned) { say(parts.join(" ")); }
    unit.markSeen(links, seen);
    unit.restoreQuiz(frame, answers);
  }

  function objectiveId(number) { return moduleId + "-objective-" + number; }
  function interactionId(quiz, question) {
    return (moduleId + "-" + quiz + "-" + question).replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 250);
  }
  function clock(date) { return pad(date.getHours(), 2) + ":" + pad(date.getMinutes(), 2) + ":" + pad(date.getSeconds(), 2); }
  function timestamp(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1, 2) + "-" + pad(date.getDate(), 2) + "T" + clock(date);
  }

  /* One interaction per answered question (journaled: a retake adds its own), then the
   * unit's objectives, each scored by the questions of this submission that assess it. */
  function report(quiz, given) {
    if (!api || !tracked) { return; }
    var now = new Date();
    var byObjective = {};
    given.forEach(function (q) {
      var numbers = (assesses[q.id] || []).filter(function (n) { return n >= 1 && n <= objectives.length; });
      var points = Number(q.points) || 1;
      numbers.forEach(function (n) {
        var o = byObjective[n] || (byObjective[n] = [0, 0]);
        o[1] += points;
        if (q.correct) { o[0] += points; }
      });
      if (q.response === "" || (Array.isArray(q.response) && q.response.length === 0)) { return; }
      var p = "cmi.interactions." + interactions + ".";
      var numeric = q.type === "numeric";
      set(p + "id", interactionId(quiz, q.id));
      set(p + "type", numeric ? "numeric" : "choice");
      numbers.forEach(function (n, j) { set(p + "objectives." + j + ".id", objectiveId(n)); });
      if (version === "1.2") {
        set(p + "time", clock(now));
        set(p + "weighting", points);
        set(p + "correct_responses.0.pattern", numeric ? String(q.pattern[0] + (q.pattern[1] - q.pattern[0]) / 2) : q.pattern.join(","));
        set(p + "student_response", numeric ? String(q.response).slice(0, 255) : q.response.join(","));
        set(p + "result", q.correct ? "correct" : "wrong");
        set(p + "latency", formatDuration(q.latency, "1.2"));
      } else {
        set(p + "timestamp", timestamp(now));
        set(p + "weighting", points);
        if (q.description) { set(p + "description", String(q.description).slice(0, 250)); }
        set(p + "correct_responses.0.pattern", numeric ? q.pattern[0] + "[:]" + q.pattern[1] : q.pattern.join("[,]"));
        if (!numeric) { set(p + "learner_response", q.response.join("[,]")); }
        else if (isFinite(Number(q.number))) { set(p + "learner_response", String(q.number)); }
        set(p + "result", q.correct ? "correct" : "incorrect");
        set(p + "latency", formatDuration(q.latency, "2004"));
      }
      interactions += 1;
    });
    objectives.forEach(function (text, i) { // every objective, in order: index i is objective i + 1
      var o = "cmi.objectives." + i + ".";
      set(o + "id", objectiveId(i + 1));
      var result = byObjective[i + 1];
      if (!result) { return; }
      var scaled = result[0] / result[1];
      var status = scaled >= mastery ? "passed" : "failed";
      if (version === "1.2") {
        set(o + "score.raw", round(scaled * 100));
        set(o + "score.min", 0);
        set(o + "score.max", 100);
        set(o + "status", status);
      } else {
        set(o + "description", String(text).slice(0, 250));
        set(o + "score.scaled", round(scaled));
        set(o + "score.raw", result[0]);
        set(o + "score.min", 0);
        set(o + "score.max", result[1]);
        set(o + "success_status", status);
        set(o + "completion_status", "completed");
      }
    });
  }

  function finish() {
    if (finished) { return; }
    finished = true;
    if (!api) { return; }
    if (tracked) {
      closing();
      call("commit", "");
    }
    call("finish", "");
    api = null;
  }

  // A page of the unit has loaded in the frame (coursekit-unit.js's `pages`): it is seen.
  function framed(index) {
    seen[index] = true;
    unit.markSeen(links, seen);
    unit.restoreQuiz(frame, answers);
    record();
  }

  function receive(event) {
    var result = unit.quizResult(event, frame, moduleId);
    if (!result) { return; }
    var key = moduleId + "/" + result.quiz;
    var before = quizzes[key];
    // A retake never lowers what was recorded: the best result of each quiz counts.
    if (!before || result.raw / result.max >= Number(before[0]) / Number(before[1])) {
      quizzes[key] = [result.raw, result.max];
    }
    if (result.given) {
      answers[result.quiz] = result.kept;
      report(result.quiz, result.given);
    }
    record();
  }

  window.addEventListener("message", receive);
  window.addEventListener("pagehide", finish);
  window.addEventListener("beforeunload", finish);
  nav.go(0);
  connect(FIRST_RETRY_MS);
})();
