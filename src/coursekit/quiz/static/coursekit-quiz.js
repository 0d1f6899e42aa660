/* coursekit quiz: scores the quiz forms that coursekit renders, shows feedback and the
 * score, and hands the score to an LMS (see README, "Quizzes and exercises").
 *
 * On every submission it fires
 *   window.dispatchEvent(new CustomEvent("coursekit:quiz-score", {detail}))
 * and, inside a frame,
 *   window.parent.postMessage({type: "coursekit:quiz-score", ...detail}, "*")
 * with detail = {module, quiz, raw, min: 0, max, scaled: raw / max, answers}, where
 * answers holds one entry per question: {id, type ("single", "multiple", "numeric"),
 * response (the choice ids picked, or the text typed), number (that text read as a
 * number), correct, pattern (the right choice ids, or [min, max] of a number), points,
 * latency (ms from the attempt's start to the question's last change), description}.
 * A SCORM or cmi5 launch page reports each answer to the LMS and keeps them; when the
 * learner comes back it posts {type: "coursekit:quiz-restore", quiz, answers, note} to
 * the page, which then shows those answers, graded, without reporting them again.
 *
 * Choices are shown in a shuffled order: one order per attempt, kept while the attempt
 * lasts (a reload shows the same order) and drawn again on "Start again". The seed of
 * the order is stored in sessionStorage per page and quiz; ids, labels and grading do
 * not depend on the order.
 * A static file with no inline code, so LMS Content-Security-Policies allow it.
 * Nothing here makes a network request.
 */
