"""Whether operations are recorded for backward: no_grad, enable_grad, set_grad_enabled and
inference_mode, each usable as a ``with`` block or a decorator (with or without parentheses), as
in PyTorch. The mode is per thread.

>>> with dn.no_grad():            # evaluation, weight updates
...     y = model(x)
>>> @dn.no_grad                    # a bare decorator works too
... def evaluate(model, x): return model(x)
"""

from __future__ import annotations

import functools
import inspect
import threading


class _GradMode(threading.local):
    enabled = True  # class defaults: each thread starts recording, read without getattr()
    inference = False


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    return _grad_mode.enabled


def is_inference_mode_enabled() -> bool:
    return _grad_mode.inference


class _GradModeContext:
    """Set the grad mode for a block (``with``) or a function (decorator), then restore it.

    A plain class rather than @contextlib.contextmanager: entering it costs a third as much,
    which shows in one-sample inference."""

    mode = True
    inference = False

    def __new__(cls, func=None, *args, **kwargs):
        if func is not None and callable(func):
            return cls()(func)  # @no_grad without parentheses
        return object.__new__(cls)  # (object.__init__ ignores the arguments __new__ took)

    def __enter__(self):
        state = _grad_mode  # a thread-local: each read and write is a lookup, and `with
        self.previous = (state.enabled, state.inference)  # no_grad()` runs per inference
        state.enabled = self.mode
        if self.inference:
            state.inference = True
        elif self.mode:  # recording again ends inference mode; no_grad keeps what it was
            state.inference = False
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled, _grad_mode.inference = self.previous
        return False

    def __call__(self, func):
        """As a decorator: a fresh context per call, so recursion and threads restore correctly."""
        factory = self._copy
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def generator(*args, **kwargs):
                # the mode holds while the body runs, between yields too, and not in the caller
                inner = func(*args, **kwargs)
                value = None
                while True:
                    try:
                        with factory():
                            item = inner.send(value)
                    except StopIteration as stop:
                        return stop.value
                    value = yield item

            return generator

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with factory():
                return func(*args, **kwargs)

        return wrapper

    def _copy(self):
        return type(self)()


class no_grad(_GradModeContext):  # noqa: N801 - named like torch.no_grad
    """Run the block without recording the graph (evaluation, weight updates)."""

    mode = False

    # Only the grad mode is saved and restored, as torch.no_grad does: no_grad leaves inference
    # mode as it is, and this block runs once per inference, where each thread-local read shows.
    def __enter__(self):
        self.previous = _grad_mode.enabled
        _grad_mode.enabled = False
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled = self.previous
        return False


class enable_grad(_GradModeContext):  # noqa: N801
    """Record the graph inside the block, even within no_grad()."""

    mode = True


class inference_mode(_GradModeContext):  # noqa: N801
    """no_grad for inference (``inference_mode(False)`` records again); deepnum has no separate
    inference tensors, so it is no_grad with ``dn.is_inference_mode_enabled()`` true."""

    def __init__(self, mode: bool = True):
        self.mode, self.inference = not mode, bool(mode)

    def _copy(self):
        return inference_mode(self.inference)


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """``set_grad_enabled(False)`` turns recording off now; used as ``with
    set_grad_enabled(mode):`` it restores the previous mode at the end of the block."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.previous = (_grad_mode.enabled, _grad_mode.inference)
        _grad_mode.enabled = self.mode  # takes effect at once, as torch.set_grad_enabled

    def __enter__(self):
        return self  # the mode was set by __init__; __exit__ restores what was before it

    def __call__(self, func):
        _grad_mode.enabled, _grad_mode.inference = self.previous  # as a decorator: not now
        return super().__call__(func)

    def _copy(self):
        return _SetGradEnabledBlock(self.mode)


class _SetGradEnabledBlock(_GradModeContext):
    def __init__(self, mode: bool):
        self.mode = mode
