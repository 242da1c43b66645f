"""Gradient hooks: see, log or replace a node's gradient as it leaves the memo.

A node keeps its own hooks (``node._hooks``: None, or a list in registration order), so
a hook lives exactly as long as its node: a hook that refers to its own tensor makes a
cycle the collector frees, never a global entry that keeps a graph alive. A handle holds
its node weakly, so it cannot keep the node alive or reach any other node's hooks.
"""
from __future__ import annotations

import numbers
import weakref
from typing import Any, Callable

import numpy as np

Hook = Callable[[Any], Any]


class RemovableHandle:
    """What `register_hook` returns; ``handle.remove()`` unregisters that one hook."""

    __slots__ = ("_node", "_hook")

    def __init__(self, node: Any, hook: Hook) -> None:
        self._node, self._hook = weakref.ref(node), hook

    def remove(self) -> None:
        node = self._node()
        if node is None:
            return
        hooks = node._hooks
        if hooks is not None and self._hook in hooks:
            hooks.remove(self._hook)
            if not hooks:
                node._hooks = None  # None keeps backward on its fast path


def register(node: Any, hook: Hook) -> RemovableHandle:
    """Attach ``hook`` to ``node`` (see `Node.register_hook`)."""
    if not callable(hook):
        raise TypeError(f"register_hook: expected a function of the gradient, "
                        f"got {type(hook).__name__}")
    if not node.requires_grad:
        raise RuntimeError("register_hook: this tensor does not require grad, so no gradient "
                           "will ever reach it (create it with requires_grad=True)")
    if node._hooks is None:
        node._hooks = [hook]
    else:  # a new list: a backward iterating over the old one is not disturbed
        node._hooks = node._hooks + [hook]
    return RemovableHandle(node, hook)


def run_hooks(node: Any, g: Any) -> Any:
    """``node``'s final gradient after its hooks: each sees the previous one's result."""
    for hook in tuple(node._hooks or ()):  # a hook may remove itself
        new = hook(g)
        if new is not None:
            g = _replacement(node, g, new, hook)
    return g


def _is_raw(g: Any) -> bool:
    """A raw gradient (float or array), as opposed to a node (``create_graph=True``)."""
    return g.__class__ is float or isinstance(g, (np.ndarray, np.generic, numbers.Real))


def _replacement(node: Any, g: Any, new: Any, hook: Hook) -> Any:
    """A hook's return value as a gradient of the same kind and shape as ``g``."""
    name = getattr(hook, "__name__", type(hook).__name__)
    if not _is_raw(g):  # create_graph=True: the gradient must stay a node
        if _is_raw(new) or not hasattr(new, "data"):
            new = g.__class__(_as_raw(g.data, new, name))
        raw = new.data
        shape = np.shape(g.data)
    else:
        if not _is_raw(new) and hasattr(new, "data") and hasattr(new, "_inputs"):
            new = new.data  # a node returned for a raw gradient: its numbers
        new = raw = _as_raw(g, new, name)
        shape = np.shape(g)
    if np.shape(raw) != shape:
        raise ValueError(f"register_hook: hook {name} returned a gradient of shape "
                         f"{np.shape(raw)} for a node of shape {tuple(node.shape)}; "
                         f"it must keep the shape")
    return new


def _as_raw(g: Any, new: Any, name: str) -> Any:
    """A float for a scalar gradient, an array of ``g``'s dtype for a tensor one."""
    if g.__class__ is float:
        if not isinstance(new, numbers.Real):
            raise TypeError(f"register_hook: hook {name} returned {type(new).__name__}; "
                            f"a Value's gradient is a number")
        return float(new)
    try:
        return np.asarray(new, dtype=g.dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"register_hook: hook {name} returned {type(new).__name__}, which is "
                        f"not an array of numbers ({exc})") from None
