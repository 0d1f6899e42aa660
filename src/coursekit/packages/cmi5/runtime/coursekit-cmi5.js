/*
 * coursekit cmi5 runtime: loaded (deferred, after the vendored `xapi-cmi5.js`, which
 * defines the global `Cmi5` of @xapi/cmi5) by every AU launch page
 * `cmi5/launch-<unit>.html`.
 *
 * The launch page lists the unit's pages (#ck-pages links) and shows them in a frame
 * (#ck-frame), as the SCORM launch page does. When the LMS launched it the cmi5 way
 * (`endpoint`, `fetch`, `actor`, `registration`, `activityId` in the URL), @xapi/cmi5
 * POSTs the fetch URL once for the auth token, reads `LMS.LaunchData` from the State
 * API and sends "initialized"; then this script sends, in this order and one at a time:
 *   - "progressed" each time a page of the unit is seen for the first time, with the
 *     percentage of its pages seen (result extension .../result/extensions/progress);
 *   - "completed" once every page of the unit has been seen;
 *   - "passed" or "failed" when the unit's quiz is submitted (the framed quiz page
 *     posts {type: "coursekit:quiz-score", module, quiz, raw, max}, as it does for
 *     SCORM; the best result of each quiz counts, the unit's score is their sum),
 *     against LaunchData's masteryScore, else the unit's own pass mark; never a
 *     second "passed", never "failed" after "passed" or twice in a session;
 *   - "terminated" when the learner presses Exit (shown once the session started), or
 *     leaves the page (pagehide), whichever comes first; after it nothing more is
 *     sent. Exit then takes the window (or the LMS's frame) to LaunchData's returnURL,
 *     as cmi5 requires (10.2.6); without one it says the window can be closed.
 * Once the unit is done as its moveOn says (Completed, Passed, CompletedAndPassed,
 * CompletedOrPassed; NotApplicable: every page seen and the quiz passed, if any), the
 * bar says the result is recorded; the learner stays on the page until leaving.
 * What this registration already got (pages seen, the best quiz results, whether
 * completed/passed/failed were sent) is kept in the State API, stateId
 * "coursekit.progress", written after each statement: a relaunch resumes it and
 * never sends a second "completed" or "passed" for the same registration.
 * In Browse and Review launch modes it sends only "initialized" and "terminated"
 * (cmi5 forbids completed/passed/failed there) and says so in the bar.
 * The terminated of a closing page goes with `fetch(..., {keepalive: true})`, which the
 * browser completes after the page is gone (an XHR, which @xapi/cmi5 uses, is cancelled).
 * Each answered question of the unit's quiz is sent as an "answered" statement (allowed
 * in a cmi5 session between initialized and terminated; not cmi5-defined, so without the
 * cmi5 category): object <AU id>/test/<quiz>/question/<question>, of activity type
 * cmi.interaction (choice or numeric, with its correctResponsesPattern), result
 * response, success and duration; its parent in context is each unit objective the
 * question assesses (<AU id>/objective/<n>, activity type objective).
 * "completed" follows the unit's completion rule (coursekit-unit.js's #ck-config):
 * every page seen (default), a share of them, the quiz passed, or both.
 * The saved document also holds the position and the last answers of each quiz: a
 * relaunch reopens that page, shows the answers and says what was scored.
 * With no cmi5 launch (the zip opened from disk or any web server) the pages work
 * and nothing is sent. No eval, no inline handlers, nothing loaded from elsewhere.
 */
