"""Fused recurrences: a whole sequence of RNN, LSTM or GRU steps as one op, with hand-written BPTT.

The input projection ``x_t W_ih^T + b_ih`` has no time dependence, so the layers compute it for all
time steps with one big matmul before calling these ops. What is left is inherently sequential: the
hidden-to-hidden product and the gates, step by step. Running the loop here, on plain arrays, keeps
the graph to one node per layer and direction; backward is backpropagation through time, the same
loop run in reverse, with the weight gradients summed over all steps in one matmul at the end.

Each op takes ``xw`` of shape (T, N, G*H) (G = 1, 4, 3 gates), the initial state(s) (N, H), the
recurrent weight ``w_hh`` (G*H, H) and bias ``b_hh`` (G*H,), and walks the time steps backwards
when ``reverse=True`` (the second direction of a bidirectional layer), writing each output at the
time step it belongs to. Gate order is PyTorch's: LSTM (i, f, g, o), GRU (r, z, n).
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.ops.elementwise import stable_sigmoid


def _steps(length: int, reverse: bool):
    return range(length - 1, -1, -1) if reverse else range(length)


def _weight_grads(d_gates, h_prev, needs):
    """dW_hh = sum_t dA_t^T h_{t-1} and db_hh = sum_t dA_t, as one matmul over all steps."""
    flat = d_gates.reshape(-1, d_gates.shape[-1])
    gw = flat.T @ h_prev.reshape(-1, h_prev.shape[-1]) if needs[0] else None
    gb = flat.sum(axis=0) if needs[1] else None
    return gw, gb


class RNNSequence(Function):
    """h_t = act(xw_t + h_{t-1} W_hh^T + b_hh), act = tanh or relu. Output: all h_t, (T, N, H)."""

    def forward(self, xw, h0, w_hh, b_hh, nonlinearity="tanh", reverse=False):
        length = xw.shape[0]
        out = np.empty(xw.shape, dtype=xw.dtype)
        h_prev = np.empty(xw.shape, dtype=xw.dtype)   # h_{t-1} as seen by step t
        h = h0
        for t in _steps(length, reverse):
            h_prev[t] = h
            a = xw[t] + h @ w_hh.T + b_hh
            h = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
            out[t] = h
        self.out, self.h_prev, self.w_hh = out, h_prev, w_hh
        self.nonlinearity, self.reverse = nonlinearity, reverse
        return out

    def backward(self, g):
        out, w_hh = self.out, self.w_hh
        d_a = np.empty_like(out)
        dh = np.zeros_like(out[0])
        for t in _steps(out.shape[0], not self.reverse):
            dh = dh + g[t]
            h = out[t]
            d_a[t] = dh * (1 - h * h) if self.nonlinearity == "tanh" else dh * (h > 0)
            dh = d_a[t] @ w_hh                    # into h_{t-1}
        gw, gb = _weight_grads(d_a, self.h_prev, self.needs_input_grad[2:4])
        return d_a, dh, gw, gb


class LSTMSequence(Function):
    """The LSTM's memory cell, step by step (gates i, f, g, o of a = xw_t + h_{t-1} W_hh^T + b_hh):

        i, f, o = sigma(a_i), sigma(a_f), sigma(a_o);  g = tanh(a_g)
        c_t = f * c_{t-1} + i * g;                    h_t = o * tanh(c_t)

    The cell state c is updated additively through the forget gate, so its gradient is multiplied by
    f (not by a weight matrix and a squashing derivative) at each step back: that is why it does not
    vanish. Output (T+1, N, H): h_1..h_T, then c_T in the last slot (one op, one output array).
    """

    def forward(self, xw, h0, c0, w_hh, b_hh, reverse=False):
        length, n, four_h = xw.shape
        hidden = four_h // 4
        out = np.empty((length + 1, n, hidden), dtype=xw.dtype)
        gates = np.empty(xw.shape, dtype=xw.dtype)    # activated i, f, g, o per step
        cells = np.empty((length, n, hidden), dtype=xw.dtype)
        h_prev = np.empty((length, n, hidden), dtype=xw.dtype)
        c_prev = np.empty((length, n, hidden), dtype=xw.dtype)
        h, c = h0, c0
        for t in _steps(length, reverse):
            h_prev[t], c_prev[t] = h, c
            a = xw[t] + h @ w_hh.T + b_hh
            act = gates[t]
            act[...] = stable_sigmoid(a)
            act[:, 2 * hidden:3 * hidden] = np.tanh(a[:, 2 * hidden:3 * hidden])
            i, f = act[:, :hidden], act[:, hidden:2 * hidden]
            gg, o = act[:, 2 * hidden:3 * hidden], act[:, 3 * hidden:]
            c = f * c + i * gg
            cells[t] = c
            h = o * np.tanh(c)
            out[t] = h
        out[length] = c
        self.gates, self.cells, self.h_prev, self.c_prev = gates, cells, h_prev, c_prev
        self.w_hh, self.reverse = w_hh, reverse
        return out

    def backward(self, g):
        gates, cells, w_hh = self.gates, self.cells, self.w_hh
        length, _, hidden = cells.shape
        d_a = np.empty_like(gates)
        dh = np.zeros_like(cells[0])
        dc = g[length].copy()                       # the gradient arriving at c_T
        for t in _steps(length, not self.reverse):
            i, f, gg, o = np.split(gates[t], 4, axis=1)
            tanh_c = np.tanh(cells[t])
            dh = dh + g[t]
            dc = dc + dh * o * (1 - tanh_c * tanh_c)
            da = d_a[t]
            da[:, :hidden] = dc * gg * i * (1 - i)                          # input gate
            da[:, hidden:2 * hidden] = dc * self.c_prev[t] * f * (1 - f)    # forget gate
            da[:, 2 * hidden:3 * hidden] = dc * i * (1 - gg * gg)           # candidate g
            da[:, 3 * hidden:] = dh * tanh_c * o * (1 - o)                  # output gate
            dc = dc * f                             # into c_{t-1}: the additive path
            dh = da @ w_hh                          # into h_{t-1}
        gw, gb = _weight_grads(d_a, self.h_prev, self.needs_input_grad[3:5])
        return d_a, dh, dc, gw, gb


class GRUSequence(Function):
    """The gated recurrent unit (gates r, z, n; a_h = h_{t-1} W_hh^T + b_hh):

        r = sigma(xw_r + a_h,r);  z = sigma(xw_z + a_h,z);  n = tanh(xw_n + r * a_h,n)
        h_t = (1 - z) * n + z * h_{t-1}

    ``b_hh`` must stay inside the reset gate's product, which is why GRU needs it separate.
    """

    def forward(self, xw, h0, w_hh, b_hh, reverse=False):
        length, n, three_h = xw.shape
        hidden = three_h // 3
        out = np.empty((length, n, hidden), dtype=xw.dtype)
        gates = np.empty(xw.shape, dtype=xw.dtype)    # r, z, n per step
        hh_n = np.empty((length, n, hidden), dtype=xw.dtype)
        h_prev = np.empty((length, n, hidden), dtype=xw.dtype)
        h = h0
        for t in _steps(length, reverse):
            h_prev[t] = h
            a_h = h @ w_hh.T + b_hh
            rz = stable_sigmoid(xw[t, :, :2 * hidden] + a_h[:, :2 * hidden])
            r, z = rz[:, :hidden], rz[:, hidden:]
            hh_n[t] = a_h[:, 2 * hidden:]
            cand = np.tanh(xw[t, :, 2 * hidden:] + r * hh_n[t])
            gates[t, :, :2 * hidden], gates[t, :, 2 * hidden:] = rz, cand
            h = (1 - z) * cand + z * h
            out[t] = h
        self.gates, self.hh_n, self.h_prev, self.w_hh = gates, hh_n, h_prev, w_hh
        self.reverse = reverse
        return out

    def backward(self, g):
        gates, w_hh = self.gates, self.w_hh
        length, _, hidden = self.h_prev.shape
        d_x = np.empty_like(gates)                  # gradient of xw
        d_hh = np.empty_like(gates)                 # gradient of a_h = h W_hh^T + b_hh
        dh = np.zeros_like(self.h_prev[0])
        for t in _steps(length, not self.reverse):
            r, z, cand = np.split(gates[t], 3, axis=1)
            dh = dh + g[t]
            d_cand = dh * (1 - z) * (1 - cand * cand)
            d_r = d_cand * self.hh_n[t] * r * (1 - r)
            d_z = dh * (self.h_prev[t] - cand) * z * (1 - z)
            d_x[t] = np.concatenate([d_r, d_z, d_cand], axis=1)
            d_hh[t, :, :2 * hidden] = d_x[t, :, :2 * hidden]
            d_hh[t, :, 2 * hidden:] = d_cand * r
            dh = dh * z + d_hh[t] @ w_hh            # into h_{t-1}: direct path + through a_h
        gw, gb = _weight_grads(d_hh, self.h_prev, self.needs_input_grad[2:4])
        return d_x, dh, gw, gb
