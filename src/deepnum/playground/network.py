"""The Playground's network from its settings, and its optimizer and weight penalty.

The network is the registered model :class:`~deepnum.models.playground.PlaygroundNet`: its first
layer turns raw points (x1, x2) into the chosen features (x1, x1^2, sin x1, ...), so a downloaded
file is self-contained: ``dn.load(path)(points)`` gives the page's predictions.

>>> model = build_model(validate_settings({"hidden": [8, 8]}), num_outputs=2)
>>> model(dn.tensor([[0.5, -1.0]])).shape        # (1, 2)
"""

from __future__ import annotations

import contextlib
import threading

import deepnum.nn as nn
from deepnum import random as dn_random
from deepnum.models.playground import ACTIVATION_CLASSES, FEATURE_FUNCTIONS, PlaygroundNet
from deepnum.playground.settings import OPTIMIZERS

SEED_LOCK = threading.Lock()


def feature_range(name: str) -> float:
    """The largest |feature| on the Playground's square, to scale its heat map to [-1, 1]."""
    return FEATURE_FUNCTIONS[name][1]


def available_activations() -> list[str]:
    """The activations this deepnum has (looked up by name, so new ones appear by themselves)."""
    return [name for name, cls in ACTIVATION_CLASSES.items() if hasattr(nn, cls)]


def build_model(settings: dict, num_outputs: int, offset=(0.0, 0.0), scale=(1.0, 1.0)):
    """The registered ``PlaygroundNet`` for these settings, its weights drawn from deepnum's
    generator seeded with ``settings["seed"]`` so the same settings give the same start.

    The lock keeps other sessions' threads off that shared generator meanwhile, and its previous
    state is put back. Dropout then draws from a generator of the network's own, seeded the same
    way, so no other tab's training changes this one's masks.
    """
    with global_generator(settings["seed"]):
        model = PlaygroundNet(settings["features"], settings["hidden"], settings["activations"],
                              settings["dropout"], num_outputs, tuple(offset), tuple(scale))
    return model.use_generator(dn_random.Generator().manual_seed(settings["seed"]))


@contextlib.contextmanager
def global_generator(seed: int | None = None):
    """deepnum's global generator for this thread alone, seeded with ``seed`` (or left as it
    is), and put back afterwards: layers initialise their weights from it, and sessions build
    networks in many threads at once."""
    with SEED_LOCK:
        state = dn_random.get_state()
        if seed is not None:
            dn_random.manual_seed(seed)
        try:
            yield
        finally:
            dn_random.set_state(state)


def describe_model(model) -> dict:
    """Features, hidden sizes, activations, dropout and outputs of a loaded model.

    Raises ValueError when the model is not a Playground network (a file made elsewhere).
    """
    if not isinstance(model, PlaygroundNet):
        raise ValueError(f"not a Playground model: the file holds a {type(model).__name__}, "
                         f"not a PlaygroundNet")
    return {"features": model.features, "hidden": model.hidden,
            "activations": model.activations, "dropout": model.dropout,
            "num_outputs": model.num_outputs}


def build_optimizer(settings: dict, model):
    """The chosen optimizer over the model's parameters (a class of deepnum.optim's registry)."""
    optimizer_class, kwargs = OPTIMIZERS[settings["optimizer"]]
    return optimizer_class(model.parameters(), lr=settings["learning_rate"], **kwargs)


def available_optimizers() -> list[str]:
    return list(OPTIMIZERS)


def penalty(model, kind: str, rate: float):
    """rate * L1 (sum |w|) or rate * L2 (sum w^2 / 2) over the weights (not the biases), as in the
    TF Playground; None when there is no penalty."""
    if kind == "none" or rate == 0:
        return None
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    return getattr(nn.utils, f"{kind}_penalty")(weights) * rate
