"""Optimizers and learning-rate schedulers, shaped like ``torch.optim``."""

from deepnum.optim import lr_scheduler
from deepnum.optim.adagrad import Adagrad
from deepnum.optim.adam import Adam
from deepnum.optim.adamw import AdamW
from deepnum.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LRScheduler,
    ReduceLROnPlateau,
    StepLR,
)
from deepnum.optim.optimizer import Optimizer
from deepnum.optim.rmsprop import RMSprop
from deepnum.optim.sgd import SGD

# name -> class: the one table of optimizers, read by the Trainer, the deepnum command and the
# Playground. A class's ``suggested_lr`` is where those start when no rate is given.
OPTIMIZERS: dict[str, type] = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
}
SCHEDULES = lr_scheduler.SCHEDULES
