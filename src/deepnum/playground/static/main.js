// The page: builds the controls from the server's options, keeps one session per tab, sends every
// change to the server, and draws the frames the server pushes while it trains.

import { connect, request, upload } from "./api.js";
import { drawLosses, drawPoints, drawSurface } from "./draw.js";
import { buildDiagram, updateDiagram } from "./network.js";
import { PAGE_KEYS, readHash, splitPageKeys, writeHash } from "./url.js";

const $ = (id) => document.getElementById(id);
const FIELDS = ["dataset", "num_classes", "num_samples", "noise", "train_ratio", "batch_size", "seed",
  "learning_rate", "optimizer", "loss", "regularization", "regularization_rate", "dropout"];

const page = {
  options: null, session: null, settings: null, data: null, frame: null, diagram: null,
  history: [], generation: -1, playing: false, socket: null, view: { ...PAGE_KEYS },
};

function showMessage(text) {
  $("message").textContent = text || "";
  $("message").hidden = !text;
}

function showDataError(text) {
  $("data-error").textContent = text || "";
  $("data-error").hidden = !text;
}

// ------------------------------------------------------------------ settings <-> controls
function fillControls(settings) {
  for (const key of FIELDS) $(key).value = settings[key];
  $("noise-value").textContent = settings.noise;
  $("train-ratio-value").textContent = `${Math.round(settings.train_ratio * 100)}%`;
  const multi = page.options.multiclass.includes(settings.dataset) || settings.dataset === "csv";
  $("num_classes").disabled = !multi || settings.dataset === "csv";
  const regression = page.options.regression.includes(settings.dataset) || page.data?.task === "regression";
  $("loss").querySelector("[value=cross_entropy]").disabled = regression;
  $("add-layer").disabled = settings.hidden.length >= page.options.limits.max_hidden_layers;
  $("remove-layer").disabled = settings.hidden.length === 0;
  $("layer-count").textContent = `${settings.hidden.length} hidden layer${settings.hidden.length === 1 ? "" : "s"}`;
  $("show-test").checked = page.view.show_test;
}

function readControl(key) {
  const element = $(key);
  if (element.tagName === "SELECT") return element.value;
  return Number(element.value);
}

// Send changed settings; on refusal show why and put the controls back. Changes go one at a time,
// and a function patch is computed from the settings as they are when its turn comes, so quick
// clicks (+ neuron, + neuron) all count.
let queue = Promise.resolve();
function change(patch) {
  queue = queue.then(async () => {
    const body = typeof patch === "function" ? patch(page.settings) : patch;
    if (!body) return;
    try {
      applyState(await request("PUT", `/api/sessions/${page.session}/settings`, body));
      showMessage("");
    } catch (error) {
      showMessage(error.message);
      fillControls(page.settings);
    }
  });
  return queue;
}

// ------------------------------------------------------------------ state and frames
function applyState(state) {
  page.settings = state.settings;
  page.data = state.data;
  writeHash(page.settings, page.view);
  fillControls(page.settings);
  const info = state.data;
  $("data-info").textContent = `${info.source}: ${info.train.length} training and ${info.test.length} test points, ` +
    (info.task === "regression" ? "regression" : `${info.num_classes} classes`);
  page.diagram = buildDiagram($("diagram"), page.settings, page.options,
    info.task === "regression" ? 1 : info.num_classes, {
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
    });
  showFrame(state.frame);
}

function showFrame(frame) {
  if (frame.generation !== page.generation) {
    page.generation = frame.generation;
    page.history = [];
  }
  if (frame.history_from === 0) page.history = frame.history.slice();
  else page.history.push(...frame.history);
  page.frame = frame;
  $("epoch").textContent = frame.epoch;
  $("train-loss").textContent = Number.isFinite(frame.train_loss) ? frame.train_loss.toFixed(3) : "NaN";
  $("test-loss").textContent = Number.isFinite(frame.test_loss) ? frame.test_loss.toFixed(3) : "NaN";
  drawLosses($("loss-chart"), page.history);
  const canvas = $("boundary");
  drawSurface(canvas, frame.output, page.data.task);
  drawPoints(canvas, page.data.train, page.data.task, false);
  if (page.view.show_test) drawPoints(canvas, page.data.test, page.data.task, true);
  if (page.diagram) updateDiagram(page.diagram, frame);
  if (frame.stopped) {
    setPlaying(false);
    showMessage(frame.stopped);
  }
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
    if (message.type === "frame") {
      // A frame sent before a settings change describes the old data: wait for the next one.
      if (message.generation < page.generation) return;
      showFrame(message);
    } else if (message.type === "error") {
      setPlaying(false);
      showMessage(message.error);
    }
  }, () => {
    setPlaying(false);
    showMessage("The connection to the server closed: reload the page to start again.");
  });
}

