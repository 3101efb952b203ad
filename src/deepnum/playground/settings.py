"""The Playground's settings: one flat JSON dict, its defaults, limits and validation.

Everything the page sends goes through :func:`validate_settings`, which returns a clean dict or
raises :class:`SettingsError` with a message the page shows as is. The same flat dict is what the
page writes into its URL, so a shared link rebuilds the same experiment.

>>> settings = validate_settings({"dataset": "spiral", "hidden": [8, 8]})
>>> settings["activations"]          # ['tanh', 'tanh']: one per layer, filled from the default
"""

from __future__ import annotations

import numbers

# Bounds that keep one request cheap for a small server shared by many tabs.
MAX_HIDDEN_LAYERS = 6
MAX_NEURONS = 8
MAX_CLASSES = 8
MIN_SAMPLES, MAX_SAMPLES = 10, 2000
MAX_BATCH_SIZE = 1000
MAX_SEED = 2**31 - 1

CLASSIFICATION_SETS = ("circle", "xor", "gauss", "spiral")
REGRESSION_SETS = ("plane", "multi-gauss")
MULTICLASS_SETS = ("gauss", "spiral")  # circle and xor are two-class by nature
DATASETS = CLASSIFICATION_SETS + REGRESSION_SETS + ("csv",)

FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin_x1", "sin_x2")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "leaky_relu", "elu", "selu", "softplus")
# Shown on the page but refused: their derivative is zero almost everywhere, so no gradient flows.
UNTRAINABLE_ACTIVATIONS = ("step", "sign")
LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad")
REGULARIZATIONS = ("none", "l1", "l2")

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


class SettingsError(ValueError):
    """A setting is missing its type, out of range or unknown; the message names it."""


def validate_settings(raw: dict, base: dict | None = None) -> dict:
    """Merge ``raw`` over ``base`` (the defaults when None) and check every value.

    Unknown keys are refused rather than ignored, so a typo in a shared URL is noticed.
    """
    if not isinstance(raw, dict):
        raise SettingsError(f"settings must be a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(map(str, unknown))}")
    s = dict(DEFAULTS if base is None else base)
    s.update(raw)
    out = {
        "dataset": _choice("dataset", s["dataset"], DATASETS),
        "noise": _number("noise", s["noise"], 0.0, 0.5),
        "num_samples": _integer("num_samples", s["num_samples"], MIN_SAMPLES, MAX_SAMPLES),
        "train_ratio": _number("train_ratio", s["train_ratio"], 0.1, 0.9),
        "batch_size": _integer("batch_size", s["batch_size"], 1, MAX_BATCH_SIZE),
        "seed": _integer("seed", s["seed"], 0, MAX_SEED),
        "features": _features(s["features"]),
        "dropout": _number("dropout", s["dropout"], 0.0, 0.9),
        "loss": _choice("loss", s["loss"], LOSSES),
        "optimizer": _choice("optimizer", s["optimizer"], OPTIMIZERS),
        "learning_rate": _number("learning_rate", s["learning_rate"], 1e-6, 10.0),
        "regularization": _choice("regularization", s["regularization"], REGULARIZATIONS),
        "regularization_rate": _number("regularization_rate", s["regularization_rate"], 0.0, 10.0),
    }
    out["num_classes"] = _integer("num_classes", s["num_classes"], 2, MAX_CLASSES)
    if out["dataset"] in ("circle", "xor") and out["num_classes"] != 2:
        # The page's class box is disabled for these; a stale URL value is set back, not refused.
        out["num_classes"] = 2
    out["hidden"], out["activations"] = _layers(s["hidden"], s["activations"])
    if out["dataset"] in REGRESSION_SETS and out["loss"] == "cross_entropy":
        raise SettingsError(
            f"loss: cross-entropy needs class labels, but {out['dataset']} is a regression "
            f"data set (targets are numbers): choose mse"
        )
    return {key: out[key] for key in DEFAULTS}


def _choice(name: str, value, choices) -> str:
    if value not in choices:
        raise SettingsError(f"{name}: must be one of {', '.join(choices)}; got {value!r}")
    return value


def _number(name: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise SettingsError(f"{name}: must be a number, got {value!r}")
    if not low <= value <= high:
        raise SettingsError(f"{name}: must be between {low} and {high}, got {value}")
    return float(value)


def _integer(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise SettingsError(f"{name}: must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise SettingsError(f"{name}: must be between {low} and {high}, got {value}")
    return int(value)


def _features(value) -> list[str]:
    if not isinstance(value, list) or not value:
        raise SettingsError(f"features: must be a non-empty list of {', '.join(FEATURES)}")
    for name in value:
        _choice("features", name, FEATURES)
    if len(set(value)) != len(value):
        raise SettingsError(f"features: each feature may appear once, got {value}")
    return [name for name in FEATURES if name in value]  # a canonical order, as on the page


def _layers(hidden, activations) -> tuple[list[int], list[str]]:
    if not isinstance(hidden, list) or len(hidden) > MAX_HIDDEN_LAYERS:
        raise SettingsError(f"hidden: must be a list of at most {MAX_HIDDEN_LAYERS} layer sizes")
    sizes = [_integer(f"hidden[{i}]", n, 1, MAX_NEURONS) for i, n in enumerate(hidden)]
    if not isinstance(activations, list) or not all(isinstance(a, str) for a in activations):
        raise SettingsError("activations: must be a list of names, one per hidden layer")
    # A layer added on the page takes the last layer's activation, as in the TF Playground.
    filled = list(activations[: len(sizes)])
    while len(filled) < len(sizes):
        filled.append(filled[-1] if filled else "tanh")
    for i, name in enumerate(filled):
        if name in UNTRAINABLE_ACTIVATIONS:
            raise SettingsError(
                f"activations[{i}]: {name} is not trainable by gradient descent (its derivative "
                f"is 0 almost everywhere, so no error signal flows back)"
            )
        _choice(f"activations[{i}]", name, ACTIVATIONS)
    return sizes, filled
