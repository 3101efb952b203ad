"""Optimizers and learning-rate schedulers, shaped like ``torch.optim``."""

from deepnum.optim import lr_scheduler
from deepnum.optim.adadelta import Adadelta
from deepnum.optim.adagrad import Adagrad
from deepnum.optim.adam import Adam
from deepnum.optim.adamax import Adamax
from deepnum.optim.adamw import AdamW
from deepnum.optim.lbfgs import LBFGS
from deepnum.optim.lr_scheduler import (
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiplicativeLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from deepnum.optim.nadam import NAdam
from deepnum.optim.optimizer import Optimizer
from deepnum.optim.radam import RAdam
from deepnum.optim.rmsprop import RMSprop
from deepnum.optim.sgd import SGD

# name -> class: the one table of optimizers, read by the Trainer, the deepnum command and the
# Playground. A class's ``suggested_lr`` is where those start when no rate is given. LBFGS is not
# here: its step(closure) evaluates the loss itself, which the Trainer's step does not offer.
OPTIMIZERS: dict[str, type] = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "adamax": Adamax,
    "nadam": NAdam,
    "radam": RAdam,
}
SCHEDULES = lr_scheduler.SCHEDULES
