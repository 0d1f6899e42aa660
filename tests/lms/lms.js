/* The test LMS: what an LMS does around a SCO, with scorm-again as the API.
 *
 * lms.launch(version, url) creates a fresh Scorm12API / Scorm2004API, loads what
 * the previous session of that SCO stored (entry "resume" when it exited with
 * "suspend"), exposes it as window.API / window.API_1484_11 and opens the SCO in
 * the frame. lms.close() unloads the SCO and keeps its CMI data. Every API call
 * is logged with its result and GetLastError code in lms.calls.
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
    launch: function (version, url) {
      var previous = stored[url];
      api = version === "1.2"
        ? new window.Scorm12API({ autocommit: false, logLevel: 5 })
        : new window.Scorm2004API({ autocommit: false, logLevel: 5 });
      if (previous) {
        var copy = JSON.parse(JSON.stringify(previous));
        var core = version === "1.2" ? copy.core : copy;
        core.entry = core.exit === "suspend" ? "resume" : "";
        delete core.exit; // written by the SCO, per session
        delete core.session_time;
        api.loadFromJSON(copy, "cmi");
      }
      record(version, api);
      delete window.API;
      delete window.API_1484_11;
      window[version === "1.2" ? "API" : "API_1484_11"] = api;
      frame = document.getElementById("sco");
      frame.src = url;
    },
    close: function (url) {
      return new Promise(function (resolve) {
        frame.addEventListener("load", function done() {
          frame.removeEventListener("load", done);
          stored[url] = JSON.parse(JSON.stringify(api.renderCMIToJSONObject().cmi));
          resolve(stored[url]);
        });
        frame.src = "about:blank";
      });
    }
  };
})();
