"""The Playground's settings: one flat JSON dict, its tables, defaults, limits and validation.

Everything the page sends goes through :func:`validate_settings`, which returns a clean dict or
raises :class:`SettingsError` with a message the page shows as is. The types and ranges are a JSON
Schema (checked by ``jsonschema``); only what a schema cannot say (an activation that cannot be
trained, the loss that a problem type needs) is Python. The same flat dict is what the page writes
into its URL, so a shared link rebuilds the same experiment.

>>> settings = validate_settings({"dataset": "spiral", "hidden": [8, 8]})
>>> settings["activations"]          # ['tanh', 'tanh']: one per layer, filled from the default
"""

from __future__ import annotations

import json

from deepnum.data.toy import TOY_DATASETS
from deepnum.models.playground import ACTIVATION_CLASSES, FEATURE_FUNCTIONS
from deepnum.optim import OPTIMIZERS as OPTIMIZER_CLASSES

# ------------------------------------------------------------------ the tables
# Every name the Playground offers comes from one of deepnum's registries (the same tables the
# library, the CLI and the demos read), so a new optimizer or data set appears here by itself.
TOY_SETS = TOY_DATASETS  # data set name -> generator function (deepnum.data.toy)
ACTIVATIONS = tuple(ACTIVATION_CLASSES)  # activation name -> deepnum.nn class name
# the page's name -> (deepnum.optim class, its keyword arguments): the registry's optimizers with
# their defaults, plus SGD with momentum as a choice of its own (the lecture's two SGDs)
OPTIMIZERS = {"sgd": (OPTIMIZER_CLASSES["sgd"], {}),
              "momentum": (OPTIMIZER_CLASSES["sgd"], {"momentum": 0.9}),
              **{name: (cls, {}) for name, cls in OPTIMIZER_CLASSES.items() if name != "sgd"}}
LOSSES = {"cross_entropy": "cross_entropy", "mse": "mse_loss"}  # -> deepnum.nn.functional
REGRESSION_SETS = ("plane", "multi-gauss")
CLASSIFICATION_SETS = tuple(name for name in TOY_SETS if name not in REGRESSION_SETS)
MULTICLASS_SETS = ("gauss", "spiral")  # circle and xor are two-class by nature
DATASETS = CLASSIFICATION_SETS + REGRESSION_SETS + ("csv",)
FEATURES = tuple(FEATURE_FUNCTIONS)
# Shown on the page but refused: their derivative is zero almost everywhere, so no gradient flows.
UNTRAINABLE_ACTIVATIONS = ("step", "sign")
REGULARIZATIONS = ("none", "l1", "l2")

# Bounds that keep one request cheap for a small server shared by many tabs.
MAX_HIDDEN_LAYERS = 6
MAX_NEURONS = 8
MAX_CLASSES = 8
MIN_SAMPLES, MAX_SAMPLES = 10, 2000
MAX_BATCH_SIZE = 1000
MAX_SEED = 2**31 - 1

DEFAULTS = {
    "dataset": "circle",
    "num_classes": 2,
    "noise": 0.0,
    "num_samples": 500,
    "train_ratio": 0.5,
    "batch_size": 10,
    "seed": 0,
    "features": ["x1", "x2"],
    "hidden": [4, 2],
    "activations": ["tanh", "tanh"],
    "dropout": 0.0,
    "loss": "cross_entropy",
    "optimizer": "sgd",
    "learning_rate": 0.03,
    "regularization": "none",
    "regularization_rate": 0.0,
}

# Which settings force new data, a new network, or only a new optimizer.
DATA_KEYS = ("dataset", "num_classes", "noise", "num_samples", "train_ratio", "seed")
NETWORK_KEYS = ("features", "hidden", "activations", "dropout", "loss")
# What the second network of the compare view may set differently; the rest it shares.
COMPARE_KEYS = ("features", "hidden", "activations", "dropout", "optimizer", "learning_rate",
                "regularization", "regularization_rate")


def _integer(low: int, high: int) -> dict:
    return {"type": "integer", "minimum": low, "maximum": high}


def _number(low: float, high: float) -> dict:
    return {"type": "number", "minimum": low, "maximum": high}


SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "dataset": {"enum": list(DATASETS)},
        "num_classes": _integer(2, MAX_CLASSES),
        "noise": _number(0.0, 0.5),
        "num_samples": _integer(MIN_SAMPLES, MAX_SAMPLES),
        "train_ratio": _number(0.1, 0.9),
        "batch_size": _integer(1, MAX_BATCH_SIZE),
        "seed": _integer(0, MAX_SEED),
        "features": {"type": "array", "items": {"enum": list(FEATURES)}, "minItems": 1,
                     "maxItems": len(FEATURES), "uniqueItems": True},
        "hidden": {"type": "array", "items": _integer(1, MAX_NEURONS),
                   "maxItems": MAX_HIDDEN_LAYERS},
        "activations": {"type": "array", "maxItems": MAX_HIDDEN_LAYERS,
                        "items": {"enum": list(ACTIVATIONS + UNTRAINABLE_ACTIVATIONS)}},
        "dropout": _number(0.0, 0.9),
        "loss": {"enum": list(LOSSES)},
        "optimizer": {"enum": list(OPTIMIZERS)},
        "learning_rate": _number(1e-6, 10.0),
        "regularization": {"enum": list(REGULARIZATIONS)},
        "regularization_rate": _number(0.0, 10.0),
    },
}


