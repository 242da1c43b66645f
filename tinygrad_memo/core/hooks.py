"""Gradient hooks: see, log or replace a node's gradient as it leaves the memo.

Why a side table and not a slot: almost no node ever has a hook, so nodes pay nothing
for the feature (a slot would cost 8 bytes on every scalar node). The table is keyed by
``id(node)`` and an entry is dropped when its node dies, so a hook never keeps a graph
alive. `engine.backprop` looks the table up only when it is non-empty.
"""
from __future__ import annotations

import numbers
import weakref
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    from .engine import Node

Hook = Callable[[Any], Any]

# id(node) -> that node's hooks, in registration order. Non-empty lists only.
HOOKS: dict[int, list[Hook]] = {}


class RemovableHandle:
    """What `register_hook` returns; ``handle.remove()`` unregisters that one hook."""

    __slots__ = ("_key", "_hook")

    def __init__(self, key: int, hook: Hook) -> None:
        self._key, self._hook = key, hook

    def remove(self) -> None:
        hooks = HOOKS.get(self._key)
        if hooks is not None and self._hook in hooks:
            hooks.remove(self._hook)
            if not hooks:
                del HOOKS[self._key]  # an empty table keeps backward on its fast path


def register(node: "Node", hook: Hook) -> RemovableHandle:
    """Attach ``hook`` to ``node`` (see `Node.register_hook`)."""
    if not callable(hook):
        raise TypeError(f"register_hook: expected a function of the gradient, "
                        f"got {type(hook).__name__}")
    if not getattr(node, "requires_grad", True):
        raise RuntimeError("register_hook: this tensor does not require grad, so no gradient "
                           "will ever reach it (create it with requires_grad=True)")
    key = id(node)
    hooks = HOOKS.get(key)
    if hooks is None:
        hooks = HOOKS[key] = []
        # ids are reused after death: forget the entry the moment the node dies
        weakref.finalize(node, HOOKS.pop, key, None)
    hooks.append(hook)
    return RemovableHandle(key, hook)


def run_hooks(node: "Node", g: Any) -> Any:
    """``node``'s final gradient after its hooks: each sees the previous one's result."""
    hooks = HOOKS.get(id(node))
    if hooks:
        for hook in tuple(hooks):  # a hook may remove itself
            new = hook(g)
            if new is not None:
                g = _replacement(node, g, new, hook)
    return g


def _replacement(node: "Node", g: Any, new: Any, hook: Hook) -> Any:
    """A hook's return value as a gradient of the same kind and shape as ``g``."""
    from .engine import Node
    name = getattr(hook, "__name__", type(hook).__name__)
    if isinstance(g, Node):  # create_graph=True: the gradient must stay a node
        if not isinstance(new, Node):
            new = g.__class__(_as_raw(node, g.data, new, name))
        raw = new.data
    else:
        if isinstance(new, Node):
            new = new.data
        new = raw = _as_raw(node, g, new, name)
    if np.shape(raw) != np.shape(g.data if isinstance(g, Node) else g):
        raise ValueError(f"register_hook: hook {name} returned a gradient of shape "
                         f"{np.shape(raw)} for a node of shape {tuple(node.shape)}; "
                         f"it must keep the shape")
    return new


def _as_raw(node: "Node", g: Any, new: Any, name: str) -> Any:
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
