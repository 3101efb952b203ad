// Canvas drawing: heat maps (decision surface, neurons), data points, loss curves.
// Maps arrive as base64 bytes on a square grid, row 0 at the top (see render.py).

export const ORANGE = [245, 147, 34];
export const BLUE = [8, 119, 189];
const WHITE = [255, 255, 255];
export const CLASS_COLORS = [ORANGE, BLUE, [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [23, 190, 207]];
const SQUARE = 6;

export function decode(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

// -1 orange .. 0 white .. +1 blue, as in the TF Playground.
export function diverging(v) {
  return v < 0 ? mix(WHITE, ORANGE, Math.min(-v, 1)) : mix(WHITE, BLUE, Math.min(v, 1));
}

function paint(canvas, size, colorAt) {
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
  target.imageSmoothingEnabled = true;
  target.clearRect(0, 0, canvas.width, canvas.height);
  target.drawImage(small, 0, 0, canvas.width, canvas.height);
}

// One neuron's map: bytes 0..255 stand for values -1..1.
export function drawMap(canvas, base64) {
  const bytes = decode(base64);
  const size = Math.round(Math.sqrt(bytes.length));
  paint(canvas, size, (i) => diverging(bytes[i] / 127.5 - 1));
}

// The decision surface: p(class) per channel, or one signed channel for regression.
export function drawSurface(canvas, output, task) {
  const bytes = decode(output.data);
  const n = output.size * output.size;
  const k = output.channels;
  let colorAt;
  if (task === "regression") {
    colorAt = (i) => diverging(bytes[i] / 127.5 - 1);
  } else if (k === 2) {
    colorAt = (i) => diverging((bytes[n + i] - bytes[i]) / 255);
  } else {
    colorAt = (i) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (bytes[c * n + i] > bytes[best * n + i]) best = c;
      const strength = Math.max(0, (bytes[best * n + i] / 255 - 1 / k) / (1 - 1 / k));
      return mix(WHITE, CLASS_COLORS[best % CLASS_COLORS.length], strength * 0.85);
    };
  }
  paint(canvas, output.size, colorAt);
}

function pointColor(label, task) {
  if (task === "regression") return diverging(Math.max(-1, Math.min(1, label)));
  return CLASS_COLORS[label % CLASS_COLORS.length];
}

export function drawPoints(canvas, points, task, outline) {
  const context = canvas.getContext("2d");
  const scale = canvas.width / (2 * SQUARE);
  for (const [x1, x2, label] of points) {
    const [r, g, b] = pointColor(label, task);
    context.beginPath();
    context.arc((x1 + SQUARE) * scale, (SQUARE - x2) * scale, 3.2, 0, 2 * Math.PI);
    context.fillStyle = `rgb(${r},${g},${b})`;
    context.fill();
    context.lineWidth = outline ? 1.4 : 0.8;
    context.strokeStyle = outline ? "#222" : "#fff";
    context.stroke();
  }
}

// Training (grey) and test (black) loss against the epoch.
export function drawLosses(canvas, history) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  if (history.length === 0) return;
  const finite = history.flatMap((h) => [h[1], h[2]]).filter(Number.isFinite);
  const top = Math.max(...finite, 1e-6);
  const last = history[history.length - 1][0];
  const first = history[0][0];
  const x = (epoch) => ((epoch - first) / Math.max(last - first, 1)) * (width - 4) + 2;
  const y = (loss) => height - 2 - (Math.min(loss, top) / top) * (height - 14);
  for (const [column, color] of [[1, "#aaa"], [2, "#222"]]) {
    context.beginPath();
    history.forEach((h, i) => (i ? context.lineTo(x(h[0]), y(h[column])) : context.moveTo(x(h[0]), y(h[column]))));
    context.strokeStyle = color;
    context.lineWidth = 1.5;
    context.stroke();
  }
  context.fillStyle = "#555";
  context.font = "10px sans-serif";
  context.fillText(`max ${top.toFixed(3)}  (grey: training, black: test)`, 4, 10);
}
