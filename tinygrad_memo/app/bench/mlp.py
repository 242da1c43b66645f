"""The tensor MLP training step, one per framework, all from the same weights and batch.

A ReLU MLP with mean cross-entropy and a plain SGD update, written in each framework's
own idiom, next to the NumPy floor: the same forward and backward written out by hand.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .harness import FLOOR, OURS, peer, setup_torch


def mlp_weights(sizes: list[int], seed: int = 0) -> list[np.ndarray]:
    """Float32 weights and biases [W1, b1, W2, b2, ...], uniform in +-1/sqrt(fan-in)."""
    rng = np.random.default_rng(seed)
    out = []
    for nin, nout in zip(sizes[:-1], sizes[1:]):
        bound = 1 / math.sqrt(nin)
        out.append(rng.uniform(-bound, bound, (nin, nout)).astype(np.float32))
        out.append(rng.uniform(-bound, bound, nout).astype(np.float32))
    return out


def mlp_steps(sizes: list[int], batch: int, lr: float = 0.01,
              only: str | None = None) -> dict[str, Callable[[], float]]:
    """One SGD step (ReLU MLP, mean cross-entropy) per available framework, same weights.

    Each returns the step's loss; every framework starts from a copy of the same weights.
    ``only`` builds just that framework (and imports no other).
    """
    want = lambda name: only is None or only == name  # noqa: E731
    rng = np.random.default_rng(1)
    X = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], size=batch)
    rows = np.arange(batch)
    w0 = mlp_weights(sizes)
    steps: dict[str, Callable[[], float]] = {}

    W = [w.copy() for w in w0]

    def floor() -> float:
        acts, h = [X], X
        pre = []
        for i in range(0, len(W) - 2, 2):
            z = h @ W[i] + W[i + 1]
            pre.append(z)
            h = np.maximum(z, 0)
            acts.append(h)
        z = h @ W[-2] + W[-1]
        sh = z - z.max(axis=1, keepdims=True)
        e = np.exp(sh)
        s = e.sum(axis=1, keepdims=True)
        loss = -(sh[rows, y] - np.log(s[:, 0])).mean()
        dz = e / s
        dz[rows, y] -= 1
        dz *= 1.0 / batch
        for i in range(len(W) - 2, -1, -2):
            a = acts[i // 2]
            gw, gb = a.T @ dz, dz.sum(axis=0)
            if i:
                dz = (dz @ W[i].T) * (pre[i // 2 - 1] > 0)
            W[i] -= lr * gw
            W[i + 1] -= lr * gb
        return float(loss)
    if want(FLOOR):
        steps[FLOOR] = floor

    from ...core.tensor import Tensor
    from ...nn import cross_entropy
    P = [Tensor(w.copy(), requires_grad=True) for w in w0]
    x_t = Tensor(X)

    def ours() -> float:
        h = x_t
        for i in range(0, len(P) - 2, 2):
            h = (h @ P[i] + P[i + 1]).relu()
        loss = cross_entropy(h @ P[-2] + P[-1], y)  # PyTorch's F.cross_entropy, as torch_step
        loss.backward()
        for p in P:
            p.data -= lr * p.grad
            p.grad = None
        return loss.item()
    if want(OURS):
        steps[OURS] = ours

    torch = setup_torch() if want("torch") else None
    if torch is not None:
        TP = [torch.tensor(w, requires_grad=True) for w in w0]
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        F = torch.nn.functional

        def torch_step() -> float:
            h = Xt
            for i in range(0, len(TP) - 2, 2):
                h = torch.relu(h @ TP[i] + TP[i + 1])
            loss = F.cross_entropy(h @ TP[-2] + TP[-1], yt)
            loss.backward()
            with torch.no_grad():
                for p in TP:
                    p -= lr * p.grad
                    p.grad = None
            return loss.item()
        steps["torch"] = torch_step

    if want("autograd") and peer("autograd") is not None:
        import autograd.numpy as anp
        from autograd import value_and_grad
        AW = [w.copy() for w in w0]

        def logsumexp(z: Any) -> Any:
            """Over the last axis, kept (autograd's own is in autograd.scipy, which needs SciPy)."""
            m = anp.max(z, axis=1, keepdims=True)
            return m + anp.log(anp.sum(anp.exp(z - m), axis=1, keepdims=True))

        def loss_fn(params: list[Any]) -> Any:
            h = X
            for i in range(0, len(params) - 2, 2):
                h = anp.maximum(anp.dot(h, params[i]) + params[i + 1], 0)
            z = anp.dot(h, params[-2]) + params[-1]
            logp = z - logsumexp(z)
            return -anp.mean(logp[rows, y])
        loss_and_grad = value_and_grad(loss_fn)

        def autograd_step() -> float:
            loss, gs = loss_and_grad(AW)
            for p, g in zip(AW, gs):
                p -= lr * g
            return float(loss)
        steps["autograd"] = autograd_step

    if want("mygrad") and peer("mygrad") is not None:
        import mygrad as mg
        MW = [mg.tensor(w.copy()) for w in w0]

        def mygrad_step() -> float:
            h = X
            for i in range(0, len(MW) - 2, 2):
                h = mg.nnet.activations.relu(mg.matmul(h, MW[i]) + MW[i + 1])
            loss = mg.nnet.losses.softmax_crossentropy(mg.matmul(h, MW[-2]) + MW[-1], y)
            loss.backward()
            for p in MW:
                p.data -= lr * p.grad
            return loss.item()
        steps["mygrad"] = mygrad_step
    return steps
