// The compare view: network B trains beside network A on the same data and the same clock (the
// server runs both in every epoch), so "with and without dropout" or "4-2 against 8-8" race from
// the same start. B's settings are its own; everything about the data is shared.

import { setField } from "./controls.js";
import { drawPoints, drawSurface } from "./draw.js";

const $ = (id) => document.getElementById(id);

export function createCompare(options, change) {
  $("b-activation").append(...options.activations.map((name) => new Option(name, name)));
  $("b-optimizer").append(...options.optimizers.map((name) => new Option(name, name)));
  const send = (patch) => change(patch);
  $("b-hidden").addEventListener("change", () => {
    const text = $("b-hidden").value.trim();
    const hidden = text === "" ? [] : text.split(/[\s,]+/).map(Number);
    send({ hidden, activations: hidden.map(() => $("b-activation").value) });
  });
  $("b-activation").addEventListener("change", () => {
    const hidden = $("b-hidden").value.trim() === "" ? [] : $("b-hidden").value.split(/[\s,]+/);
    send({ activations: hidden.map(() => $("b-activation").value) });
  });
  for (const key of ["dropout", "learning_rate"]) {
    $(`b-${key}`).addEventListener("change", () => send({ [key]: Number($(`b-${key}`).value) }));
  }
  $("b-optimizer").addEventListener("change", () => send({ optimizer: $("b-optimizer").value }));

  return {
    // Show or hide the panel and put B's settings into its fields.
    fill(compare, session) {
      $("compare").hidden = !compare;
      document.body.classList.toggle("comparing", Boolean(compare));
      $("compare-toggle").checked = Boolean(compare);
      if (!compare) return;
      setField($("b-hidden"), compare.hidden.join(","));
      setField($("b-activation"), compare.activations[0] || "tanh");
      setField($("b-dropout"), compare.dropout);
      setField($("b-optimizer"), compare.optimizer);
      setField($("b-learning_rate"), compare.learning_rate);
      $("b-script").href = `/api/sessions/${session}/script?run=1`;
    },
    draw(frame, data, view) {
      if (!frame.compare) return;
      const pairs = [["compare-a", frame.output, frame.test_loss], ["compare-b", frame.compare.output, frame.compare.test_loss]];
      for (const [id, output, loss] of pairs) {
        const canvas = $(id);
        drawSurface(canvas, output, data.task, view.discretize);
        drawPoints(canvas, data.train, data.task, false);
        if (view.show_test) drawPoints(canvas, data.test, data.task, true);
        $(`${id}-loss`).textContent = Number.isFinite(loss) ? loss.toFixed(3) : "\u2013";
      }
    },
  };
}
