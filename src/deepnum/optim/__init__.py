"""Optimizers and learning-rate schedulers, shaped like ``torch.optim``."""

from deepnum.optim.optimizer import Optimizer
from deepnum.optim.sgd import SGD
from deepnum.optim.adam import Adam
from deepnum.optim.adamw import AdamW
from deepnum.optim.rmsprop import RMSprop
from deepnum.optim.adagrad import Adagrad
from deepnum.optim import lr_scheduler
from deepnum.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LRScheduler,
    ReduceLROnPlateau,
    StepLR,
)
