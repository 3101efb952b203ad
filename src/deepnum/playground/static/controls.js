// The form fields and the settings: filling the fields from the server's settings, enabling only
// the controls that do something for the current data, and reading a field back.

const $ = (id) => document.getElementById(id);

export const FIELDS = ["dataset", "num_classes", "num_samples", "noise", "train_ratio", "batch_size",
  "seed", "learning_rate", "optimizer", "loss", "regularization", "regularization_rate", "dropout"];

// A field being typed in keeps what is typed. An answer to an earlier change can arrive while
// keys are pressed (clicking Play after typing a rate sends that rate again on blur, and its
// answer lands later): it must not put the old value back under the user's fingers. The field's
// own change event sends what was typed, and the answer to that fills it again.
const editing = new Set();
document.addEventListener("input", (event) => editing.add(event.target));
document.addEventListener("change", (event) => editing.delete(event.target), true);

export function setField(element, value) {
  if (!editing.has(element)) element.value = value;
}

export function problemOf(settings, data, options) {
  if (settings.dataset === "csv") return data ? data.task : "classification";
  return options.regression.includes(settings.dataset) ? "regression" : "classification";
}

// The data set menu holds the sets of the current problem type (and your CSV while it is used).
function fillDatasets(options, problem, current) {
  const names = problem === "regression" ? options.regression : options.classification;
  const menu = $("dataset");
  menu.innerHTML = "";
  menu.append(...names.map((name) => new Option(name, name)));
  if (current === "csv") menu.append(new Option("your CSV", "csv"));
  menu.value = current;
}

export function fillControls(page) {
  const { settings, options, data } = page;
  const csv = settings.dataset === "csv";
  const problem = problemOf(settings, data, options);
  fillDatasets(options, problem, settings.dataset);
  $("problem").value = problem;
  $("problem").disabled = csv; // the file's labels decide
  $("problem").title = csv ? "your CSV's labels decide: numbers are regression targets" : "";
  for (const key of FIELDS) if (key !== "dataset") setField($(key), settings[key]);
  $("noise-value").textContent = settings.noise;
  $("train-ratio-value").textContent = `${Math.round(settings.train_ratio * 100)}%`;
  // Only controls that change something are enabled: a CSV has its own points and no noise,
  // circle and xor have two classes, and regression has targets, not classes.
  $("num_samples").disabled = csv;
  $("noise").disabled = csv;
  $("classes-field").hidden = problem === "regression";
  $("num_classes").disabled = csv || !options.multiclass.includes(settings.dataset);
  $("loss").querySelector("[value=cross_entropy]").disabled = problem === "regression";
  $("add-layer").disabled = settings.hidden.length >= options.limits.max_hidden_layers;
  $("remove-layer").disabled = settings.hidden.length === 0;
  $("layer-count").textContent = `${settings.hidden.length} hidden layer${settings.hidden.length === 1 ? "" : "s"}`;
  $("show-test").checked = page.view.show_test;
  $("discretize").checked = page.view.discretize;
  $("speed").value = String(page.view.speed);
  if (data) {
    const kind = data.task === "regression" ? "regression (number targets)"
      : `${data.num_classes} class${data.num_classes === 1 ? "" : "es"}`;
    $("data-info").textContent = `${data.source}: ${data.train.length} training and ${data.test.length} test points, ${kind}`;
    $("two-outputs").hidden = !(data.task === "classification" && data.num_classes === 2);
  }
}

export function readControl(key) {
  const element = $(key);
  if (element.tagName === "SELECT") return element.value;
  return Number(element.value);
}
