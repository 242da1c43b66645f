"""The chain rule two ways: every path on its own (path_grad) vs the memo (backward).

d(out)/d(x) is a sum over the paths from out down to x of the product of the local
derivatives along each path. path_grad walks every path; backward stores each node's
gradient once and evaluates one local derivative per edge.
Run: python examples/paths_vs_memo.py      (TINYGRAD_MEMO_QUICK=1: shallower graphs)
"""
import os
import time

from tinygrad_memo import Value
from tinygrad_memo.memo import (TooManyPathsError, backprop_cost, count_paths, diamond_chain,
                                path_grad, scalar_mlp)

QUICK = os.environ.get("TINYGRAD_MEMO_QUICK") == "1"

# 1. The smallest case: a reaches y by two paths (through a*b and directly).
a, b = Value(2.0), Value(-3.0)
y = (a * b + a).tanh()
(ga, gb), evaluations = path_grad(y, [a, b])
y.backward()
print(f"y = tanh(a*b + a): {count_paths(y, [a])} paths to a, {count_paths(y, [b])} to b")
print(f"  path by path: dy/da = {ga:.6f}, dy/db = {gb:.6f}  ({evaluations} local derivatives)")
print(f"  backward:     dy/da = {a.grad:.6f}, dy/db = {b.grad:.6f}  "
      f"({backprop_cost(y)} local derivatives)")


def ms(fn):
    t0 = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - t0) * 1e3


# 2. A diamond chain, x -> (x*a, x*b) -> sum per level: paths double every level.
print(f"\n{'depth':>5}  {'paths':>7}  {'naive evals':>11}  {'naive ms':>8}  "
      f"{'memo evals':>10}  {'memo ms':>7}")
for depth in range(2, 11 if QUICK else 15, 2):
    out, wrt = diamond_chain(depth)
    ((g_naive,), naive), naive_ms = ms(lambda: path_grad(out, wrt))  # noqa: B023 (called at once)
    _, memo_ms = ms(out.backward)
    assert abs(g_naive - wrt[0].grad) <= 1e-9 * abs(g_naive)
    print(f"{depth:>5}  {count_paths(out, wrt):>7,}  {naive:>11,}  {naive_ms:>8.2f}  "
          f"{backprop_cost(out):>10,}  {memo_ms:>7.3f}")

# 3. Deeper still, the paths are counted (by a memoized pass) and the naive way refused.
out, wrt = diamond_chain(64)
try:
    path_grad(out, wrt)
except TooManyPathsError as exc:
    print(f"\ndepth 64: {exc}")
out.backward()
print(f"depth 64, backward: dout/dx = {wrt[0].grad:.2f} = 1.1**64 "
      f"from {backprop_cost(out)} local derivatives")

# 4. A micrograd-style MLP: the paths to every weight grow by the width per layer.
layers = 5 if QUICK else 7
out, params = scalar_mlp(layers, width=3)
grads, naive = path_grad(out, params)
out.backward()
worst = max(abs(g - p.grad) for g, p in zip(grads, params))
print(f"\nscalar MLP, {layers} layers, {len(params)} parameters: "
      f"{count_paths(out, params):,} paths, {naive:,} local derivatives path by path "
      f"vs {backprop_cost(out)} with the memo (largest difference {worst:.1e})")
