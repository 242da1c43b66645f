"""The smallest tour: a scalar gradient, a tensor gradient, and a check against finite differences.

Run: python examples/quickstart.py
"""
import numpy as np

from tinygrad_memo import Tensor, Value, gradcheck

# Scalars, micrograd style: a is used by two paths, its gradient is the sum of both.
a, b = Value(2.0), Value(-3.0)
y = (a * b + a).tanh()
y.backward()
print(f"y = {y.data:.4f}   dy/da = {a.grad:.4f}   dy/db = {b.grad:.4f}")

# Tensors: a linear layer and a softmax cross-entropy, NumPy broadcasting included.
rng = np.random.default_rng(0)
x = Tensor(rng.normal(size=(4, 3)))
W = Tensor(rng.normal(size=(3, 2)), requires_grad=True)
bias = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
targets = np.array([0, 1, 1, 0])
loss = -(x @ W + bias).log_softmax()[np.arange(4), targets].mean()
loss.backward()
print(f"loss = {loss.item():.4f}   |dW| = {np.linalg.norm(W.grad):.4f}   db = {bias.grad}")

# Trust, but verify: the engine's gradient against central differences (float64 inputs).
W64 = Tensor(W.data.astype(np.float64), requires_grad=True)
ok = gradcheck(lambda w: (Tensor(x.data.astype(np.float64)) @ w).tanh().sum(), [W64])
print("gradcheck:", "passed" if ok else "FAILED")