(function () {
  "use strict";

  var VERBS = "http://adlnet.gov/expapi/verbs/";
  var STATE_ID = "coursekit.progress"; // the AU's own State API document
  var FORMAT = 1;
  var CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5";

  var body = document.body;
  var unit = window.coursekitUnit; // coursekit-unit.js: the bar, the frame, the unit's words
  var nav = unit && unit.pages(framed);
  if (!nav) { return; }
  var frame = nav.frame;
  var links = nav.links;
  var tracking = document.getElementById("ck-tracking");
  var exitButton = document.getElementById("ck-exit");
  var rules = unit.config || {};
  var completion = rules.completion || "pages";
  var share = Number(rules.completionShare) || 1;
  var assesses = rules.assesses || {};
  var objectives = rules.objectives || [];

  var moduleId = body.getAttribute("data-ck-module") || "";
  var ownMastery = body.getAttribute("data-ck-mastery");
  var hasQuiz = ownMastery !== null && ownMastery !== "";
  var mastery = hasQuiz ? Number(ownMastery) / 100 : null;
  var moveOn = body.getAttribute("data-ck-move-on") || "NotApplicable";

  var cmi5 = null; // the @xapi/cmi5 client, once initialised
  var normal = false; // launchMode Normal: progress and results may be sent
  var queue = Promise.resolve(); // statements go one after the other, in order
  var seen = links.map(function () { return false; });
  var quizzes = {}; // quiz id -> [raw, max], its best result
  var answers = {}; // quiz id -> {question id: response}, the last answers submitted
  var resumeAt = -1; // the page saved in an earlier session
  var sent = { completed: false, passed: false, failed: false, terminated: false };
  var warned = false;
  var returnURL = null; // LaunchData's, when it is a web address

  function say(text) { tracking.textContent = text; }

  function failed(what, error) {
    if (window.console && console.warn) { console.warn("coursekit cmi5: " + what + " failed", error); }
    if (!warned) {
      warned = true;
      say(unit.t("cmi5_error", { what: what }));
    }
  }

  // Run `step` (which returns a promise) after every statement queued before it.
  function send(what, step) {
    queue = queue.then(function () {
      if (!cmi5 || sent.terminated) { return null; }
      return step();
    }).catch(function (error) { failed(what, error); });
    return queue;
  }

  function stateParams() {
    var params = cmi5.getLaunchParameters();
    return { agent: params.actor, activityId: params.activityId, registration: params.registration, stateId: STATE_ID };
  }

  // What the LMS kept from earlier sessions of this registration, if it is this unit's.
  function restore(saved) {
    if (!saved || saved.v !== FORMAT || saved.unit !== moduleId) { return; }
    if (typeof saved.seen === "string") {
      seen = seen.map(function (s, i) { return s || saved.seen.charAt(i) === "1"; });
    }
    if (saved.quizzes && typeof saved.quizzes === "object") { quizzes = saved.quizzes; }
    if (saved.answers && typeof saved.answers === "object") { answers = saved.answers; }
    if (typeof saved.at === "string") {
      resumeAt = nav.indexOf(saved.at);
    }
    sent.completed = saved.completed === true;
    sent.passed = saved.passed === true;
    // "failed" is once per session (cmi5 9.3.5): a new session may fail again.
  }

  // The saved document, or null. Its id is looked up in the list first: a GET of a
  // document that is not there is a 404, which browsers log as an error.
  function loadState() {
    var list = stateParams();
    delete list.stateId;
    return cmi5.xapi.getStates(list).then(function (r) {
      if (!Array.isArray(r.data) || r.data.indexOf(STATE_ID) < 0) { return null; }
      return cmi5.xapi.getState(stateParams()).then(function (d) { return d.data; });
    }).catch(function (error) { failed("reading the saved progress", error); return null; });
  }

  function save() {
    var state = {
      v: FORMAT, unit: moduleId, seen: seen.map(function (s) { return s ? "1" : "0"; }).join(""),
      quizzes: quizzes, answers: answers, at: nav.key(nav.current),
      completed: sent.completed, passed: sent.passed, failed: sent.failed
    };
    var request = stateParams();
    request.state = state;
    return cmi5.xapi.setState(request);
  }

  function percentSeen() {
    return Math.round(100 * seen.filter(Boolean).length / seen.length);
  }

  function totals() {
    var raw = 0, max = 0;
    Object.keys(quizzes).forEach(function (id) { raw += quizzes[id][0]; max += quizzes[id][1]; });
    return [raw, max];
  }

  function done() {
    var completed = sent.completed, passed = sent.passed;
    switch (moveOn) {
      case "Completed": return completed;
      case "Passed": return passed;
      case "CompletedAndPassed": return completed && passed;
      case "CompletedOrPassed": return completed || passed;
      default: return completed && (!hasQuiz || passed);
    }
  }

  function terminate() {
    send("terminated", function () {
      sent.terminated = true; // set first: nothing may follow it, even if it fails
      return cmi5.terminate();
    });
  }

  function finishIfDone() {
    if (normal && done() && !sent.terminated) {
      say(unit.t(returnURL ? "done_return" : "done"));
    }
  }

  // Exit: terminated (after what is queued), then back to the LMS if it said where.
  function exit() {
    exitButton.disabled = true;
    terminate();
    queue.then(function () {
      if (returnURL) { window.location.assign(returnURL); return; }
      say(unit.t("closed"));
    });
  }

  function webAddress(value) {
    if (typeof value !== "string" || value === "") { return null; }
    try {
      var url = new URL(value, window.location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (error) { return null; }
  }

  function pagesDone() {
    var count = seen.filter(Boolean).length;
    return completion === "share" ? count >= Math.ceil(share * seen.length - 1e-9) : count === seen.length;
  }

  // Complete by the unit's rule; a unit without questions by its pages.
  function completeNow() {
    var quiz = Object.keys(assesses).length > 0 && hasQuiz;
    if (completion === "quiz") { return quiz ? sent.passed : pagesDone(); }
    if (completion === "both") { return pagesDone() && (!quiz || sent.passed); }
    return pagesDone();
  }

  // Checked when its turn comes: a "passed" queued just before may be what completes it.
  function completeIfDone() {
    if (!normal || sent.completed) { return; }
    send("completed", function () {
      if (sent.completed || !completeNow()) { return null; }
      sent.completed = true;
      return cmi5.complete().then(save);
    });
  }

  function pageSeen(index) {
    if (seen[index]) { return; }
    seen[index] = true;
    unit.markSeen(links, seen);
    if (!normal) { return; }
    var percent = percentSeen();
    send("progressed", function () { return cmi5.progress(percent).then(save); });
    completeIfDone();
    queue.then(finishIfDone);
  }

  /* One "answered" statement per answered question, in order, after what is queued. */
  function answered(quiz, given) {
    if (!normal) { return; }
    var base = cmi5.getLaunchParameters().activityId;
    given.forEach(function (q) {
      if (q.response === "" || (Array.isArray(q.response) && q.response.length === 0)) { return; }
      var numeric = q.type === "numeric";
      var definition = {
        type: "http://adlnet.gov/expapi/activities/cmi.interaction",
        interactionType: numeric ? "numeric" : "choice",
        correctResponsesPattern: [numeric ? q.pattern[0] + ":" + q.pattern[1] : q.pattern.join("[,]")]
      };
      if (q.description) { definition.description = { "en-US": String(q.description) }; }
      var parents = (assesses[q.id] || []).filter(function (n) { return n >= 1 && n <= objectives.length; })
        .map(function (n) {
          return {
            objectType: "Activity", id: base + "/objective/" + n,
            definition: { type: "http://adlnet.gov/expapi/activities/objective",
                          description: { "en-US": String(objectives[n - 1]).slice(0, 250) } }
          };
        });
      var response = numeric ? String(q.response) : q.response.join("[,]");
      var statement = session("answered", base + "/test/" + encodeURIComponent(quiz) +
                                          "/question/" + encodeURIComponent(q.id));
      statement.object.definition = definition;
      statement.result = { response: response, success: Boolean(q.correct), duration: duration(Number(q.latency) || 0) };
      if (parents.length) { statement.context.contextActivities.parent = parents; }
      send("answered", function () { return cmi5.sendXapiStatement(statement); });
    });
  }

  function scored() {
    var total = totals();
    if (!normal || mastery === null || total[1] <= 0 || sent.passed) { completeIfDone(); return; }
    var score = { scaled: total[0] / total[1], raw: total[0], min: 0, max: total[1] };
    if (score.scaled >= mastery) {
      send("passed", function () {
        if (sent.passed) { return null; }
        sent.passed = true;
        return cmi5.pass(score).then(save);
      });
      completeIfDone();
    } else if (!sent.failed) {
      send("failed", function () {
        if (sent.failed || sent.passed) { return null; }
        sent.failed = true;
        return cmi5.fail(score).then(save);
      });
    }
    queue.then(finishIfDone);
  }

  // The terminated of a closing page: keepalive fetch, which outlives the page.
  function terminateOnLeaving() {
    if (!cmi5 || sent.terminated) { return; }
    sent.terminated = true;
    var params = cmi5.getLaunchParameters();
    var statement = session("terminated", params.activityId);
    statement.context.contextActivities.category = (statement.context.contextActivities.category || []).concat(
      [{ id: CMI5_CATEGORY, objectType: "Activity" }]);
    statement.result = { duration: duration(new Date() - cmi5.getInitializedDate()) };
    try {
      fetch(params.endpoint.replace(/\/?$/, "/") + "statements", {
        method: "POST",
        keepalive: true,
        headers: {
          "Authorization": "Basic " + cmi5.getAuthToken(),
          "Content-Type": "application/json",
          "X-Experience-API-Version": "1.0.3"
        },
        body: JSON.stringify(statement)
      });
    } catch (error) { failed("terminated", error); }
  }

  // A statement of this session (its registration and the LMS's context template): `verb` on `object`.
  function session(verb, object) {
    var params = cmi5.getLaunchParameters();
    var data = cmi5.getLaunchData();
    var context = JSON.parse(JSON.stringify(data.contextTemplate || {}));
    context.registration = params.registration;
    context.contextActivities = context.contextActivities || {};
    return {
      id: newId(),
      actor: params.actor,
      verb: { id: VERBS + verb, display: { "en-US": verb } },
      object: { objectType: "Activity", id: object },
      context: context,
      timestamp: new Date().toISOString()
    };
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function duration(ms) {
    var cs = Math.max(0, Math.round(ms / 10));
    var h = Math.floor(cs / 360000), m = Math.floor((cs % 360000) / 6000), s = (cs % 6000) / 100;
    return "PT" + h + "H" + m + "M" + s + "S";
  }

  // What a returning learner is told: their quiz results and where they were.
  function welcome() {
    var parts = [];
    Object.keys(quizzes).forEach(function (key) {
      parts.push(unit.t("scored", { raw: quizzes[key][0], max: quizzes[key][1], quiz: rules.quizTitle || key }));
    });
    if (resumeAt > 0) { parts.push(unit.t("resume", { n: resumeAt + 1, total: links.length })); }
    if (parts.length && !warned) { say(parts.join(" ")); }
    unit.markSeen(links, seen);
    if (resumeAt > 0 && !nav.moved) { nav.go(resumeAt); } else { unit.restoreQuiz(frame, answers); }
  }

  function connect() {
    if (typeof Cmi5 === "undefined" || !Cmi5.isCmiAvailable) {
      say(unit.t("no_cmi5"));
      return;
    }
    var client;
    try { client = new Cmi5(); } catch (error) { failed("reading the launch URL", error); return; }
    client.initialize().then(function () {
      cmi5 = client;
      return loadState();
    }).then(function (saved) {
      var data = cmi5.getLaunchData() || {};
      normal = data.launchMode === "Normal";
      if (data.moveOn) { moveOn = data.moveOn; }
      if (typeof data.masteryScore === "number") { mastery = data.masteryScore; }
      returnURL = webAddress(data.returnURL);
      if (exitButton) { exitButton.hidden = false; }
      if (!normal) { say(unit.t("mode", { mode: data.launchMode })); }
      // What was seen before the LMS answered counts too.
      var before = seen.slice();
      seen = seen.map(function () { return false; });
      if (normal) { restore(saved); }
      before.forEach(function (s, i) { if (s) { pageSeen(i); } });
      if (normal) { welcome(); completeIfDone(); }
    }).catch(function (error) { failed("starting the session", error); });
  }

  // A page of the unit has loaded in the frame (coursekit-unit.js's `pages`): it is seen.
  function framed(index) {
    unit.restoreQuiz(frame, answers);
    pageSeen(index);
    if (normal && cmi5 && seen[index]) { send("position", save); }
  }

  function receive(event) {
    var result = unit.quizResult(event, frame, moduleId);
    if (!result) { return; }
    var key = result.quiz;
    var before = quizzes[key];
    if (!before || result.raw / result.max >= before[0] / before[1]) { quizzes[key] = [result.raw, result.max]; }
    if (result.given) {
      answers[key] = result.kept;
      if (cmi5) { answered(key, result.given); }
    }
    scored();
    if (normal && cmi5) { send("answers", save); }
  }

  if (exitButton) { exitButton.addEventListener("click", exit); }
  window.addEventListener("message", receive);
  window.addEventListener("pagehide", terminateOnLeaving);
  nav.go(0);
  connect();
})();