class SettingsError(ValueError):
    """A setting has the wrong type, is out of range or unknown; the message names it."""


def validate_settings(raw: dict, base: dict | None = None) -> dict:
    """Merge ``raw`` over ``base`` (the defaults when None) and check every value.

    Unknown keys are refused rather than ignored, so a typo in a shared URL is noticed. A data set
    of the other problem type brings its loss along (regression needs MSE), unless ``raw`` asks
    for a loss that cannot work with it.
    """
    if not isinstance(raw, dict):
        raise SettingsError(f"settings must be a JSON object, got {_shown(raw)}")
    check(raw, SCHEMA, "")
    s = dict(DEFAULTS if base is None else base)
    s.update(raw)
    if s["dataset"] in ("circle", "xor"):
        # The page's class box is disabled for these; a stale URL value is set back, not refused.
        s["num_classes"] = 2
    s["features"] = [name for name in FEATURES if name in s["features"]]  # the page's order
    s["activations"] = _activations(s["hidden"], s["activations"])
    if s["dataset"] in REGRESSION_SETS and s["loss"] == "cross_entropy":
        if raw.get("loss") == "cross_entropy":
            raise SettingsError(f"loss: cross-entropy needs class labels, but {s['dataset']} is "
                                f"a regression data set (its targets are numbers); use MSE")
        s["loss"] = "mse"  # switching the problem type switches the loss with it
    return {key: _typed(key, s[key]) for key in DEFAULTS}


def _activations(hidden: list, activations: list) -> list[str]:
    # A layer added on the page takes the last layer's activation, as in the TF Playground.
    filled = list(activations[: len(hidden)])
    while len(filled) < len(hidden):
        filled.append(filled[-1] if filled else "tanh")
    for i, name in enumerate(filled):
        if name in UNTRAINABLE_ACTIVATIONS:
            raise SettingsError(
                f"activations[{i}]: {name} is not trainable by gradient descent (its derivative "
                f"is 0 almost everywhere, so no error signal flows back)")
    return filled


def _typed(key: str, value):
    """A JSON number as the type its default has (1 -> 1.0 for a rate, 2.0 -> 2 for a size)."""
    default = DEFAULTS[key]
    if isinstance(default, float):
        if value != value:  # NaN passes every range check; JSON has none, Python callers might
            raise SettingsError(f"{key}: must be a number, got NaN")
        return float(value)
    if isinstance(default, int):
        return int(value)
    return list(value) if isinstance(value, list) else value


# ------------------------------------------------------------------ messages
def check(value, schema: dict, prefix: str, error=SettingsError) -> None:
    """Raise ``error`` with one plain sentence for the first field that breaks ``schema``."""
    from jsonschema import Draft202012Validator

    validator = _validators.get(id(schema))
    if validator is None:
        validator = _validators[id(schema)] = Draft202012Validator(schema)
    problems = sorted(validator.iter_errors(value), key=lambda p: [str(x) for x in p.path])
    if problems:
        raise error(describe(problems[0], prefix))


_validators: dict = {}


def describe(problem, prefix: str = "") -> str:
    """A jsonschema error as 'field: must be ..., got ...' (not jsonschema's own wording)."""
    where = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in problem.path)
    where = where.lstrip(".") or "the value"
    rule, limit, schema, got = (problem.validator, problem.validator_value, problem.schema,
                                _shown(problem.instance))
    if rule == "additionalProperties":
        unknown = sorted(set(problem.instance) - set(schema.get("properties", {})))
        return f"unknown setting(s): {', '.join(map(str, unknown))}"[:200]
    if rule == "enum":
        return f"{where}: must be one of {', '.join(map(str, limit))}; got {got}"
    if rule == "required":
        return f"{where}: {problem.message.split(' ')[0]} is missing"
    if rule in ("minimum", "maximum", "type") and "minimum" in schema and "maximum" in schema:
        kind = "a whole number" if schema.get("type") == "integer" else "a number"
        return f"{where}: must be {kind} from {schema['minimum']} to {schema['maximum']}; got {got}"
    if rule == "type":
        names = {"array": "a list", "object": "an object", "string": "text",
                 "integer": "a whole number", "number": "a number", "boolean": "true or false"}
        wanted = limit if isinstance(limit, list) else [limit]
        return f"{where}: must be {' or '.join(names.get(t, t) for t in wanted)}; got {got}"
    if rule == "maxItems":
        return f"{where}: at most {limit} item{'s' if limit != 1 else ''}; got {got}"
    if rule == "minItems":
        return f"{where}: at least {limit} item{'s' if limit != 1 else ''} (got none)"
    if rule == "uniqueItems":
        return f"{where}: each item may appear only once; got {got}"
    if rule == "const":
        return f"{where}: must be {_shown(limit)}; got {got}"
    return f"{where}: {problem.message[:160]}"


def _shown(value) -> str:
    """A value as the user wrote it (JSON: null, not None), cut short."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."
