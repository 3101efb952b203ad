"""Layers, losses and the functional API, shaped like ``torch.nn``."""

from deepnum.nn import functional, init, parallel, utils
from deepnum.nn.activation import (
    ACTIVATIONS,
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Maxout,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    Sign,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Step,
    Tanh,
    Tanhshrink,
    Threshold,
    activation,
)
from deepnum.nn.attention import MultiheadAttention
from deepnum.nn.container import ModuleDict, ModuleList, Sequential
from deepnum.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from deepnum.nn.distance import CosineSimilarity, PairwiseDistance
from deepnum.nn.dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d
from deepnum.nn.embedding import Embedding
from deepnum.nn.fold import Fold, Unfold
from deepnum.nn.instancenorm import InstanceNorm1d, InstanceNorm2d
from deepnum.nn.linear import Flatten, Identity, Linear
from deepnum.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeLoss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
)
from deepnum.nn.loss_embedding import CosineEmbeddingLoss, MarginRankingLoss, TripletMarginLoss
from deepnum.nn.loss_likelihood import GaussianNLLLoss, KLDivLoss, PoissonNLLLoss
from deepnum.nn.loss_robust import HuberLoss, L1Loss, SmoothL1Loss
from deepnum.nn.module import Module, Parameter
from deepnum.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from deepnum.nn.parameter_container import ParameterDict, ParameterList
from deepnum.nn.pooling import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from deepnum.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from deepnum.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from deepnum.nn.upsampling import Upsample
