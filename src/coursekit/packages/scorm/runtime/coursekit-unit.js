/*
 * coursekit unit reader: loaded (deferred, before the tracking runtime) by every SCORM
 * and cmi5 launch page. It makes the framed book pages read as one unit:
 *   - each page loaded in the frame loses the book's own navigation (its sidebar of
 *     every module, its previous/next links, its search, its header buttons): the
 *     bar above is the one navigation system;
 *   - a link to a page of the course outside this unit is shown as a reference: its
 *     text, no longer a link, marked "in another unit: Module 2 · …" when it is another
 *     unit's page (a glossary or bibliography page is only unlinked): the learner cannot
 *     leave the unit from inside its frame; web links (http, https) open in a new
 *     window, marked so; links within the unit and within the page stay as they are;
 *   - the bar's page list marks the pages already seen, and closes after a choice;
 *   - the bar's navigation itself (`pages`: previous, next, the list, the frame), which
 *     both runtimes drive.
 * The public site is untouched: this runs only in the launch page, on pages it frames.
 * It reads the launch page's `#ck-config` (words in the book's language, completion
 * rule, objectives) and hands it to the runtime as `window.coursekitUnit`.
 * No eval, no inline code, no requests; the framed page is changed through the DOM
 * (same origin); a page it cannot reach (file://) is left as it is.
 */
