// The page: builds the controls from the server's options, keeps one session per tab, sends every
// change to the server, and draws the frames the server pushes while it trains. The server's
// answers are the truth: every field shows what the server has, never what was typed.

import { connect, request, upload } from "./api.js";
import { createCompare } from "./compare.js";
import { FIELDS, fillControls, readControl } from "./controls.js";
import { drawLegend, drawLosses, drawMap, drawPoints, drawSurface } from "./draw.js";
import { createInspector, openEditor } from "./inspector.js";
import { buildDiagram, featureLabel, updateDiagram } from "./network.js";
import { PAGE_KEYS, readHash, splitPageKeys, writeHash } from "./url.js";

const $ = (id) => document.getElementById(id);
const MAX_ROWS = 2000; // the server sends at most 1000 history rows; the page never keeps more

const page = {
  options: null, session: null, settings: null, compare: null, data: null, frame: null,
  diagram: null, history: [], generation: -1, playing: false, socket: null,
  view: { ...PAGE_KEYS }, hover: null, frameLog: [], rate: [],
};
window.playground = page; // for a look from the browser's console (and the browser tests)

let inspector = null;
let compareView = null;

function showMessage(text, kind = "error") {
  $("message").textContent = text || "";
  $("message").hidden = !text;
  $("message").dataset.kind = text ? kind : "";
}

function showDataError(text) {
  $("data-error").textContent = text || "";
  $("data-error").hidden = !text;
}

function saveView() {
  writeHash(page.settings, page.view, page.compare);
}

// Send a change; on refusal show why and put the fields back. Changes go one at a time, and a
// function patch is computed from the settings as they are when its turn comes, so quick clicks
// (+ neuron, + neuron) all count.
let queue = Promise.resolve();
function send(method, path, patch) {
  queue = queue.then(async () => {
    const body = typeof patch === "function" ? patch(page.settings) : patch;
    if (body === null) return;
    try {
      applyState(await request(method, `/api/sessions/${page.session}${path}`, body));
    } catch (error) {
      showMessage(error.message);
      fillControls(page);
      compareView.fill(page.compare, page.session);
    }
  });
  return queue;
}
const change = (patch) => send("PUT", "/settings", patch);
const changeCompare = (patch) => send("PUT", "/compare", patch);

// ------------------------------------------------------------------ state and frames
function applyState(state) {
  page.settings = state.settings;
  page.compare = state.compare;
  page.data = state.data;
  page.view.compare = Boolean(state.compare);
  saveView();
  fillControls(page);
  compareView.fill(page.compare, page.session);
  drawLegend($("legend"), page.data.task, page.data.class_names);
  rebuildDiagram();
  if (inspector.open) inspector.refresh(); // closes itself if that neuron is gone
  // An HTTP answer can arrive after a newer socket frame of the same network (the change was
  // applied, then training went on and stopped): its older frame must not undo what is shown.
  const shown = page.frame;
  const stale = shown && state.frame.generation === shown.generation &&
    (state.frame.epoch < shown.epoch || (shown.stopped && !state.frame.stopped));
  if (!stale) {
    showMessage(state.frame.stopped || "", "stop");
    showFrame(state.frame);
  }
  // A state from HTTP does not say whether the socket is playing: ask, so the button agrees.
  if (page.socket) page.socket.send("refresh");
}

function rebuildDiagram() {
  const outputs = page.data.task === "regression" ? 1 : page.data.num_classes;
  page.diagram = buildDiagram($("diagram"), page.settings, page.options, outputs, {
    toggleFeature: (name) => change((s) => {
      const features = s.features.includes(name) ? s.features.filter((f) => f !== name) : [...s.features, name];
      return features.length ? { features } : null;
    }),
    neurons: (layer, delta) => change((s) => {
      const hidden = [...s.hidden];
      hidden[layer] = Math.max(1, Math.min(page.options.limits.max_neurons, hidden[layer] + delta));
      return { hidden };
    }),
    activation: (layer, name) => change((s) => {
      const activations = [...s.activations];
      activations[layer] = name;
      return { activations };
    }),
    hover: (target) => {
      page.hover = target;
      drawOutput();
    },
    inspect: (column, index) => inspector.show(column, index),
    editWeight: (target) => {
      const what = target.from === null ? `bias of layer ${target.layer + 1}, neuron ${target.to + 1}` : "weight";
      openEditor($("diagram"), { ...target, label: what }, (value) => send("PUT", "/weight",
        { layer: target.layer, to: target.to, from: target.from, value }).then(() => inspector.refresh()));
    },
  });
  if (page.frame) updateDiagram(page.diagram, page.frame);
}