(function () {
  "use strict";

  function parseNumber(text) {
    var s = String(text).trim().replace(/[\s_\u00a0]/g, "");
    if (/^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) {
      s = s.replace(/,/g, ""); // 2,000 or 1,234.5: thousands separators
    } else if (s.indexOf(".") === -1) {
      s = s.replace(",", "."); // 2,5: a decimal comma
    }
    if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return NaN;
    return parseFloat(s);
  }

  function textOf(el) {
    return el ? el.textContent.trim() : "";
  }

  function para(className, text) {
    var p = document.createElement("p");
    p.className = className;
    if (text) p.textContent = text;
    return p;
  }

  function fromTemplate(template, className) {
    if (!template || !template.content || !template.content.textContent.trim()) return null;
    var p = para(className);
    p.appendChild(template.content.cloneNode(true));
    return p;
  }

  function labelFor(input) {
    return input.form.querySelector('label[for="' + input.id + '"]');
  }

  /* Grade one fieldset; returns {right: bool, nodes: [feedback paragraphs]}. */
  function gradeChoices(fieldset) {
    var inputs = Array.prototype.slice.call(fieldset.querySelectorAll("input"));
    var picked = inputs.filter(function (i) { return i.checked; });
    var right = inputs.every(function (i) {
      return i.checked === (i.dataset.correct === "true");
    });
    var nodes = [];
    if (!picked.length) {
      nodes.push(para("ck-verdict", "No answer given."));
    } else {
      nodes.push(para("ck-verdict", right ? "Correct." : "Not quite."));
    }
    if (!right) {
      // Listed in the authored order, whatever order the choices were shown in.
      var answers = inputs.filter(function (i) { return i.dataset.correct === "true"; })
        .sort(function (a, b) { return a.parentNode.dataset.index - b.parentNode.dataset.index; })
        .map(function (i) { return textOf(labelFor(i)); });
      var lead = answers.length > 1 ? "The right answers: " : "The right answer: ";
      nodes.push(para("ck-answer", lead + answers.join("; ") + "."));
    }
    picked.forEach(function (i) {
      var fb = fromTemplate(i.parentNode.querySelector("template.ck-choice-feedback"),
                            "ck-choice-fb");
      if (fb) {
        fb.insertBefore(document.createTextNode("About \u201c" + textOf(labelFor(i)) +
                                                "\u201d: "), fb.firstChild);
        nodes.push(fb);
      }
    });
    inputs.forEach(function (i) {
      var box = i.parentNode;
      box.classList.toggle("ck-is-correct", i.dataset.correct === "true");
      box.classList.toggle("ck-is-wrong-pick", i.checked && i.dataset.correct !== "true");
    });
    return {right: right, nodes: nodes};
  }

  function gradeNumeric(fieldset) {
    var input = fieldset.querySelector("input");
    var answer = parseFloat(input.dataset.answer);
    var tolerance = parseFloat(input.dataset.tolerance) || 0;
    var given = parseNumber(input.value);
    var right = !isNaN(given) && Math.abs(given - answer) <= tolerance + 1e-12;
    var nodes = [];
    if (input.value.trim() === "") {
      nodes.push(para("ck-verdict", "No answer given."));
    } else if (isNaN(given)) {
      nodes.push(para("ck-verdict", "\u201c" + input.value + "\u201d is not a number."));
    } else {
      nodes.push(para("ck-verdict", right ? "Correct." : "Not quite."));
    }
    if (!right) {
      var within = tolerance ? " (answers within \u00b1" + tolerance + " count)" : "";
      nodes.push(para("ck-answer", "The right answer: " + answer + within + "."));
    }
    input.setAttribute("aria-invalid", right ? "false" : "true");
    return {right: right, nodes: nodes};
  }

  function grade(form) {
    var raw = 0, max = 0;
    form.querySelectorAll("fieldset.ck-question").forEach(function (fieldset) {
      var points = parseInt(fieldset.dataset.points, 10) || 1;
      var result = fieldset.dataset.type === "numeric" ? gradeNumeric(fieldset)
                                                       : gradeChoices(fieldset);
      var why = fromTemplate(fieldset.querySelector("template.ck-explanation"),
                             "ck-explanation-text");
      if (why) result.nodes.push(why);
      max += points;
      if (result.right) raw += points;
      fieldset.classList.toggle("ck-right", result.right);
      fieldset.classList.toggle("ck-wrong", !result.right);
      var box = fieldset.querySelector(".ck-feedback");
      box.textContent = "";
      result.nodes.forEach(function (n) { box.appendChild(n); });
    });
    return {raw: raw, max: max};
  }

  var started = {}; // quiz id -> when the attempt started (ms)
  var changed = {}; // "quiz/question" -> when its answer last changed (ms)

  function answersOf(form) {
    var quiz = form.dataset.quiz;
    return Array.prototype.map.call(form.querySelectorAll("fieldset.ck-question"), function (fieldset) {
      var id = fieldset.dataset.question || "";
      var type = fieldset.dataset.type;
      var entry = {id: id, type: type, points: parseInt(fieldset.dataset.points, 10) || 1,
                   correct: fieldset.classList.contains("ck-right"),
                   description: textOf(fieldset.querySelector(".ck-prompt")).slice(0, 250)};
      var at = changed[quiz + "/" + id] || Date.now();
      entry.latency = Math.max(0, at - (started[quiz] || at));
      if (type === "numeric") {
        var input = fieldset.querySelector("input");
        var answer = parseFloat(input.dataset.answer), tolerance = parseFloat(input.dataset.tolerance) || 0;
        entry.response = input.value.trim();
        entry.number = parseNumber(input.value);
        entry.pattern = [answer - tolerance, answer + tolerance];
      } else {
        var inputs = Array.prototype.slice.call(fieldset.querySelectorAll("input"))
          .sort(function (a, b) { return a.parentNode.dataset.index - b.parentNode.dataset.index; });
        entry.response = inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
        entry.pattern = inputs.filter(function (i) { return i.dataset.correct === "true"; })
          .map(function (i) { return i.value; });
      }
      return entry;
    });
  }

  function report(form, raw, max) {
    var detail = {
      module: form.dataset.module,
      quiz: form.dataset.quiz,
      raw: raw,
      min: 0,
      max: max,
      scaled: max > 0 ? raw / max : 0,
      answers: answersOf(form)
    };
    window.dispatchEvent(new CustomEvent("coursekit:quiz-score", {detail: detail}));
    if (window.parent && window.parent !== window) {
      var message = {type: "coursekit:quiz-score"};
      Object.keys(detail).forEach(function (k) { message[k] = detail[k]; });
      window.parent.postMessage(message, "*");
    }
  }

  function showScore(form, note) {
    var score = grade(form);
    var percent = score.max ? Math.round(100 * score.raw / score.max) : 0;
    form.querySelector(".ck-score").textContent = (note ? note + " " : "") +
      "Your score: " + score.raw + " out of " + score.max + " points (" + percent + " %).";
    form.classList.add("ck-submitted");
    return score;
  }

  function onSubmit(event) {
    event.preventDefault();
    var form = event.currentTarget;
    var score = showScore(form, "");
    report(form, score.raw, score.max);
    started[form.dataset.quiz] = Date.now(); // the next submission's latencies count from here
  }

  /* The launch page hands back the answers the learner submitted in an earlier session. */
  function onRestore(event) {
    var d = event.data;
    if (event.source !== window.parent || window.parent === window) return;
    if (event.origin !== window.location.origin) return;
    if (!d || d.type !== "coursekit:quiz-restore" || !d.answers || typeof d.answers !== "object") return;
    document.querySelectorAll("form.ck-quiz").forEach(function (form) {
      if (form.dataset.quiz !== d.quiz || form.classList.contains("ck-submitted")) return;
      form.querySelectorAll("fieldset.ck-question").forEach(function (fieldset) {
        var given = d.answers[fieldset.dataset.question];
        if (given === undefined) return;
        if (fieldset.dataset.type === "numeric") {
          fieldset.querySelector("input").value = String(given);
        } else {
          fieldset.querySelectorAll("input").forEach(function (i) {
            i.checked = Array.isArray(given) && given.indexOf(i.value) >= 0;
          });
        }
      });
      form.classList.add("ck-restored");
      showScore(form, typeof d.note === "string" ? d.note : "");
    });
  }

  /* A small seeded generator (mulberry32): the same seed gives the same order. */
  function generator(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function hash(text) { // FNV-1a, so each question gets its own order from one seed
    var h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
    }
    return h;
  }

  function seedKey(form) {
    return "coursekit-quiz-order:" + window.location.pathname + ":" + form.dataset.quiz;
  }

  /* The attempt's seed: the stored one, or a new one when `fresh` or none is stored. */
  function attemptSeed(form, fresh) {
    var seed = null;
    try {
      if (!fresh) seed = window.sessionStorage.getItem(seedKey(form));
    } catch (e) { /* storage refused (e.g. a sandboxed frame): a seed for this view only */ }
    if (seed === null || !/^\d+$/.test(seed)) {
      seed = String(Math.floor(Math.random() * 4294967296));
      try { window.sessionStorage.setItem(seedKey(form), seed); } catch (e) { /* as above */ }
    }
    return parseInt(seed, 10);
  }

  /* Put each question's choices in the order the seed gives (Fisher-Yates). */
  function shuffle(form, seed) {
    form.querySelectorAll("fieldset.ck-question").forEach(function (fieldset) {
      var box = fieldset.querySelector(".ck-choices");
      if (!box) return;
      var random = generator(seed ^ hash(fieldset.dataset.question || ""));
      var items = Array.prototype.slice.call(box.querySelectorAll(":scope > .ck-choice"));
      items.sort(function (a, b) { return a.dataset.index - b.dataset.index; });
      for (var i = items.length - 1; i > 0; i--) {
        var j = Math.floor(random() * (i + 1));
        var t = items[i]; items[i] = items[j]; items[j] = t;
      }
      items.forEach(function (item) { box.appendChild(item); });
    });
  }

  function onReset(event) {
    var form = event.currentTarget;
    shuffle(form, attemptSeed(form, true)); // a new attempt: a new order
    form.classList.remove("ck-submitted", "ck-restored");
    started[form.dataset.quiz] = Date.now();
    form.querySelectorAll(".ck-feedback, .ck-score").forEach(function (el) {
      el.textContent = "";
    });
    form.querySelectorAll(".ck-right, .ck-wrong, .ck-is-correct, .ck-is-wrong-pick")
      .forEach(function (el) {
        el.classList.remove("ck-right", "ck-wrong", "ck-is-correct", "ck-is-wrong-pick");
      });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
    });
  }

  function init() {
    document.querySelectorAll("form.ck-quiz").forEach(function (form) {
      shuffle(form, attemptSeed(form, false));
      started[form.dataset.quiz] = Date.now();
      form.addEventListener("submit", onSubmit);
      form.addEventListener("reset", onReset);
      form.addEventListener("change", function (event) {
        var fieldset = event.target.closest("fieldset.ck-question");
        if (fieldset) changed[form.dataset.quiz + "/" + fieldset.dataset.question] = Date.now();
      });
    });
    window.addEventListener("message", onRestore);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
