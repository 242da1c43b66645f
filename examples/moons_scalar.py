"""micrograd's moons demo on tinygrad_memo: a scalar MLP of Values, hinge loss + L2, SGD.

The same network, loss and schedule as micrograd's demo.ipynb (2 -> 16 -> 16 -> 1, 337
parameters, 100 full-batch steps with the learning rate decaying from 1.0 to 0.1); it reaches
100% training accuracy. Every weight and every intermediate number is a `Value`, so one step
builds a graph of tens of thousands of nodes, which the memo loop differentiates.

Run: python examples/moons_scalar.py       (TINYGRAD_MEMO_QUICK=1: 10 steps, for CI)
"""
import os
import time

from tinygrad_memo import data, nn, optim

QUICK = os.environ.get("TINYGRAD_MEMO_QUICK") == "1"
STEPS = 10 if QUICK else 100

X, y = data.make_moons(100, noise=0.1, seed=0)
y = y * 2 - 1  # labels -1 / +1 for the hinge loss
model = nn.scalar.MLP(2, [16, 16, 1], seed=1337)
print(model)
print("number of parameters", len(model.parameters()))
optimizer = optim.SGD(model.parameters(), lr=1.0)


def loss():
    """The SVM max-margin loss plus L2 regularization, and the accuracy, on all 100 points."""
    scores = [model(list(map(float, row))) for row in X]
    data_loss = nn.hinge_loss(scores, y)
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    accuracy = sum((yi > 0) == (s.data > 0) for yi, s in zip(y, scores)) / len(y)
    return data_loss + reg_loss, accuracy


start = time.perf_counter()
for k in range(STEPS):
    total_loss, acc = loss()
    optimizer.zero_grad()
    total_loss.backward()
    optimizer.lr = 1.0 - 0.9 * k / 100
    optimizer.step()
    if k % 10 == 0 or k == STEPS - 1:
        print(f"step {k} loss {total_loss.data:.4f}, accuracy {acc * 100:.0f}%")

total_loss, acc = loss()
print(f"final loss {total_loss.data:.4f}, accuracy {acc * 100:.0f}% "
      f"({STEPS} steps in {time.perf_counter() - start:.1f} s)")