function mergeHistory(frame) {
  if (frame.history_from === 0) page.history = frame.history.slice();
  else if (frame.history_from <= page.history.length) {
    page.history = page.history.slice(0, frame.history_from).concat(frame.history);
  } else {
    page.socket.send("refresh"); // a gap: ask for the whole table
  }
  if (page.history.length > MAX_ROWS) page.history = page.history.filter((_, i) => i % 2 === 1);
}

function showFrame(frame) {
  if (frame.generation < page.generation) return; // from before a change: the next is coming
  if (frame.generation > page.generation) {
    page.generation = frame.generation;
    page.history = [];
    page.rate = [];
  }
  mergeHistory(frame);
  page.frame = frame;
  if ("playing" in frame) page.frameLog.push([frame.epoch, frame.playing]); // socket frames
  if (page.frameLog.length > 300) page.frameLog.splice(0, 100);
  $("epoch").textContent = frame.epoch;
  const text = (v) => (Number.isFinite(v) ? v.toFixed(3) : "\u2013");
  $("train-loss").textContent = text(frame.train_loss);
  $("test-loss").textContent = text(frame.test_loss);
  const rows = page.history.length && page.history.at(-1)[0] === frame.epoch ? page.history
    : page.history.concat([[frame.epoch, frame.train_loss, frame.test_loss,
      ...(frame.compare ? [frame.compare.train_loss, frame.compare.test_loss] : [])]]);
  drawLosses($("loss-chart"), rows);
  drawOutput();
  if (page.diagram) updateDiagram(page.diagram, frame);
  compareView.draw(frame, page.data, page.view);
  if (frame.stopped) {
    showMessage(frame.stopped, "stop");
    setPlaying(false);
  } else if ("playing" in frame) {
    setPlaying(frame.playing);
  }
  updateRate(frame);
  if (inspector.open && frame.playing) inspector.refresh();
}

// The big plot: the decision surface, or the map of the neuron under the mouse.
function drawOutput() {
  const frame = page.frame;
  if (!frame) return;
  const canvas = $("boundary");
  let caption = "";
  const hover = page.hover;
  const column = hover && frame.layers[hover.column];
  if (column) {
    const index = hover.column === 0 ? column.names.indexOf(page.options.features[hover.index]) : hover.index;
    drawMap(canvas, column.maps[index], 0.6, page.view.discretize);
    caption = `Showing ${hover.column === 0 ? `feature ${featureLabel(page.options.features[hover.index])}` : hover.label} over the plane`;
  } else {
    drawSurface(canvas, frame.output, page.data.task, page.view.discretize);
  }
  drawPoints(canvas, page.data.train, page.data.task, false);
  if (page.view.show_test) drawPoints(canvas, page.data.test, page.data.task, true);
  $("showing").textContent = caption || "The network's output over the plane; hover a neuron to see its own.";
  canvas.dataset.showing = column ? `${hover.column}-${hover.index}` : "output";
}

function updateRate(frame) {
  const now = performance.now();
  page.rate.push([now, frame.epoch]);
  while (page.rate.length > 2 && now - page.rate[0][0] > 2000) page.rate.shift();
  const [t0, e0] = page.rate[0];
  const perSecond = now > t0 ? ((frame.epoch - e0) * 1000) / (now - t0) : 0;
  $("rate").textContent = page.playing && perSecond > 0 ? `${perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond)} epochs/s` : "";
}

function setPlaying(on) {
  page.playing = on;
  $("play").innerHTML = on ? "&#x275a;&#x275a; Pause" : "&#x25b6; Play";
  $("play").dataset.playing = on ? "1" : "0";
  $("step").disabled = on;
}

// ------------------------------------------------------------------ the push channel
function openSocket() {
  page.socket = connect(page.session, (message) => {
    if (message.type === "frame") showFrame(message);
    else if (message.type === "error") {
      setPlaying(false);
      showMessage(message.error);
    }
  }, () => {
    setPlaying(false);
    showMessage("The connection to the server closed: reload the page to start again.");
  }, () => page.socket.send("speed", { epochs_per_frame: page.view.speed }));
}

