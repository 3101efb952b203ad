"""Layers, losses and the functional API, shaped like ``torch.nn``."""

from deepnum.nn import functional, init
from deepnum.nn.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from deepnum.nn.container import ModuleList, Sequential
from deepnum.nn.dropout import Dropout
from deepnum.nn.linear import Flatten, Identity, Linear
from deepnum.nn.loss import CrossEntropyLoss, MSELoss
from deepnum.nn.module import Module, Parameter
