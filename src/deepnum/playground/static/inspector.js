// "What is this neuron doing": a click on a neuron shows its weights, bias, activation and its
// delta (the error backpropagation sends it) on the current batch; a click on a link or a bias
// mark opens a small editor for that number.

import { request } from "./api.js";
import { featureLabel } from "./network.js";

const fmt = (v) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2));

export function createInspector(root, getSession) {
  let target = null; // {column, index}
  let waiting = false;

  async function show(column, index) {
    target = { column, index };
    await refresh();
  }

  async function refresh() {
    if (!target || waiting) return;
    waiting = true;
    try {
      const info = await request("GET", `/api/sessions/${getSession()}/neuron?column=${target.column}&index=${target.index}`);
      render(info);
    } catch (error) {
      close(); // the neuron is gone (the network changed)
    } finally {
      waiting = false;
    }
  }

  function render(info) {
    const output = info.weights_out.length === 0;
    const name = output ? `output ${info.index + 1}` : `layer ${info.column}, neuron ${info.index + 1}`;
    const inputs = info.weights_in.map(([from, w]) => `<span class="pair">${featureLabel(from)} <b>${fmt(w)}</b></span>`).join(" ");
    const outs = info.weights_out.map((w) => fmt(w)).join(", ");
    root.innerHTML = `
      <div class="inspector-head"><b>${name}</b> <span>activation: ${info.activation}</span>
        <button class="close" title="close">\u00d7</button></div>
      <div>z = \u03a3 w\u1d62 a\u1d62 + b with weights in: ${inputs}; bias b = <b>${fmt(info.bias)}</b></div>
      <div>On the current batch (${info.batch_size} points): mean z = ${fmt(info.z_mean)},
        mean output a = f(z) = ${fmt(info.a_mean)}</div>
      <div>Delta \u03b4 = \u2202loss/\u2202z, the error backpropagation sends it: mean <b>${fmt(info.delta_mean)}</b>,
        mean |\u03b4| ${fmt(info.delta_mean_abs)}; first points: ${info.delta.map(fmt).join(", ")}</div>
      <div class="note">${output ? "At the output, \u03b4 is the loss's own gradient (softmax minus the one-hot target, over the batch)."
        : `\u03b4 = f\u2032(z) \u00b7 \u03a3\u2096 w\u2096 \u03b4\u2096 over its outgoing weights (${outs}).`}
        Dropout is off for this view.</div>`;
    root.hidden = false;
    root.dataset.column = info.column;
    root.dataset.index = info.index;
    root.querySelector(".close").addEventListener("click", close);
  }

  function close() {
    target = null;
    root.hidden = true;
  }

  return { show, refresh, close, get open() { return target !== null; } };
}

// A small number field at (x, y) in `container`; onCommit(value) when Enter or a change lands.
export function openEditor(container, { x, y, value, label }, onCommit) {
  container.querySelector(".weight-editor")?.remove();
  const box = document.createElement("div");
  box.className = "weight-editor";
  box.style.left = `${Math.max(0, x - 60)}px`;
  box.style.top = `${y + 6}px`;
  box.innerHTML = `<label>${label} <input type="number" step="0.1" min="-100" max="100"></label>`;
  const input = box.querySelector("input");
  input.value = String(value);
  let done = false; // removing the box blurs its input, which would finish it a second time
  const finish = (commit) => {
    if (done) return;
    done = true;
    box.remove();
    if (commit && input.value !== "" && Number.isFinite(Number(input.value))) onCommit(Number(input.value));
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") finish(true);
    if (event.key === "Escape") finish(false);
  });
  input.addEventListener("blur", () => finish(true));
  container.append(box);
  input.focus();
  input.select();
  return box;
}
