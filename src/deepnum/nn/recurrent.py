"""Recurrent layers: RNN, LSTM and GRU cells and multi-layer, bidirectional sequence layers.

A recurrent network reads a sequence one step at a time and carries a hidden state h from step to
step, so the output at step t can depend on everything before it. The plain RNN's gradient through
h is multiplied by W_hh and by tanh' at every step back, so over long spans it vanishes (or
explodes); the LSTM adds a memory cell c updated additively through a forget gate, which "remembers
inputs over a long time" (the lecture). Names, weight layouts and gate order are PyTorch's, so a
PyTorch state dict loads unchanged:

    weight_ih_l{k}[_reverse]  (G*H, in)   weight_hh_l{k}[_reverse]  (G*H, H)
    bias_ih_l{k}[_reverse]    (G*H,)      bias_hh_l{k}[_reverse]    (G*H,)
    G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n)

The cells are composed from primitives (clear, one step). The sequence layers project the input of
all time steps with one matmul, then run the time loop in a fused op (deepnum.ops.recurrent).

>>> lstm = nn.LSTM(28, 128, batch_first=True)
>>> out, (h_n, c_n) = lstm(dn.randn(32, 28, 28))      # out (32, 28, 128), h_n (1, 32, 128)
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.creation import empty
from deepnum.functions import cat, stack
from deepnum.nn import functional as F
from deepnum.nn import init
from deepnum.nn._validate import one_of, positive_int, probability
from deepnum.nn.module import Module, Parameter
from deepnum.ops.recurrent import GRUSequence, LSTMSequence, RNNSequence
from deepnum.tensor import Tensor

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _uniform_all(module: Module) -> None:
    """PyTorch's recurrent init: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


