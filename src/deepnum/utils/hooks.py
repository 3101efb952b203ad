"""RemovableHandle: what every ``register_*hook`` returns, as ``torch.utils.hooks``."""

from __future__ import annotations

import itertools

_ids = itertools.count()


class RemovableHandle:
    """``handle.remove()`` takes the hook out again (also as ``with handle:``)."""

    def __init__(self, hooks: dict, on_change=None):
        self.id = next(_ids)
        self._hooks, self._on_change = hooks, on_change

    def remove(self) -> None:
        if self._hooks.pop(self.id, None) is not None and self._on_change is not None:
            self._on_change()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_hook(hooks: dict, hook, prepend: bool = False, on_change=None) -> RemovableHandle:
    """Put ``hook`` in the ordered dict ``hooks`` (first if ``prepend``) and return its handle."""
    if not callable(getattr(hook, "hook", hook)):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks, on_change)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    if on_change is not None:
        on_change()
    return handle
