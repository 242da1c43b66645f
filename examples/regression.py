"""Regression: an MLP learns y = sin(3x) from 200 noisy samples, with mean squared error.

Shows the other kind of loss (`nn.mse_loss`, targets of the same shape as the predictions),
a tanh network for a smooth function, and a learning-rate schedule set between steps.

Run: python examples/regression.py       (TINYGRAD_MEMO_QUICK=1: 200 steps, for CI)
"""
import math
import os

import numpy as np

from tinygrad_memo import Tensor, nn, no_grad, optim

QUICK = os.environ.get("TINYGRAD_MEMO_QUICK") == "1"
STEPS = 200 if QUICK else 2000

rng = np.random.default_rng(0)
x = rng.uniform(-1.5, 1.5, size=(200, 1)).astype(np.float32)
y = (np.sin(3 * x) + rng.normal(scale=0.1, size=x.shape)).astype(np.float32)

model = nn.MLP(1, [32, 32, 1], activation="tanh", seed=0)
optimizer = optim.Adam(model.parameters(), lr=0.01)

for step in range(STEPS):
    optimizer.lr = 0.01 * 0.5 * (1 + math.cos(math.pi * step / STEPS))  # cosine decay
    optimizer.zero_grad()
    loss = nn.mse_loss(model(x), y)              # shapes (200, 1) and (200, 1)
    loss.backward()
    optimizer.step()
    if step % (STEPS // 5) == 0 or step == STEPS - 1:
        print(f"step {step:4d}  mse {loss.item():.4f}")

grid = np.linspace(-1.5, 1.5, 7, dtype=np.float32).reshape(-1, 1)
with no_grad():
    pred = model(Tensor(grid)).data
print("\n     x   sin(3x)  model")
for xi, pi in zip(grid[:, 0], pred[:, 0]):
    print(f"{xi:6.2f}  {math.sin(3 * xi):7.3f}  {pi:6.3f}")
error = float(np.max(np.abs(pred[:, 0] - np.sin(3 * grid[:, 0]))))
print(f"largest error on the grid: {error:.3f} (the noise has std 0.1)")
