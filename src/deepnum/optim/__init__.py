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