(function () {
  "use strict";

  // The book theme's navigation that leads outside the unit (sphinx-book-theme / pydata).
  var BOOK_NAVIGATION = [
    ".bd-sidebar-primary", ".sidebar-toggle.primary-toggle", ".prev-next-footer", ".prev-next-area",
    ".bd-search", ".search-button__button", ".search-button-field", ".navbar-brand",
    ".bd-header", ".header-article-items__start", ".bd-footer", ".bd-footer-content",
    "#pst-primary-sidebar", "#pst-search-dialog", "#rtd-footer-container"
  ];

  var config = {};
  try {
    var block = document.getElementById("ck-config");
    config = block ? JSON.parse(block.textContent) || {} : {};
  } catch (e) { config = {}; }
  var words = config.words || {};
  var elsewhere = config.elsewhere || {}; // the other units' pages: zip path -> unit title

  // A word of the catalogue with its {fields} filled in.
  function t(key, fields) {
    var text = words[key] || key;
    Object.keys(fields || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(fields[name]));
    });
    return text;
  }

  function bare(url) { return String(url).split("#")[0]; }

  /* Scope the page now in `frame` to the unit whose pages are `links`. */
  function scope(frame, links) {
    var doc;
    try { doc = frame.contentDocument; } catch (e) { return; } // cross-origin or file://
    if (!doc || !doc.documentElement || doc.documentElement.hasAttribute("data-ck-unit")) { return; }
    doc.documentElement.setAttribute("data-ck-unit", "");
    BOOK_NAVIGATION.forEach(function (selector) {
      Array.prototype.forEach.call(doc.querySelectorAll(selector), function (el) {
        el.style.setProperty("display", "none", "important");
        el.setAttribute("aria-hidden", "true");
        el.setAttribute("data-ck-hidden", "");
      });
    });
    var unit = links.map(function (a) { return bare(a.href); });
    var here = bare(frame.contentWindow.location.href);
    var root = new URL("..", window.location.href).href; // the launch pages sit in the site's scorm/ or cmi5/
    Array.prototype.forEach.call(doc.querySelectorAll("a[href]"), function (a) {
      if (a.closest("[data-ck-hidden]")) { return; }
      var url;
      try { url = new URL(a.getAttribute("href"), doc.baseURI); } catch (e) { return; }
      var target = bare(url.href);
      if (target === here || unit.indexOf(target) >= 0) { a.removeAttribute("target"); return; }
      if (url.protocol === "http:" || url.protocol === "https:") {
        if (url.origin !== window.location.origin) { // the web: a window of its own
          a.setAttribute("target", "_blank");
          a.setAttribute("rel", "noopener");
          a.setAttribute("title", t("new_window"));
          a.classList.add("ck-external");
          return;
        }
      }
      if (url.origin !== window.location.origin || target.indexOf(root) !== 0) { return; }
      if (!/\.html?$/.test(url.pathname)) { return; } // a download or a picture: not a page
      var other = elsewhere[decodeURI(target.slice(root.length))];
      var span = doc.createElement("span");
      span.className = "ck-outside";
      span.setAttribute("data-ck-outside", target);
      span.setAttribute("title", t("outside_title"));
      while (a.firstChild) { span.appendChild(a.firstChild); }
      if (other) { // another unit's page: say which, so the learner can find it there
        var mark = doc.createElement("small");
        mark.textContent = " (" + t("outside") + ": " + other + ")";
        span.appendChild(mark);
      }
      a.parentNode.replaceChild(span, a);
    });
  }

  /* Mark the pages already seen in the bar's list. */
  function markSeen(links, seen) {
    links.forEach(function (a, i) {
      var li = a.parentNode;
      var mark = li.querySelector(".ck-seen");
      if (seen[i] && !mark) {
        mark = document.createElement("span");
        mark.className = "ck-seen";
        mark.textContent = " \u2713";
        var label = document.createElement("span");
        label.className = "ck-visually-hidden";
        label.textContent = " (" + t("seen") + ")";
        mark.appendChild(label);
        li.appendChild(mark);
      }
      if (seen[i]) { li.classList.add("ck-was-seen"); }
    });
  }

  /* Show the learner's saved answers of a quiz in the framed page (see coursekit-quiz.js). */
  function restoreQuiz(frame, saved) {
    if (!saved) { return; }
    try {
      var forms = frame.contentDocument.querySelectorAll("form.ck-quiz[data-quiz]");
      Array.prototype.forEach.call(forms, function (form) {
        var quiz = form.getAttribute("data-quiz");
        if (!saved[quiz]) { return; }
        frame.contentWindow.postMessage({
          type: "coursekit:quiz-restore", quiz: quiz, answers: saved[quiz],
          note: t("saved_answers")
        }, window.location.origin);
      });
    } catch (e) { /* a page we cannot reach: nothing to restore */ }
  }

  function closeList() {
    var details = document.querySelector(".ck-bar details");
    if (details) { details.open = false; }
  }

  /* The bar's navigation, for the SCORM and cmi5 runtimes alike: Previous, Next and the
   * page list open the unit's pages (#ck-pages) in the frame (#ck-frame). Once a page of the
   * unit has loaded there, however the learner got to it, the bar shows it, the page is
   * scoped to the unit and `onPage(index)` runs. Returns null when the launch page has no
   * frame or no pages; else {frame, links, current, moved, go, key, indexOf}, where
   * `moved` says the learner navigated (a bookmark found later must not override that). */
  function pages(onPage) {
    var frame = document.getElementById("ck-frame");
    var links = Array.prototype.slice.call(document.querySelectorAll("#ck-pages a"));
    if (!frame || links.length === 0) { return null; }
    var prevButton = document.getElementById("ck-prev");
    var nextButton = document.getElementById("ck-next");
    var position = document.getElementById("ck-position");
    var nav = { frame: frame, links: links, current: 0, moved: false };

    function show(index) {
      nav.current = index;
      prevButton.disabled = index <= 0;
      nextButton.disabled = index >= links.length - 1;
      position.textContent = t("position", { n: index + 1, total: links.length });
      links.forEach(function (a, i) {
        if (i === index) { a.setAttribute("aria-current", "page"); } else { a.removeAttribute("aria-current"); }
      });
    }

    nav.go = function (index) {
      if (index < 0 || index >= links.length) { return; }
      show(index);
      frame.src = links[index].href;
    };
    nav.key = function (index) { return links[index].getAttribute("data-ck-page") || String(index); };
    nav.indexOf = function (key) {
      for (var i = 0; i < links.length; i++) {
        if (nav.key(i) === key) { return i; }
      }
      return -1;
    };

    // A page counts as seen once it has loaded in the frame, however the learner got there.
    function framed() {
      var index = nav.current;
      try {
        var here = bare(frame.contentWindow.location.href);
        if (here === "about:blank") { return; }
        index = links.map(function (a) { return bare(a.href); }).indexOf(here);
        if (index < 0) { return; } // a page outside this unit: nothing to record
      } catch (e) { /* file:// pages are opaque to each other: trust our own navigation */ }
      show(index);
      scope(frame, links);
      onPage(index);
    }

    function user(index) { nav.moved = true; nav.go(index); }
    prevButton.addEventListener("click", function () { user(nav.current - 1); });
    nextButton.addEventListener("click", function () { user(nav.current + 1); });
    links.forEach(function (a, i) {
      a.addEventListener("click", function (event) { event.preventDefault(); closeList(); user(i); });
    });
    frame.addEventListener("load", framed);
    return nav;
  }

  /* A quiz's result, posted by the framed page ({type: "coursekit:quiz-score", module, quiz,
   * raw, max, answers}; see coursekit-quiz.js), if it comes from the frame, is this unit's
   * and makes sense: {quiz, raw, max, given (the questions answered, as posted; null if
   * none were), kept (question id -> response)}; else null. */
  function quizResult(event, frame, unitId) {
    var d = event.data;
    if (event.source !== frame.contentWindow || event.origin !== window.location.origin) { return null; }
    if (!d || d.type !== "coursekit:quiz-score" || (d.module && d.module !== unitId)) { return null; }
    var raw = Number(d.raw), max = Number(d.max);
    if (!isFinite(raw) || !isFinite(max) || max <= 0 || raw < 0 || raw > max) { return null; }
    var result = { quiz: String(d.quiz || "quiz"), raw: raw, max: max, given: null, kept: null };
    if (Array.isArray(d.answers)) {
      result.given = d.answers.filter(function (q) { return q && typeof q.id === "string"; });
      result.kept = {};
      result.given.forEach(function (q) { result.kept[q.id] = q.response; });
    }
    return result;
  }

  window.coursekitUnit = {
    config: config, t: t, scope: scope, markSeen: markSeen, restoreQuiz: restoreQuiz,
    closeList: closeList, pages: pages, quizResult: quizResult
  };
})();
