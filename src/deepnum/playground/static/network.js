// The network diagram: a column of feature maps, one column per hidden layer (with its own
// activation and +/- neuron buttons), the output column, and SVG links drawn by weight sign and size.

import { drawMap } from "./draw.js";

const COLUMN = 118; // px between columns
const ROW = 50; // px between neurons
const NODE = 36; // neuron map size
const TOP = 64; // room for the layer headers

const FEATURE_LABELS = { x1: "x\u2081", x2: "x\u2082", "x1^2": "x\u2081\u00b2", "x2^2": "x\u2082\u00b2",
  "x1*x2": "x\u2081x\u2082", sin_x1: "sin x\u2081", sin_x2: "sin x\u2082" };

// options: the server's /api/options; handlers: {toggleFeature(name), neurons(layer, delta),
// activation(layer, name)}.
export function buildDiagram(root, settings, options, numOutputs, handlers) {
  root.innerHTML = "";
  const columns = [options.features.length, ...settings.hidden, numOutputs];
  const height = TOP + Math.max(...columns) * ROW + 10;
  const width = COLUMN * (columns.length - 1) + NODE + 40;
  root.style.height = `${height}px`;
  root.style.width = `${width}px`;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.classList.add("links");
  root.append(svg);
  const nodes = []; // nodes[column][i] = {canvas, x, y}

  const place = (column, i) => ({ x: 20 + column * COLUMN, y: TOP + i * ROW });
  const addNode = (column, i, title, onClick) => {
    const { x, y } = place(column, i);
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = NODE;
    canvas.className = "node";
    canvas.style.left = `${x}px`;
    canvas.style.top = `${y}px`;
    canvas.title = title;
    if (onClick) canvas.addEventListener("click", onClick);
    root.append(canvas);
    return { canvas, x, y };
  };

  // Features: all of them are listed; the unused ones are dimmed, a click toggles one.
  nodes.push(options.features.map((name, i) => {
    const node = addNode(0, i, `${name}: click to use or drop`, () => handlers.toggleFeature(name));
    node.canvas.dataset.feature = name;
    node.canvas.classList.toggle("off", !settings.features.includes(name));
    const label = document.createElement("span");
    label.className = "feature-label";
    label.textContent = FEATURE_LABELS[name] || name;
    label.style.left = "0px";
    label.style.top = `${node.y + NODE + 1}px`;
    label.style.left = `${node.x}px`;
    root.append(label);
    return node;
  }));
  header(root, 0, "Features", null);

  settings.hidden.forEach((size, layer) => {
    const column = layer + 1;
    nodes.push(Array.from({ length: size }, (_, i) => addNode(column, i, `layer ${layer + 1}, neuron ${i + 1}`)));
    const box = header(root, column, `${size} neuron${size > 1 ? "s" : ""}`, layer);
    const plus = button("+", "add a neuron", () => handlers.neurons(layer, +1));
    const minus = button("\u2212", "remove a neuron", () => handlers.neurons(layer, -1));
    plus.className = "add-neuron";
    minus.className = "remove-neuron";
    plus.disabled = size >= options.limits.max_neurons;
    minus.disabled = size <= 1;
    const select = document.createElement("select");
    select.className = "activation";
    for (const name of options.all_activations) {
      const option = new Option(name, name, false, name === settings.activations[layer]);
      option.disabled = !options.activations.includes(name);
      select.append(option);
    }
    for (const name of options.untrainable_activations) {
      const option = new Option(`${name} (not trainable by gradient)`, name);
      option.disabled = true;
      select.append(option);
    }
    select.addEventListener("change", () => handlers.activation(layer, select.value));
    box.append(plus, minus, select);
  });

  const last = columns.length - 1;
  nodes.push(Array.from({ length: numOutputs }, (_, i) => addNode(last, i, `output ${i + 1}`)));
  header(root, last, "Output", null);
  return { svg, nodes, settings, options };
}

function header(root, column, text, layer) {
  const box = document.createElement("div");
  box.className = "layer-controls";
  if (layer !== null) box.dataset.layer = layer;
  box.style.left = `${8 + column * COLUMN}px`;
  const title = document.createElement("div");
  title.textContent = text;
  box.append(title);
  root.append(box);
  return box;
}

function button(text, title, onClick) {
  const b = document.createElement("button");
  b.textContent = text;
  b.title = title;
  b.addEventListener("click", onClick);
  return b;
}

// Fill the maps and redraw the links from a frame.
export function updateDiagram(diagram, frame) {
  const { svg, nodes, settings, options } = diagram;
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
    layer.weight.forEach((row, j) => row.forEach((w, i) => {
      const a = from[i];
      const b = to[j];
      if (!a || !b) return;
      const color = w >= 0 ? "#0877bd" : "#f59322";
      const widthPx = Math.min(0.5 + Math.abs(w) * 2, 8).toFixed(2);
      lines.push(`<path d="M${a.x + NODE} ${a.y + NODE / 2} C${a.x + NODE + 40} ${a.y + NODE / 2} ${b.x - 40} ${b.y + NODE / 2} ${b.x} ${b.y + NODE / 2}" stroke="${color}" stroke-width="${widthPx}" fill="none" opacity="0.75"><title>weight ${w}</title></path>`);
    }));
  });
  svg.innerHTML = lines.join("");
}
