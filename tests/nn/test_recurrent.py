"""RNN, LSTM and GRU against PyTorch with the same weights: outputs, final states, every gradient.

Backpropagation through time is checked end to end: torch's state_dict is loaded unchanged, the same
input and initial states go through both, and a fixed random weighting of (output, h_n[, c_n]) is
backpropagated, so every output element, every time step and every weight takes part.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
from tests.helpers import TOLERANCE, copy_module_weights

MODES = {"RNN": (nn.RNN, torch.nn.RNN), "LSTM": (nn.LSTM, torch.nn.LSTM),
         "GRU": (nn.GRU, torch.nn.GRU)}


def _close(ours, theirs, dtype, what):
    ours = ours.data if isinstance(ours, dn.Tensor) else ours
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != torch {theirs.shape}"
    assert ours.dtype == np.dtype(dtype), f"{what}: dtype {ours.dtype}"
    np.testing.assert_allclose(ours, theirs, err_msg=what, **TOLERANCE[np.dtype(dtype).type])


def compare_sequence_layer(mode, length, batch, dtype, num_layers=1, bidirectional=False,
                           batch_first=False, bias=True, nonlinearity="tanh", with_state=True,
                           input_size=5, hidden_size=4, seed=0):
    ours_cls, torch_cls = MODES[mode]
    extra = {"nonlinearity": nonlinearity} if mode == "RNN" else {}
    torch.manual_seed(seed)
    theirs = torch_cls(input_size, hidden_size, num_layers=num_layers, bias=bias,
                       batch_first=batch_first, bidirectional=bidirectional, **extra)
    theirs = theirs.double() if dtype == np.float64 else theirs.float()
    ours = ours_cls(input_size, hidden_size, num_layers=num_layers, bias=bias,
                    batch_first=batch_first, bidirectional=bidirectional, dtype=dtype, **extra)
    copy_module_weights(ours, theirs)

    rng = np.random.default_rng(seed)
    shape = (batch, length, input_size) if batch_first else (length, batch, input_size)
    if batch is None:
        shape = (length, input_size)
    x = rng.standard_normal(shape).astype(dtype)
    states_shape = (num_layers * (2 if bidirectional else 1),) + ((batch,) if batch else ())
    states_shape += (hidden_size,)
    states = [rng.standard_normal(states_shape).astype(dtype) for _ in range(2)]
    x_dn, x_t = dn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    s_dn = [dn.tensor(s, requires_grad=True) for s in states]
    s_t = [torch.tensor(s, requires_grad=True) for s in states]

    if mode == "LSTM":
        hx_dn, hx_t = (tuple(s_dn), tuple(s_t)) if with_state else (None, None)
        out, (h_n, c_n) = ours(x_dn, hx_dn)
        ref, (h_ref, c_ref) = theirs(x_t, hx_t)
        results = [(out, ref, "output"), (h_n, h_ref, "h_n"), (c_n, c_ref, "c_n")]
    else:
        out, h_n = ours(x_dn, s_dn[0] if with_state else None)
        ref, h_ref = theirs(x_t, s_t[0] if with_state else None)
        results = [(out, ref, "output"), (h_n, h_ref, "h_n")]

    loss_dn, loss_t = 0, 0
    for k, (a, b, what) in enumerate(results):
        _close(a, b, dtype, what)
        w = np.random.default_rng(100 + k).standard_normal(a.shape).astype(dtype)
        loss_dn = loss_dn + (a * dn.tensor(w)).sum()
        loss_t = loss_t + (b * torch.tensor(w)).sum()
    loss_dn.backward()
    loss_t.backward()

    _close(x_dn.grad, x_t.grad, dtype, "gradient of the input")
    if with_state:
        for s_ours, s_theirs, name in zip(s_dn, s_t, ("h_0", "c_0")[:1 + (mode == "LSTM")]):
            _close(s_ours.grad, s_theirs.grad, dtype, f"gradient of {name}")
    torch_params = dict(theirs.named_parameters())
    names = [name for name, _ in ours.named_parameters()]
    assert sorted(names) == sorted(torch_params), "parameter names differ from PyTorch's"
    for name, p in ours.named_parameters():
        _close(p.grad, torch_params[name].grad, dtype, f"gradient of {name}")


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("length,batch", [(1, 1), (6, 3), (17, 2)])
def test_matches_torch_lengths_and_batches(mode, dtype, length, batch):
    compare_sequence_layer(mode, length, batch, dtype)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch_bidirectional_two_layers(mode, dtype):
    compare_sequence_layer(mode, 7, 3, dtype, num_layers=2, bidirectional=True)


@pytest.mark.parametrize("mode", list(MODES))
def test_matches_torch_options(mode):
    compare_sequence_layer(mode, 5, 2, np.float64, num_layers=2, batch_first=True)
    compare_sequence_layer(mode, 5, 2, np.float64, bias=False, bidirectional=True)
    compare_sequence_layer(mode, 5, 2, np.float64, with_state=False, num_layers=2)
    compare_sequence_layer(mode, 5, None, np.float64, bidirectional=True)   # unbatched (L, H_in)
    compare_sequence_layer(mode, 4, None, np.float64, batch_first=True)     # ignored if unbatched


def test_rnn_relu_matches_torch():
    compare_sequence_layer("RNN", 6, 3, np.float64, nonlinearity="relu", num_layers=2,
                           bidirectional=True)


CELLS = {"RNNCell": (nn.RNNCell, torch.nn.RNNCell), "LSTMCell": (nn.LSTMCell, torch.nn.LSTMCell),
         "GRUCell": (nn.GRUCell, torch.nn.GRUCell)}


@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cells_match_torch(name, dtype):
    ours_cls, torch_cls = CELLS[name]
    torch.manual_seed(0)
    theirs = torch_cls(5, 4)
    theirs = theirs.double() if dtype == np.float64 else theirs.float()
    ours = ours_cls(5, 4, dtype=dtype)
    copy_module_weights(ours, theirs)
    rng = np.random.default_rng(1)
    x, h, c = (rng.standard_normal(s).astype(dtype) for s in ((3, 5), (3, 4), (3, 4)))
    tensors_dn = [dn.tensor(a, requires_grad=True) for a in (x, h, c)]
    tensors_t = [torch.tensor(a, requires_grad=True) for a in (x, h, c)]
    if name == "LSTMCell":
        out_dn = ours(tensors_dn[0], (tensors_dn[1], tensors_dn[2]))
        out_t = theirs(tensors_t[0], (tensors_t[1], tensors_t[2]))
    else:
        out_dn, out_t = (ours(tensors_dn[0], tensors_dn[1]),), (theirs(tensors_t[0], tensors_t[1]),)
        tensors_dn, tensors_t = tensors_dn[:2], tensors_t[:2]
    loss_dn, loss_t = 0, 0
    for k, (a, b) in enumerate(zip(out_dn, out_t)):
        _close(a, b, dtype, f"output {k}")
        w = np.random.default_rng(k).standard_normal(a.shape).astype(dtype)
        loss_dn, loss_t = loss_dn + (a * dn.tensor(w)).sum(), loss_t + (b * torch.tensor(w)).sum()
    loss_dn.backward()
    loss_t.backward()
    for k, (a, b) in enumerate(zip(tensors_dn, tensors_t)):
        _close(a.grad, b.grad, dtype, f"gradient of input {k}")
    params_t = dict(theirs.named_parameters())
    for pname, p in ours.named_parameters():
        _close(p.grad, params_t[pname].grad, dtype, f"gradient of {pname}")


def test_cell_unrolled_equals_sequence_layer():
    """The fused sequence op and the cell composed from primitives are the same recurrence."""
    lstm, cell = nn.LSTM(3, 4, dtype=np.float64), nn.LSTMCell(3, 4, dtype=np.float64)
    cell.load_state_dict({k[:-3]: v.data for k, v in lstm.state_dict().items()})
    x = dn.randn(6, 2, 3, dtype=np.float64)
    out, (h_n, c_n) = lstm(x)
    h = c = dn.zeros(2, 4, dtype=np.float64)
    for t in range(6):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(out.data[t], h.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c_n.data[0], c.data, rtol=1e-12, atol=1e-12)


def test_gradcheck_lstm_and_gru_finite_differences():
    for layer in (nn.LSTM(2, 3, bidirectional=True, dtype=np.float64),
                  nn.GRU(2, 3, num_layers=2, dtype=np.float64),
                  nn.RNN(2, 3, dtype=np.float64)):
        x = dn.randn(4, 2, 2, dtype=np.float64, requires_grad=True)
        assert dn.gradcheck(lambda t, layer=layer: layer(t)[0], [x])


def test_state_dict_names_and_layouts_are_torchs():
    for mode, (ours_cls, torch_cls) in MODES.items():
        ours, theirs = ours_cls(3, 5, num_layers=2, bidirectional=True), torch_cls(
            3, 5, num_layers=2, bidirectional=True)
        shapes = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
        assert {k: v.shape for k, v in ours.state_dict().items()} == shapes, mode


def test_default_init_is_uniform_over_one_over_sqrt_hidden():
    lstm = nn.LSTM(10, 16, num_layers=2)
    for _, p in lstm.named_parameters():
        assert np.abs(p.data).max() <= 1 / 4 + 1e-7
    assert np.abs(lstm.weight_hh_l1.data).max() > 0.2    # spread over the interval, not zeros


def test_dropout_between_layers_only_in_training():
    dn.manual_seed(0)
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = dn.randn(5, 2, 3)
    a, _ = lstm(x)
    b, _ = lstm(x)
    assert not np.allclose(a.data, b.data)          # different masks in training
    lstm.eval()
    c, _ = lstm(x)
    d, _ = lstm(x)
    np.testing.assert_array_equal(c.data, d.data)    # deterministic in eval


def test_dropout_eval_matches_torch():
    torch.manual_seed(0)
    theirs = torch.nn.GRU(3, 4, num_layers=3, dropout=0.3).double().eval()
    ours = nn.GRU(3, 4, num_layers=3, dropout=0.3, dtype=np.float64).eval()
    copy_module_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    _close(ours(dn.tensor(x))[0], theirs(torch.tensor(x))[0], np.float64, "output")


@pytest.mark.parametrize("kwargs,arg", [
    (dict(input_size=0, hidden_size=4), "input_size"),
    (dict(input_size=3, hidden_size=-1), "hidden_size"),
    (dict(input_size=3, hidden_size=4, num_layers=0), "num_layers"),
    (dict(input_size=3, hidden_size=4, dropout=1.0), "dropout"),
])
def test_bad_arguments_name_layer_and_argument(kwargs, arg):
    with pytest.raises(ValueError, match=f"LSTM: {arg}"):
        nn.LSTM(**kwargs)
    with pytest.raises(ValueError, match="RNN: nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="RNNCell: nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")


def test_shape_errors():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(dn.ShapeError, match="LSTM"):
        lstm(dn.randn(5, 2, 7))
    with pytest.raises(dn.ShapeError, match="h_0"):
        lstm(dn.randn(5, 2, 3), (dn.zeros(1, 3, 4), dn.zeros(1, 2, 4)))
    with pytest.raises(dn.ShapeError, match="GRUCell"):
        nn.GRUCell(3, 4)(dn.randn(2, 5))


def test_repr():
    assert repr(nn.LSTM(28, 128, batch_first=True)) == "LSTM(28, 128, batch_first=True)"
    assert repr(nn.GRU(3, 4, num_layers=2, dropout=0.1)) == "GRU(3, 4, num_layers=2, dropout=0.1)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity='relu')"


def _gradient_norms(layer, length=100, seed=0):
    """||d loss / d x_1|| and ||d loss / d x_100||, the loss depending only on the output at the
    last step (float64, batch 8, N(0, 1) inputs of size 10)."""
    x = dn.tensor(np.random.default_rng(seed).standard_normal((length, 8, 10)),
                  requires_grad=True)
    out = layer(x)[0]
    out[length - 1].sum().backward()
    return float(np.linalg.norm(x.grad.data[0])), float(np.linalg.norm(x.grad.data[-1]))


def _lstm_with_forget_bias(value):
    dn.manual_seed(0)
    lstm = nn.LSTM(10, 32, dtype=np.float64)
    if value is not None:
        lstm.bias_ih_l0.data[32:64] = value   # forget gate pre-activation starts at `value`
        lstm.bias_hh_l0.data[32:64] = 0.0
    return lstm


def test_lstm_remembers_where_the_tanh_rnn_forgets():
    """The lecture's point, measured: the norm of the gradient of a loss at step 100 with respect
    to the input at step 1 (hidden 32, seeded; the norm at step 100 itself is ~1-6 in every case).

    Measured (float64, this seed):
        tanh RNN, PyTorch's default init U(+-1/sqrt(H))          1.8e-23   (vanished)
        LSTM, PyTorch's default init (forget bias ~0)            3.7e-20   (vanished too!)
        LSTM, forget-gate bias 1 (sigma(1) = 0.73)               1.6e-07
        LSTM, forget-gate bias 3 (sigma(3) = 0.95)               9.1e-02   (5% of step 100's)

    Honest reading: the LSTM's cure needs the forget gate to start open. With torch's default init
    f ~ 0.5 and 0.5^99 ~ 1e-30, so its gradient vanishes almost like the RNN's; with the common
    forget-bias-1 init it is 16 orders of magnitude larger, and with bias 3 it barely decays.
    The RNN's gradient is multiplied by W_hh^T diag(tanh') at each step back; the LSTM's travels
    along the cell state, multiplied only by f.
    """
    dn.manual_seed(0)
    rnn_first, rnn_last = _gradient_norms(nn.RNN(10, 32, dtype=np.float64))
    default_first, _ = _gradient_norms(_lstm_with_forget_bias(None))
    one_first, _ = _gradient_norms(_lstm_with_forget_bias(1.0))
    three_first, three_last = _gradient_norms(_lstm_with_forget_bias(3.0))
    assert rnn_first < 1e-15 * rnn_last                     # vanished
    assert default_first < 1e-12                           # vanished as well, honestly
    assert one_first > 1e10 * rnn_first
    assert three_first > 1e-2 * three_last                 # does not vanish