# ============================================================================ cells
class _CellBase(Module):
    def __init__(self, input_size: int, hidden_size: int, bias: bool, gates: int, dtype,
                 device=None):
        super().__init__()
        factory = dict(dtype=dtype, device=device)
        name = type(self).__name__
        self.input_size = positive_int(name, "input_size", input_size)
        self.hidden_size = positive_int(name, "hidden_size", hidden_size)
        self.bias = bool(bias)
        self.weight_ih = Parameter(empty(gates * hidden_size, input_size, **factory))
        self.weight_hh = Parameter(empty(gates * hidden_size, hidden_size, **factory))
        if bias:
            self.bias_ih = Parameter(empty(gates * hidden_size, **factory))
            self.bias_hh = Parameter(empty(gates * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_all(self)

    def _prepare(self, x: Tensor, hx):
        """Accept (N, in) or one unbatched sample (in,); a missing state starts at zero."""
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise F.shape_error(self, f"input of shape (N, {self.input_size}) or "
                                      f"({self.input_size},)", x.shape)
        batched = x.ndim == 2
        x = x if batched else x.unsqueeze(0)
        if hx is None:
            return x, None, batched
        states = hx if isinstance(hx, tuple) else (hx,)
        states = tuple(s if batched else s.unsqueeze(0) for s in states)
        for s in states:
            if s.shape != (x.shape[0], self.hidden_size):
                raise F.shape_error(f"{type(self).__name__} (hidden state)",
                                    f"shape {(x.shape[0], self.hidden_size)}", s.shape)
        return x, states, batched

    def _zeros(self, x: Tensor) -> Tensor:
        return Tensor._wrap(np.zeros((x.shape[0], self.hidden_size), dtype=x.dtype))

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """One step of the Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    >>> cell = nn.RNNCell(10, 20)
    >>> h = cell(dn.randn(3, 10))            # (3, 20); feed h back in at the next step
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        nonlinearity = one_of("RNNCell", "nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__(input_size, hidden_size, bias, 1, dtype, device)
        self.nonlinearity = nonlinearity

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        x, states, batched = self._prepare(x, hx)
        h = states[0] if states else self._zeros(x)
        a = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        h = a.tanh() if self.nonlinearity == "tanh" else a.relu()
        return h if batched else h.squeeze(0)

    def extra_repr(self) -> str:
        extra = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        return super().extra_repr() + extra


class LSTMCell(_CellBase):
    """One LSTM step. With a = x W_ih^T + b_ih + h W_hh^T + b_hh split into gates (i, f, g, o):

        i, f, o = sigma(a_i), sigma(a_f), sigma(a_o);   g = tanh(a_g)
        c' = f * c + i * g;                             h' = o * tanh(c')

    >>> cell = nn.LSTMCell(10, 20)
    >>> h, c = cell(dn.randn(3, 10))         # each (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, dtype, device)

    def forward(self, x: Tensor, hx: tuple | None = None) -> tuple[Tensor, Tensor]:
        x, states, batched = self._prepare(x, hx)
        h, c = states if states else (self._zeros(x), self._zeros(x))
        a = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        n = self.hidden_size
        i, f = a[:, :n].sigmoid(), a[:, n:2 * n].sigmoid()
        g, o = a[:, 2 * n:3 * n].tanh(), a[:, 3 * n:].sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_CellBase):
    """One GRU step, gates (r, z, n):

        r = sigma(x W_ir^T + b_ir + h W_hr^T + b_hr);   z = sigma(x W_iz^T + b_iz + h W_hz^T + b_hz)
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn));   h' = (1 - z) * n + z * h

    >>> cell = nn.GRUCell(10, 20)
    >>> h = cell(dn.randn(3, 10))            # (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, dtype, device)

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        x, states, batched = self._prepare(x, hx)
        h = states[0] if states else self._zeros(x)
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        gh = F.linear(h, self.weight_hh, self.bias_hh)
        n = self.hidden_size
        r = (gi[:, :n] + gh[:, :n]).sigmoid()
        z = (gi[:, n:2 * n] + gh[:, n:2 * n]).sigmoid()
        cand = (gi[:, 2 * n:] + r * gh[:, 2 * n:]).tanh()
        h = (1 - z) * cand + z * h
        return h if batched else h.squeeze(0)


# ============================================================================ sequence layers
class _RNNBase(Module):
    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, nonlinearity: str = "tanh", dtype=None,
                 device=None):
        super().__init__()
        name = type(self).__name__
        self.input_size = positive_int(name, "input_size", input_size)
        self.hidden_size = positive_int(name, "hidden_size", hidden_size)
        self.num_layers = positive_int(name, "num_layers", num_layers)
        self.dropout = probability(name, "dropout", dropout)
        self.nonlinearity = one_of(name, "nonlinearity", nonlinearity, ("tanh", "relu"))
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        gates = _GATES[self.mode] * hidden_size
        factory = dict(dtype=dtype, device=device)
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes(layer):
                setattr(self, f"weight_ih{suffix}",
                        Parameter(empty(gates, layer_in, **factory)))
                setattr(self, f"weight_hh{suffix}",
                        Parameter(empty(gates, hidden_size, **factory)))
                if bias:
                    setattr(self, f"bias_ih{suffix}", Parameter(empty(gates, **factory)))
                    setattr(self, f"bias_hh{suffix}", Parameter(empty(gates, **factory)))
        self.reset_parameters()

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][:self.num_directions]

    def reset_parameters(self) -> None:
        _uniform_all(self)

    def _check_state(self, state: Tensor, expected: tuple, what: str) -> None:
        if state.shape != expected:
            raise F.shape_error(f"{type(self).__name__} ({what})", f"shape {expected}",
                                state.shape)

    def _run_direction(self, xw, h0, c0, w_hh, b_hh, reverse):
        """One layer, one direction: returns (outputs (T, N, H), h_n, c_n or None)."""
        length = xw.shape[0]
        last = 0 if reverse else length - 1      # the final state of a reverse pass is at t=0
        if self.mode == "LSTM":
            seq = LSTMSequence.apply(xw, h0, c0, w_hh, b_hh, reverse=reverse)
            out = seq[:length]
            return out, seq[last], seq[length]
        if self.mode == "GRU":
            out = GRUSequence.apply(xw, h0, w_hh, b_hh, reverse=reverse)
        else:
            out = RNNSequence.apply(xw, h0, w_hh, b_hh, nonlinearity=self.nonlinearity,
                                    reverse=reverse)
        return out, out[last], None

    def forward(self, input: Tensor, hx=None):
        h_size = self.hidden_size
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            order = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            raise F.shape_error(self, f"input of shape {order} or (L, H_in) with "
                                      f"H_in={self.input_size}", input.shape)
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)                  # time first: (T, N, F)
        length, batch = x.shape[0], x.shape[1]
        if length == 0:
            raise F.shape_error(self, "a sequence of at least one step", input.shape)
        num_states = self.num_layers * self.num_directions
        zeros = Tensor._wrap(np.zeros((num_states, batch, h_size), dtype=x.dtype))
        if self.mode == "LSTM":
            h0, c0 = hx if hx is not None else (zeros, zeros)
        else:
            h0, c0 = (hx if hx is not None else zeros), None
        states = [s if batched else s.unsqueeze(1) for s in (h0, c0) if s is not None]
        for s, what in zip(states, ("h_0", "c_0")):
            self._check_state(s, (num_states, batch, h_size), what)
        h0, c0 = states[0], states[1] if c0 is not None else None
        no_bias = Tensor._wrap(np.zeros(_GATES[self.mode] * h_size, dtype=x.dtype))

        h_n, c_n, layer_input = [], [], x
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout and self.training:
                layer_input = F.dropout(layer_input, self.dropout, True)
            outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                k = layer * self.num_directions + direction
                b_ih = getattr(self, f"bias_ih{suffix}") if self.bias else None
                b_hh = getattr(self, f"bias_hh{suffix}") if self.bias else no_bias
                # the input projection of every time step in one (T*N, F) matmul -> (T, N, G*H)
                flat = layer_input.reshape(length * batch, layer_input.shape[2])
                xw = F.linear(flat, getattr(self, f"weight_ih{suffix}"), b_ih)
                xw = xw.reshape(length, batch, xw.shape[1])
                out, h_last, c_last = self._run_direction(
                    xw, h0[k], None if c0 is None else c0[k],
                    getattr(self, f"weight_hh{suffix}"), b_hh, reverse=direction == 1)
                outputs.append(out)
                h_n.append(h_last)
                c_n.append(c_last)
            layer_input = outputs[0] if len(outputs) == 1 else cat(outputs, dim=2)

        output, h_n = layer_input, stack(h_n)
        c_n = stack(c_n) if self.mode == "LSTM" else None
        if batched and self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN" and self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        for flag, default in (("bias", True), ("batch_first", False), ("bidirectional", False)):
            if getattr(self, flag) != default:
                s += f", {flag}={getattr(self, flag)}"
        return s + (f", dropout={self.dropout}" if self.dropout else "")


class RNN(_RNNBase):
    """Elman RNN over a sequence: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Returns ``(output, h_n)``: output (T, N, D*H) holds the last layer's h_t for every t (both
    directions side by side when bidirectional), h_n (num_layers*D, N, H) the final states.

    >>> rnn = nn.RNN(10, 20, num_layers=2)
    >>> out, h_n = rnn(dn.randn(5, 3, 10))    # out (5, 3, 20), h_n (2, 3, 20)
    """

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, nonlinearity, dtype, device)


class LSTM(_RNNBase):
    """Long short-term memory over a sequence (see :class:`LSTMCell` for one step's formulas).

    Returns ``(output, (h_n, c_n))``; ``hx=(h_0, c_0)`` gives the initial states.

    >>> lstm = nn.LSTM(28, 64, batch_first=True)
    >>> out, (h, c) = lstm(dn.randn(8, 28, 28))    # classify from h[-1], shape (8, 64)
    """

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, "tanh", dtype, device)


class GRU(_RNNBase):
    """Gated recurrent unit over a sequence (see :class:`GRUCell` for one step's formulas).

    >>> gru = nn.GRU(10, 20, bidirectional=True)
    >>> out, h_n = gru(dn.randn(5, 3, 10))    # out (5, 3, 40), h_n (2, 3, 20)
    """

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, "tanh", dtype, device)
