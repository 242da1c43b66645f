"""Per-op overhead: a 1,000-op elementwise chain on shape (8,), and broadcast add + sum.

The chain measures what a framework adds to each tiny op (next to NumPy's forward alone);
broadcast add + sum measures the summing-back of a broadcast gradient (next to the floor).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .harness import FLOOR, OURS, peer, setup_torch


def op_chain_cases(n_ops: int = 1000, shape: tuple[int, ...] = (8,),
                   only: str | None = None) -> dict[str, Callable]:
    """fwd+bwd of ``n_ops`` elementwise ops cycling through x*c, x+b, tanh(x), x*w.

    ``b`` and ``w`` are leaves that need a gradient (each used n_ops/4 times, so their
    gradients accumulate over many paths); c is a Python float. Plus plain NumPy forward.
    """
    rng = np.random.default_rng(2)
    x0, b0, w0 = (rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(3))
    c = 1.0001
    cases: dict[str, Callable] = {}

    def numpy_fwd() -> Any:
        y = x0
        for i in range(n_ops):
            k = i & 3
            y = y * c if k == 0 else y + b0 if k == 1 else np.tanh(y) if k == 2 else y * w0
        return y.sum()
    want = lambda name: only is None or only == name  # noqa: E731
    if want(FLOOR):
        cases["numpy forward only"] = numpy_fwd

    from ...core.tensor import Tensor
    x, b, w = Tensor(x0, requires_grad=True), Tensor(b0, requires_grad=True), Tensor(w0, requires_grad=True)

    def ours() -> Any:
        y = x
        for i in range(n_ops):
            k = i & 3
            y = y * c if k == 0 else y + b if k == 1 else y.tanh() if k == 2 else y * w
        y.sum().backward()
        x.grad = b.grad = w.grad = None
    if want(OURS):
        cases[OURS] = ours

    torch = setup_torch() if want("torch") else None
    if torch is not None:
        tx, tb, tw = (torch.tensor(a, requires_grad=True) for a in (x0, b0, w0))

        def torch_chain() -> Any:
            y = tx
            for i in range(n_ops):
                k = i & 3
                y = y * c if k == 0 else y + tb if k == 1 else torch.tanh(y) if k == 2 else y * tw
            y.sum().backward()
            tx.grad = tb.grad = tw.grad = None
        cases["torch"] = torch_chain

    if want("autograd") and peer("autograd") is not None:
        import autograd.numpy as anp
        from autograd import grad as agrad

        def f(args: list[Any]) -> Any:
            y, bb, ww = args
            for i in range(n_ops):
                k = i & 3
                y = y * c if k == 0 else y + bb if k == 1 else anp.tanh(y) if k == 2 else y * ww
            return anp.sum(y)
        g = agrad(f)
        cases["autograd"] = lambda: g([x0, b0, w0])

    if want("mygrad") and peer("mygrad") is not None:
        import mygrad as mg
        mx, mb, mw = (mg.tensor(a) for a in (x0, b0, w0))

        def mygrad_chain() -> Any:
            y = mx
            for i in range(n_ops):
                k = i & 3
                y = y * c if k == 0 else y + mb if k == 1 else mg.tanh(y) if k == 2 else y * mw
            mg.sum(y).backward()
        cases["mygrad"] = mygrad_chain
    return cases


def broadcast_cases(shape: tuple[int, int] = (256, 512),
                    only: str | None = None) -> dict[str, Callable]:
    """``(x + b).sum()`` with x (m, n) and b (n,) both needing gradients: fwd + bwd."""
    want = lambda name: only is None or only == name  # noqa: E731
    rng = np.random.default_rng(3)
    x0 = rng.normal(size=shape).astype(np.float32)
    b0 = rng.normal(size=shape[1:]).astype(np.float32)
    cases: dict[str, Callable] = {}

    def floor() -> Any:
        out = x0 + b0
        s = out.sum()
        g = np.ones_like(out)          # d sum / d out
        gx, gb = g, g.sum(axis=0)      # add: x's shape matches, b's is summed back
        return s, gx, gb
    if want(FLOOR):
        cases[FLOOR] = floor

    from ...core.tensor import Tensor
    x, b = Tensor(x0, requires_grad=True), Tensor(b0, requires_grad=True)

    def ours() -> Any:
        (x + b).sum().backward()
        x.grad = b.grad = None
    if want(OURS):
        cases[OURS] = ours

    torch = setup_torch() if want("torch") else None
    if torch is not None:
        tx, tb = torch.tensor(x0, requires_grad=True), torch.tensor(b0, requires_grad=True)

        def torch_bc() -> Any:
            (tx + tb).sum().backward()
            tx.grad = tb.grad = None
        cases["torch"] = torch_bc

    if want("autograd") and peer("autograd") is not None:
        import autograd.numpy as anp
        from autograd import grad as agrad
        g = agrad(lambda a: anp.sum(a[0] + a[1]))
        cases["autograd"] = lambda: g([x0, b0])

    if want("mygrad") and peer("mygrad") is not None:
        import mygrad as mg
        mx, mb = mg.tensor(x0), mg.tensor(b0)
        cases["mygrad"] = lambda: mg.sum(mx + mb).backward()
    return cases
