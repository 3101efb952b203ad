"""Models for the lectures' advanced networks: a row-by-row LSTM classifier, an LSTM forecaster,
a GAN's MLP generator and discriminator, and the deep Q-network's MLP.

>>> model = build("lstm-rows")                 # 28 rows of 28 pixels -> 10 digit logits
>>> model(dn.randn(4, 1, 28, 28)).shape        # (4, 10)
"""

from __future__ import annotations

from deepnum.functions import cat
from deepnum.models import register
from deepnum.nn.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from deepnum.nn.container import Sequential
from deepnum.nn.dropout import Dropout
from deepnum.nn.linear import Linear
from deepnum.nn.module import Module
from deepnum.nn.recurrent import LSTM
from deepnum.tensor import Tensor


class RowLSTM(Module):
    """Read an image as a sequence, one row per time step, and classify from the last hidden state:
    h_T summarises every row the LSTM has seen, so the classifier is logits = W h_T + b.

    >>> model = RowLSTM(28, 128)
    >>> model(dn.randn(8, 28, 28)).shape      # (8, 10); (8, 1, 28, 28) and (8, 784) work too
    """

    def __init__(self, input_size: int = 28, hidden_size: int = 128, num_layers: int = 1,
                 num_classes: int = 10, dropout: float = 0.0, bidirectional: bool = False):
        super().__init__()
        self.input_size = input_size
        self.lstm = LSTM(input_size, hidden_size, num_layers, batch_first=True, dropout=dropout,
                         bidirectional=bidirectional)
        self.fc = Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = x.reshape(x.shape[0], -1, self.input_size)       # (N, rows, pixels per row)
        _, (h_n, _) = self.lstm(x)
        last = cat([h_n[-2], h_n[-1]], dim=1) if self.lstm.bidirectional else h_n[-1]
        return self.fc(last)


class LSTMForecaster(Module):
    """Predict the next value of a series at every step: y_t = W h_t + b estimates x_{t+1}.

    >>> model = LSTMForecaster(hidden_size=32)
    >>> model(dn.randn(16, 50, 1)).shape      # (16, 50, 1): one prediction per step
    """

    def __init__(self, input_size: int = 1, hidden_size: int = 32, num_layers: int = 1,
                 output_size: int = 1):
        super().__init__()
        self.lstm = LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.head = Linear(hidden_size, output_size)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.lstm(x)
        return self.head(out)


def _mlp(sizes, activation, out_activation=None, dropout: float = 0.0) -> list:
    """Linear layers of the given sizes with ``activation()`` (and dropout) between them."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
            if dropout:
                layers.append(Dropout(dropout))
    if out_activation is not None:
        layers.append(out_activation())
    return layers


def _leaky():
    return LeakyReLU(0.2)   # a gradient for negative inputs too: the usual choice in GANs


class MLPGenerator(Sequential):
    """A GAN generator: noise z ~ N(0, I) of size ``latent_dim`` -> an image with pixels in (-1, 1)
    (LeakyReLU(0.2) hidden layers, tanh output).

    >>> g = MLPGenerator(64); g(dn.randn(16, 64)).shape    # (16, 784)
    """

    def __init__(self, latent_dim: int = 64, hidden: tuple = (256, 512), out_features: int = 784):
        super().__init__(*_mlp((latent_dim, *hidden, out_features), _leaky, Tanh))
        self.latent_dim = latent_dim


class MLPDiscriminator(Sequential):
    """A GAN discriminator: an image -> one logit, the evidence that it is real (not generated).
    LeakyReLU(0.2) and dropout between layers keep it from overpowering the generator.

    >>> d = MLPDiscriminator(); d(dn.randn(16, 784)).shape   # (16, 1), a logit (no sigmoid)
    """

    def __init__(self, in_features: int = 784, hidden: tuple = (512, 256), dropout: float = 0.3,
                 sigmoid: bool = False):
        super().__init__(*_mlp((in_features, *hidden, 1), _leaky, Sigmoid if sigmoid else None,
                               dropout))


class QNetwork(Sequential):
    """The deep Q-network: a state -> one estimated return Q(s, a) per action.

    >>> q = QNetwork(4, 2); q(dn.randn(32, 4)).shape         # (32, 2); act = argmax
    """

    def __init__(self, state_size: int = 4, num_actions: int = 2, hidden: tuple = (128, 128)):
        super().__init__(*_mlp((state_size, *hidden, num_actions), ReLU))


register("lstm-rows")(RowLSTM)
register("lstm-forecast")(LSTMForecaster)
register("gan-generator")(MLPGenerator)
register("gan-discriminator")(MLPDiscriminator)
register("dqn-mlp")(QNetwork)
