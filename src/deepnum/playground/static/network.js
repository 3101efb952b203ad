// The network diagram: a column of feature maps, one column per hidden layer (with its own
// activation and +/- neuron buttons), the output column, and SVG links drawn by weight sign and
// size. The columns are spaced to fit the panel's width, so 6 layers of 8 fit without scrolling.

import { BLUE, ORANGE, drawMap } from "./draw.js";

const LEFT = 16; // room left of each neuron for its bias mark
const TOP = 70; // room for the layer headers (count with -/+ on one line, activation below)
const HEADER_MAX = 116;

const FEATURE_LABELS = { x1: "x\u2081", x2: "x\u2082", "x1^2": "x\u2081\u00b2", "x2^2": "x\u2082\u00b2",
  "x1*x2": "x\u2081x\u2082", sin_x1: "sin x\u2081", sin_x2: "sin x\u2082" };
const ACTIVATION_LABELS = { relu: "ReLU", tanh: "tanh", sigmoid: "sigmoid", linear: "linear",
  leaky_relu: "leaky ReLU", elu: "ELU", selu: "SELU", softplus: "softplus" };

export function featureLabel(name) {
  return FEATURE_LABELS[name] || name;
}

// Node size and spacing for a panel `width` px wide and `columns` columns. Past the last
// column's centre there is room for its title (TITLE px wide).
const TITLE = 64;
function geometry(width, columns, rows) {
  const node = width / columns >= 84 ? 36 : 30;
  const room = width - LEFT - node / 2 - TITLE / 2;
  const pitch = Math.max(node + 24, Math.min(130, Math.floor(room / Math.max(columns - 1, 1))));
  const row = node + 20; // a feature's label sits under its map
  return { node, pitch, row, height: TOP + rows * row,
    width: LEFT + (columns - 1) * pitch + node / 2 + TITLE / 2 };
}

// handlers: {toggleFeature(name), neurons(layer, delta), activation(layer, name),
// hover(target | null), inspect(column, index), editWeight(target)}.
export function buildDiagram(root, settings, options, numOutputs, handlers) {
  root.innerHTML = "";
  const columns = [options.features.length, ...settings.hidden, numOutputs];
  const g = geometry(root.clientWidth || 600, columns.length, Math.max(...columns));
  root.style.height = `${g.height}px`;
  root.style.width = `${g.width}px`;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", g.width);
  svg.setAttribute("height", g.height);
  svg.classList.add("links");
  svg.addEventListener("click", (event) => {
    const link = event.target.closest("[data-layer]");
    if (!link) return;
    const box = root.getBoundingClientRect();
    handlers.editWeight({ layer: Number(link.dataset.layer), to: Number(link.dataset.to),
      from: Number(link.dataset.from), value: Number(link.dataset.value),
      x: event.clientX - box.left, y: event.clientY - box.top });
  });
  root.append(svg);
  const nodes = []; // nodes[column][i] = {canvas, bias, x, y}
  const place = (column, i) => ({ x: LEFT + column * g.pitch, y: TOP + i * g.row });

  const addNode = (column, i, title) => {
    const { x, y } = place(column, i);
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = g.node;
    canvas.className = "node";
    Object.assign(canvas.style, { left: `${x}px`, top: `${y}px`, width: `${g.node}px`, height: `${g.node}px` });
    canvas.title = title;
    canvas.dataset.column = column;
    canvas.dataset.index = i;
    canvas.addEventListener("mouseenter", () => handlers.hover({ column, index: i, label: title }));
    canvas.addEventListener("mouseleave", () => handlers.hover(null));
    root.append(canvas);
    const node = { canvas, x, y };
    if (column > 0) {
      node.bias = document.createElement("div");
      node.bias.className = "bias";
      Object.assign(node.bias.style, { left: `${x - 12}px`, top: `${y + g.node - 9}px` });
      node.bias.addEventListener("click", (event) => {
        event.stopPropagation();
        handlers.editWeight({ layer: column - 1, to: i, from: null, value: Number(node.bias.dataset.value),
          x: x - 12, y: y + g.node });
      });
      root.append(node.bias);
      canvas.addEventListener("click", () => handlers.inspect(column, i));
      canvas.classList.add("inspectable");
    }
    return node;
  };

  // Features: all of them are listed; the unused ones are dimmed, a click toggles one.
  nodes.push(options.features.map((name, i) => {
    const node = addNode(0, i, `feature ${featureLabel(name)}`);
    node.canvas.title = `${featureLabel(name)}: click to use or drop`;
    node.canvas.dataset.feature = name;
    node.canvas.classList.toggle("off", !settings.features.includes(name));
    node.canvas.addEventListener("click", () => handlers.toggleFeature(name));
    const label = document.createElement("span");
    label.className = "feature-label";
    label.textContent = featureLabel(name);
    Object.assign(label.style, { left: `${node.x}px`, top: `${node.y + g.node + 1}px` });
    root.append(label);
    return node;
  }));
  header(root, g, 0, g.pitch >= 80 ? "Features" : "Input");

  settings.hidden.forEach((size, layer) => {
    const column = layer + 1;
    nodes.push(Array.from({ length: size }, (_, i) => addNode(column, i, `layer ${column}, neuron ${i + 1}`)));
    const box = header(root, g, column, null, layer);
    const count = document.createElement("div");
    count.className = "count";
    const minus = button("\u2212", "remove a neuron", "remove-neuron", () => handlers.neurons(layer, -1));
    const plus = button("+", "add a neuron", "add-neuron", () => handlers.neurons(layer, +1));
    minus.disabled = size <= 1;
    plus.disabled = size >= options.limits.max_neurons;
    const number = document.createElement("span");
    number.textContent = size;
    number.title = `${size} neuron${size > 1 ? "s" : ""} in layer ${column}`;
    count.append(minus, number, plus);
    const select = document.createElement("select");
    select.className = "activation";
    select.title = `activation of layer ${column}`;
    for (const name of options.all_activations) {
      const option = new Option(ACTIVATION_LABELS[name] || name, name, false, name === settings.activations[layer]);
      option.disabled = !options.activations.includes(name);
      select.append(option);
    }
    for (const name of options.untrainable_activations) {
      const option = new Option(`${name} (not trainable by gradient)`, name);
      option.disabled = true;
      select.append(option);
    }
    select.addEventListener("change", () => handlers.activation(layer, select.value));
    box.append(count, select);
  });

  const last = columns.length - 1;
  nodes.push(Array.from({ length: numOutputs }, (_, i) => addNode(last, i, `output ${i + 1}`)));
  header(root, g, last, "Output");
  return { svg, nodes, settings, options, node: g.node };
}

