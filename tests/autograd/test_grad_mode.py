"""Grad modes against PyTorch: no_grad / enable_grad / set_grad_enabled / inference_mode as with
blocks, as decorators (with and without parentheses) and (set_grad_enabled) as a plain call;
nesting, restoring after exceptions, generators and threads."""

import threading

import pytest

from tests.helpers import run_both


def test_no_grad_block_and_nesting_with_enable_grad():
    def f(m):
        x = m.ones(2, requires_grad=True)
        with m.no_grad():
            a = x * 2
            inner_mode = m.is_grad_enabled()
            with m.enable_grad():
                b = x * 2
            c = x * 2
        return a.requires_grad, b.requires_grad, c.requires_grad, inner_mode, m.is_grad_enabled()

    run_both(f)


def test_no_grad_as_decorator_with_and_without_parentheses():
    def f(m):
        x = m.ones(2, requires_grad=True)

        @m.no_grad()
        def called():
            return x * 2

        @m.no_grad
        def bare():
            return x * 2

        @m.enable_grad()
        def enabled():
            return x * 2

        with m.no_grad():
            inside = enabled()
        return called().requires_grad, bare().requires_grad, inside.requires_grad, \
            (x * 2).requires_grad, bare.__name__

    run_both(f)


def test_set_grad_enabled_as_block_decorator_and_plain_call():
    def f(m):
        x = m.ones(2, requires_grad=True)
        with m.set_grad_enabled(False):
            block = (x * 2).requires_grad
        after_block = m.is_grad_enabled()

        @m.set_grad_enabled(False)
        def decorated():
            return (x * 2).requires_grad

        after_decorating = m.is_grad_enabled()
        in_decorated = decorated()
        m.set_grad_enabled(False)  # a plain call takes effect at once and stays
        plain = ((x * 2).requires_grad, m.is_grad_enabled())
        m.set_grad_enabled(True)
        with m.no_grad():
            with m.set_grad_enabled(True):
                reenabled = (x * 2).requires_grad
            back = m.is_grad_enabled()
        return block, after_block, after_decorating, in_decorated, plain, reenabled, back, \
            m.is_grad_enabled()

    run_both(f)


def test_inference_mode():
    def f(m):
        x = m.ones(2, requires_grad=True)
        with m.inference_mode():
            y = x * 2
            inside = (m.is_inference_mode_enabled(), m.is_grad_enabled())
        with m.inference_mode(False):
            z = x * 2

        @m.inference_mode()
        def predict():
            return x * 3

        return y.requires_grad, inside, z.requires_grad, predict().requires_grad, \
            m.is_inference_mode_enabled(), m.is_grad_enabled()

    run_both(f)


def test_modes_are_restored_after_an_exception():
    def f(m):
        for mode in (m.no_grad(), m.set_grad_enabled(False), m.inference_mode()):
            with pytest.raises(ZeroDivisionError):
                with mode:
                    raise ZeroDivisionError
        return m.is_grad_enabled(), m.is_inference_mode_enabled()

    run_both(f)


def test_a_decorated_recursive_function_restores_each_level():
    def f(m):
        x = m.ones(1, requires_grad=True)
        seen = []

        @m.no_grad()
        def down(n):
            seen.append(m.is_grad_enabled())
            if n:
                with m.enable_grad():
                    seen.append((x * 2).requires_grad)
                    down(n - 1)
                    seen.append(m.is_grad_enabled())
            return n

        down(2)
        return seen, m.is_grad_enabled()

    run_both(f)


def test_the_mode_is_per_thread():
    def f(m):
        seen = []
        with m.no_grad():
            thread = threading.Thread(target=lambda: seen.append(m.is_grad_enabled()))
            thread.start()
            thread.join()
        return seen

    run_both(f)


def test_backward_inside_no_grad_still_computes_gradients_of_a_recorded_graph():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        with m.no_grad():
            y.backward()
        return x.grad

    run_both(f)


def test_a_decorated_generator_runs_its_body_in_the_mode_and_the_caller_outside_it():
    def f(m):
        x = m.ones(1, requires_grad=True)

        @m.no_grad()
        def generate(n):
            for _ in range(n):
                yield (x * 2).requires_grad, m.is_grad_enabled()
            return "done"

        seen = []
        for item in generate(2):
            seen.append((item, m.is_grad_enabled(), (x * 2).requires_grad))
        return seen

    run_both(f)


def test_no_grad_saves_and_restores_the_grad_mode_only():
    def f(m):
        seen = []
        with m.inference_mode():
            with m.no_grad():
                seen.append((m.is_inference_mode_enabled(), m.is_grad_enabled()))
            seen.append((m.is_inference_mode_enabled(), m.is_grad_enabled()))
        with m.no_grad():
            m.set_grad_enabled(True)  # the plain call inside: the block still restores at exit
            seen.append(m.is_grad_enabled())
        with m.enable_grad():
            with m.no_grad():
                seen.append(m.is_grad_enabled())
            seen.append(m.is_grad_enabled())
        seen.append((m.is_inference_mode_enabled(), m.is_grad_enabled()))
        return seen

    run_both(f)
