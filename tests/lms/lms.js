/* The test LMS: what an LMS does around a SCO, with scorm-again as the API.
 *
 * lms.launch(version, url, options) creates a fresh Scorm12API / Scorm2004API, loads
 * what the previous session of that SCO stored (entry "resume" when it exited with
 * "suspend"), exposes it as window.API / window.API_1484_11 and opens the SCO in
 * the frame. lms.close() unloads the SCO and keeps its CMI data. Every API call
 * is logged with its result and GetLastError code in lms.calls.
 *
 * options, for the ways real LMSs differ:
 *   delay: ms   the API appears that long after the SCO starts loading;
 *   shared      one store for every SCO (as LMSs that keep one per package do);
 *   noEntry     never set cmi.entry (as some LMSs do);
 *   terminated  the API was already terminated: the SCO's Initialize fails;
 *   commitUrl   where scorm-again POSTs each commit (a URL that fails makes Commit fail);
 *   mode        "browse" or "review" instead of "normal".
 * lms.shut() terminates the API under a running SCO (as another player may).
 */
(function () {
  "use strict";

  var METHODS = {
    "1.2": ["LMSInitialize", "LMSGetValue", "LMSSetValue", "LMSCommit", "LMSFinish"],
    "2004": ["Initialize", "GetValue", "SetValue", "Commit", "Terminate"]
  };
  var stored = {}; // url -> the cmi object saved at the end of its last session
  var frame = null;
  var api = null;

  function record(version, instance) {
    var lastError = version === "1.2" ? "LMSGetLastError" : "GetLastError";
    METHODS[version].forEach(function (name) {
      var real = instance[name].bind(instance);
      instance[name] = function () {
        var args = Array.prototype.slice.call(arguments);
        var result = real.apply(null, args);
        var code = String(instance[lastError]());
        window.lms.calls.push({ method: name, args: args, result: String(result), error: code });
        return result;
      };
    });
  }

  window.lms = {
    calls: [],
    launch: function (version, url, options) {
      options = options || {};
      var key = options.shared ? "shared" : url;
      var previous = stored[key];
      var settings = { autocommit: false, logLevel: 5 };
      if (options.commitUrl) { settings.lmsCommitUrl = options.commitUrl; } // commits POST there
      api = version === "1.2" ? new window.Scorm12API(settings) : new window.Scorm2004API(settings);
      if (previous) {
        var copy = JSON.parse(JSON.stringify(previous));
        var core = version === "1.2" ? copy.core : copy;
        core.entry = core.exit === "suspend" && !options.noEntry ? "resume" : "";
        delete core.exit; // written by the SCO, per session
        delete core.session_time;
        api.loadFromJSON(copy, "cmi");
      }
      if (options.mode) { // what the LMS opens the SCO in: "browse", "review"
        api.loadFromJSON(version === "1.2" ? { core: { lesson_mode: options.mode } } : { mode: options.mode }, "cmi");
      }
      if (options.terminated) {
        api[version === "1.2" ? "LMSInitialize" : "Initialize"]("");
        api[version === "1.2" ? "LMSFinish" : "Terminate"]("");
      }
      var finishName = version === "1.2" ? "LMSFinish" : "Terminate";
      this.shut = api[finishName].bind(api, ""); // the real Terminate, left out of lms.calls
      record(version, api);
      this.key = key;
      this.version = version;
      delete window.API;
      delete window.API_1484_11;
      var name = version === "1.2" ? "API" : "API_1484_11";
      if (options.delay) {
        window.setTimeout(function () { window[name] = api; }, options.delay);
      } else {
        window[name] = api;
      }
      frame = document.getElementById("sco");
      frame.src = url;
    },
    close: function () {
      return new Promise(function (resolve) {
        frame.addEventListener("load", function done() {
          frame.removeEventListener("load", done);
          var key = window.lms.key;
          stored[key] = JSON.parse(JSON.stringify(api.renderCMIToJSONObject().cmi));
          resolve(stored[key]);
        });
        frame.src = "about:blank";
      });
    }
  };
})();