// ------------------------------------------------------------------ wiring
function wire() {
  $("play").addEventListener("click", () => {
    setPlaying(!page.playing);
    page.socket.send(page.playing ? "play" : "pause");
  });
  $("step").addEventListener("click", () => page.socket.send("step"));
  $("reset").addEventListener("click", async () => {
    try {
      applyState(await request("POST", `/api/sessions/${page.session}/reset`));
    } catch (error) {
      showMessage(error.message);
    }
  });
  for (const key of FIELDS) {
    $(key).addEventListener("change", () => change({ [key]: readControl(key) }));
  }
  $("noise").addEventListener("input", () => ($("noise-value").textContent = $("noise").value));
  $("regenerate").addEventListener("click", () => change({ seed: Math.floor(Math.random() * 1e6) }));
  $("add-layer").addEventListener("click", () => change(({ hidden, activations }) => (
    hidden.length >= page.options.limits.max_hidden_layers ? null
      : { hidden: [...hidden, 4], activations: [...activations, activations.at(-1) || "tanh"] })));
  $("remove-layer").addEventListener("click", () => change(({ hidden, activations }) => (
    { hidden: hidden.slice(0, -1), activations: activations.slice(0, -1) })));
  $("show-test").addEventListener("change", () => {
    page.view.show_test = $("show-test").checked;
    writeHash(page.settings, page.view);
    if (page.frame) showFrame({ ...page.frame, history: [], history_from: page.history.length });
  });
  $("csv-file").addEventListener("change", async () => {
    const file = $("csv-file").files[0];
    if (!file) return;
    try {
      applyState(await upload(`/api/sessions/${page.session}/data`, file));
      showDataError("");
    } catch (error) {
      showDataError(error.message);
    }
    $("csv-file").value = "";
  });
  $("download-model").addEventListener("click", () => {
    $("download-model").href = `/api/sessions/${page.session}/model`;
  });
  $("model-file").addEventListener("change", async () => {
    const file = $("model-file").files[0];
    if (!file) return;
    try {
      applyState(await upload(`/api/sessions/${page.session}/model`, file));
      showMessage("");
    } catch (error) {
      showMessage(`Cannot load ${file.name}: ${error.message}`);
    }
    $("model-file").value = "";
  });
  window.addEventListener("pagehide", () => page.socket && page.socket.close());
}

async function start() {
  page.options = await request("GET", "/api/options");
  $("dataset").append(...page.options.datasets.map((name) => new Option(name === "csv" ? "your CSV" : name, name)));
  $("dataset").querySelector("[value=csv]").disabled = true; // chosen by uploading a file
  $("optimizer").append(...page.options.optimizers.map((name) => new Option(name, name)));
  const fromUrl = readHash(page.options.defaults);
  const { server, page: view } = splitPageKeys(fromUrl);
  Object.assign(page.view, view);
  if (server.dataset === "csv") delete server.dataset; // the file itself cannot travel in a link
  let state;
  try {
    state = await request("POST", "/api/sessions", server);
  } catch (error) {
    showMessage(`The settings in the address were refused (${error.message}); starting from the defaults.`);
    state = await request("POST", "/api/sessions", {});
  }
  page.session = state.id;
  $("download-model").href = `/api/sessions/${page.session}/model`;
  document.body.dataset.session = page.session;
  applyState(state);
  wire();
  openSocket();
  setPlaying(false);
  document.body.dataset.ready = "1";
}

start().catch((error) => showMessage(`The Playground could not start: ${error.message}`));