function header(root, g, column, text, layer = null) {
  const box = document.createElement("div");
  box.className = "layer-controls";
  if (layer !== null) box.dataset.layer = layer;
  const width = Math.min(g.pitch - 8, text ? TITLE : HEADER_MAX);
  const centre = LEFT + column * g.pitch + g.node / 2;
  const left = Math.max(0, Math.min(centre - width / 2, g.width - width));
  Object.assign(box.style, { left: `${left}px`, width: `${width}px` });
  if (text) {
    const title = document.createElement("div");
    title.className = "column-title";
    title.textContent = text;
    box.append(title);
  }
  root.append(box);
  return box;
}

function button(text, title, className, onClick) {
  const b = document.createElement("button");
  b.textContent = text;
  b.title = title;
  b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

function signColor(w) {
  return w >= 0 ? `rgb(${BLUE.join(",")})` : `rgb(${ORANGE.join(",")})`;
}

// Fill the maps, bias marks and links from a frame.
export function updateDiagram(diagram, frame) {
  const { svg, nodes, settings, options, node: size } = diagram;
  const used = settings.features.map((name) => options.features.indexOf(name));
  frame.layers.forEach((column, c) => {
    column.maps.forEach((map, i) => {
      const index = c === 0 ? options.features.indexOf(column.names[i]) : i;
      const node = nodes[c] && nodes[c][index];
      if (node) drawMap(node.canvas, map);
    });
  });
  const lines = [];
  frame.weights.forEach((layer, l) => {
    const from = l === 0 ? used.map((i) => nodes[0][i]) : nodes[l];
    const to = nodes[l + 1];
    if (!from || !to) return;
    layer.bias.forEach((b, j) => {
      const mark = to[j] && to[j].bias;
      if (!mark) return;
      const value = b ?? 0;
      mark.style.background = signColor(value);
      mark.style.opacity = String(Math.min(0.25 + Math.abs(value), 1));
      mark.dataset.value = value;
      mark.title = `bias ${value} (click to edit)`;
    });
    layer.weight.forEach((row, j) => row.forEach((w, i) => {
      const a = from[i];
      const b = to[j];
      if (!a || !b) return;
      const value = w ?? 0;
      const widthPx = Math.min(0.6 + Math.abs(value) * 2, 8).toFixed(2);
      const d = `M${a.x + size} ${a.y + size / 2} C${a.x + size + 40} ${a.y + size / 2} ${b.x - 40} ${b.y + size / 2} ${b.x} ${b.y + size / 2}`;
      const name = l === 0 ? featureLabel(settings.features[i]) : `neuron ${i + 1}`;
      lines.push(`<g data-layer="${l}" data-to="${j}" data-from="${i}" data-value="${value}">` +
        `<path d="${d}" stroke="${signColor(value)}" stroke-width="${widthPx}" fill="none" opacity="0.75"/>` +
        `<path class="hit" d="${d}" stroke="transparent" stroke-width="10" fill="none">` +
        `<title>weight ${value} from ${name} (click to edit)</title></path></g>`);
    }));
  });
  svg.innerHTML = lines.join("");
}
