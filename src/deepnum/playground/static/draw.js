// Canvas drawing: heat maps (decision surface, neurons), data points, the colour legend and the
// loss chart. Maps arrive as base64 bytes on a square grid, row 0 at the top (see render.py).

export const ORANGE = [245, 147, 34];
export const BLUE = [8, 119, 189];
const NEUTRAL = [232, 234, 235]; // the midpoint: light grey, so white-edged points stand out
const SURFACE = 0.6; // the surface reaches 60% of a colour at most, points are drawn at 100%
export const CLASS_COLORS = [ORANGE, BLUE, [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [23, 190, 207]];
export const SQUARE = 6; // the plane shown is [-6, 6]^2

export function decode(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

// -1 orange .. 0 neutral .. +1 blue, as in the TF Playground; `strength` caps the saturation.
export function diverging(v, strength = 1) {
  const t = Math.min(Math.abs(v), 1) * strength;
  return v < 0 ? mix(NEUTRAL, ORANGE, t) : mix(NEUTRAL, BLUE, t);
}

// Paint a size x size grid of colours onto the canvas; sharp cells when `sharp` (discretized).
function paint(canvas, size, colorAt, sharp = false) {
  const small = document.createElement("canvas");
  small.width = small.height = size;
  const context = small.getContext("2d");
  const image = context.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = colorAt(i);
    image.data.set([r, g, b, 255], i * 4);
  }
  context.putImageData(image, 0, 0);
  const target = canvas.getContext("2d");
  target.imageSmoothingEnabled = !sharp;
  target.clearRect(0, 0, canvas.width, canvas.height);
  target.drawImage(small, 0, 0, canvas.width, canvas.height);
}

// One neuron's map: bytes 0..255 stand for values -1..1. `strength` < 1 for a backdrop.
export function drawMap(canvas, base64, strength = 1, sharp = false) {
  const bytes = decode(base64);
  const size = Math.round(Math.sqrt(bytes.length));
  paint(canvas, size, (i) => {
    const v = bytes[i] / 127.5 - 1;
    return diverging(sharp ? Math.sign(v) : v, strength);
  }, sharp);
}

// The decision surface: p(class) per channel, or one signed channel for regression.
// `discrete` colours each cell by its decision alone (the class, or the sign of the value).
export function drawSurface(canvas, output, task, discrete = false) {
  const bytes = decode(output.data);
  const n = output.size * output.size;
  const k = output.channels;
  let colorAt;
  if (task === "regression") {
    colorAt = (i) => {
      const v = bytes[i] / 127.5 - 1;
      return diverging(discrete ? Math.sign(v) : v, SURFACE);
    };
  } else if (k === 2) {
    colorAt = (i) => {
      const v = (bytes[n + i] - bytes[i]) / 255; // p(class 1) - p(class 0)
      return diverging(discrete ? (v >= 0 ? 1 : -1) : v, SURFACE);
    };
  } else {
    colorAt = (i) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (bytes[c * n + i] > bytes[best * n + i]) best = c;
      const strength = discrete ? 1 : Math.max(0, (bytes[best * n + i] / 255 - 1 / k) / (1 - 1 / k));
      return mix(NEUTRAL, CLASS_COLORS[best % CLASS_COLORS.length], strength * SURFACE);
    };
  }
  paint(canvas, output.size, colorAt, discrete);
}

function pointColor(label, task) {
  if (task === "regression") return diverging(Math.max(-1, Math.min(1, label)));
  return CLASS_COLORS[label % CLASS_COLORS.length];
}

// Training points with a white edge, test points with a dark one.
export function drawPoints(canvas, points, task, test) {
  const context = canvas.getContext("2d");
  const scale = canvas.width / (2 * SQUARE);
  for (const [x1, x2, label] of points) {
    const [r, g, b] = pointColor(label, task);
    context.beginPath();
    context.arc((x1 + SQUARE) * scale, (SQUARE - x2) * scale, 3.6, 0, 2 * Math.PI);
    context.fillStyle = `rgb(${r},${g},${b})`;
    context.fill();
    context.lineWidth = test ? 1.6 : 1.2;
    context.strokeStyle = test ? "#111" : "#fff";
    context.stroke();
  }
}

// The colour legend under the output: a bar from -1 to 1, or one swatch per class.
export function drawLegend(root, task, classNames) {
  root.innerHTML = "";
  if (task === "classification" && classNames && classNames.length > 2) {
    classNames.forEach((name, c) => {
      const item = document.createElement("span");
      item.className = "swatch";
      const [r, g, b] = CLASS_COLORS[c % CLASS_COLORS.length];
      item.innerHTML = `<i style="background: rgb(${r},${g},${b})"></i>class ${name}`;
      root.append(item);
    });
    return;
  }
  const bar = document.createElement("canvas");
  bar.width = 160;
  bar.height = 12;
  bar.className = "legend-bar";
  const context = bar.getContext("2d");
  for (let x = 0; x < bar.width; x++) {
    const [r, g, b] = diverging((x / (bar.width - 1)) * 2 - 1, SURFACE);
    context.fillStyle = `rgb(${r},${g},${b})`;
    context.fillRect(x, 0, 1, bar.height);
  }
  const [low, high] = task === "regression" ? ["\u22121", "+1"]
    : [`class ${classNames ? classNames[0] : 0}`, `class ${classNames ? classNames[1] : 1}`];
  const left = document.createElement("span");
  left.textContent = low;
  const right = document.createElement("span");
  right.textContent = high;
  root.append(left, bar, right);
}

// Training (grey) and test (black) loss against the epoch; network B's dashed in blue.
// `rows` are [epoch, train, test(, train B, test B)], nulls where a loss was not finite.
export function drawLosses(canvas, rows) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  if (rows.length === 0) return;
  let top = 1e-6; // a loop, not Math.max(...rows): a spread of 60,000 values overflows the stack
  for (const row of rows) {
    for (let c = 1; c < row.length; c++) if (Number.isFinite(row[c]) && row[c] > top) top = row[c];
  }
  const first = rows[0][0];
  const last = rows[rows.length - 1][0];
  const x = (epoch) => ((epoch - first) / Math.max(last - first, 1)) * (width - 4) + 2;
  const y = (loss) => height - 2 - (Math.min(loss, top) / top) * (height - 18);
  const lines = [[1, "#999", []], [2, "#222", []], [3, "#6ab0de", [5, 3]], [4, "#0b4f7c", [5, 3]]];
  for (const [column, color, dash] of lines) {
    if (rows[0].length <= column) continue;
    context.beginPath();
    let drawing = false;
    for (const row of rows) {
      const value = row[column];
      if (!Number.isFinite(value)) {
        drawing = false;
        continue;
      }
      if (drawing) context.lineTo(x(row[0]), y(value));
      else context.moveTo(x(row[0]), y(value));
      drawing = true;
    }
    context.setLineDash(dash);
    context.strokeStyle = color;
    context.lineWidth = 2;
    context.stroke();
  }
  context.setLineDash([]);
  context.fillStyle = "#444";
  context.font = "13px system-ui, sans-serif";
  context.fillText(`max ${top.toPrecision(3)}`, 4, 13);
  const span = `epochs ${first}\u2013${last}`;
  context.fillText(span, width - context.measureText(span).width - 4, 13);
}