// ------------------------------------------------------------------ wiring
function wire() {
  $("play").addEventListener("click", () => {
    setPlaying(!page.playing);
    page.socket.send(page.playing ? "play" : "pause");
  });
  $("step").addEventListener("click", () => page.socket.send("step"));
  $("reset").addEventListener("click", () => send("POST", "/reset", undefined));
  for (const key of FIELDS) $(key).addEventListener("change", () => change({ [key]: readControl(key) }));
  $("problem").addEventListener("change", () => {
    const regression = $("problem").value === "regression";
    const names = regression ? page.options.regression : page.options.classification;
    change({ dataset: names[0], loss: regression ? "mse" : "cross_entropy" });
  });
  $("speed").addEventListener("change", () => {
    page.view.speed = Number($("speed").value);
    page.socket.send("speed", { epochs_per_frame: page.view.speed });
    saveView();
  });
  $("noise").addEventListener("input", () => ($("noise-value").textContent = $("noise").value));
  $("regenerate").addEventListener("click", () => change({ seed: Math.floor(Math.random() * 1e6) }));
  $("add-layer").addEventListener("click", () => change(({ hidden, activations }) => (
    hidden.length >= page.options.limits.max_hidden_layers ? null
      : { hidden: [...hidden, 4], activations: [...activations, activations.at(-1) || "tanh"] })));
  $("remove-layer").addEventListener("click", () => change(({ hidden, activations }) => (
    { hidden: hidden.slice(0, -1), activations: activations.slice(0, -1) })));
  for (const key of ["show_test", "discretize"]) {
    $(key.replace("_", "-")).addEventListener("change", () => {
      page.view[key] = $(key.replace("_", "-")).checked;
      saveView();
      drawOutput();
      if (page.frame) compareView.draw(page.frame, page.data, page.view);
    });
  }
  $("compare-toggle").addEventListener("change", () => (
    $("compare-toggle").checked ? changeCompare({}) : send("DELETE", "/compare", undefined)));
  // Uploads wait their turn behind pending changes, like every other request of the page.
  $("csv-file").addEventListener("change", () => {
    const file = $("csv-file").files[0];
    $("csv-file").value = "";
    if (!file) return;
    queue = queue.then(async () => {
      try {
        applyState(await upload(`/api/sessions/${page.session}/data`, file));
        showDataError("");
      } catch (error) {
        showDataError(error.message);
      }
    });
  });
  $("model-file").addEventListener("change", () => {
    const file = $("model-file").files[0];
    $("model-file").value = "";
    if (!file) return;
    queue = queue.then(async () => {
      try {
        applyState(await upload(`/api/sessions/${page.session}/model`, file));
      } catch (error) {
        showMessage(`Cannot load the model: ${error.message}`); // the message names the file
      }
    });
  });
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(rebuildDiagram, 120);
  });
  window.addEventListener("pagehide", () => page.socket && page.socket.close());
}

async function start() {
  page.options = await request("GET", "/api/options");
  $("optimizer").append(...page.options.optimizers.map((name) => new Option(name, name)));
  inspector = createInspector($("inspector"), () => page.session);
  compareView = createCompare(page.options, changeCompare);
  const { server, page: view, compare } = splitPageKeys(readHash(page.options.defaults));
  Object.assign(page.view, view);
  let notice = "";
  if (server.dataset === "csv") {
    delete server.dataset; // the file itself cannot travel in a link
    notice = "This link was made with your own CSV data, which a link cannot carry: upload the file again (Your data, on the left). Meanwhile the circle data is shown.";
  }
  let state;
  try {
    state = await request("POST", "/api/sessions", server);
  } catch (error) {
    notice = `The settings in the address were refused (${error.message}); starting from the defaults.`;
    state = await request("POST", "/api/sessions", {});
  }
  page.session = state.id;
  $("download-model").href = `/api/sessions/${page.session}/model`;
  $("export-script").href = `/api/sessions/${page.session}/script`;
  document.body.dataset.session = page.session;
  applyState(state);
  wire();
  openSocket();
  setPlaying(false);
  if (compare) await changeCompare(compare);
  if (notice) showMessage(notice, "info");
  document.body.dataset.ready = "1";
}

start().catch((error) => showMessage(`The Playground could not start: ${error.message}`));
