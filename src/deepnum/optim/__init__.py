"""Optimizers and learning-rate schedulers, shaped like ``torch.optim``."""

from deepnum.optim.optimizer import Optimizer
from deepnum.optim.sgd import SGD
