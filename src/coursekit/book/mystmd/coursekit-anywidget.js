// coursekit: runs each {anywidget} of a Jupyter Book 2 page, offline.
//
// The anywidget front-end contract: the module's default export is an object with
// `render({model, el})` (and optionally `initialize({model})`), or a function that
// returns one. `model` holds the directive's JSON state: get, set, on/off
// ("change:<key>" and "change"), save_changes. There is no kernel behind it, so
// save_changes and send keep the state in the page. Each widget gets a shadow root
// of its own, with its style sheet, as on a MyST site.

function makeModel(state) {
  const listeners = new Map();
  const fire = (name, value) => (listeners.get(name) || []).forEach((f) => f(value));
  return {
    get: (key) => state[key],
    set(key, value) {
      state[key] = value;
      fire(`change:${key}`, value);
      fire("change", state);
    },
    on(name, f) {
      listeners.set(name, [...(listeners.get(name) || []), f]);
    },
    off(name, f) {
      if (!name) listeners.clear();
      else listeners.set(name, f ? (listeners.get(name) || []).filter((g) => g !== f) : []);
    },
    save_changes() {},
    send() {},
  };
}

async function start(host) {
  const esm = host.querySelector('link[rel="modulepreload"]');
  const css = host.querySelector('link[as="style"]');
  const root = host.attachShadow({ mode: "open" });
  if (css) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = css.href;
    root.appendChild(link);
  }
  const el = document.createElement("div");
  root.appendChild(el);
  const model = makeModel(JSON.parse(host.dataset.model || "{}"));
  try {
    const module = await import(esm.href);
    let widget = module.default;
    if (typeof widget === "function") widget = await widget();
    if (widget.initialize) await widget.initialize({ model });
    await widget.render({ model, el });
  } catch (error) {
    el.textContent = `This widget could not start: ${error.message}`;
    console.error(error);
  }
}

document.querySelectorAll(".ck-anywidget").forEach(start);
