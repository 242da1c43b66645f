"""A handwritten-digit classifier on Tensors: the training loop written out in full.

The 8x8 digits ship inside the package (1,797 images, 10 classes). An MLP 64 -> 128 -> 10
with ReLU, cross-entropy and Adam reaches about 97-99% test accuracy in well under a second.
The loop below is what `tinygrad_memo.app.train.fit` (and `tinygrad-memo demo`) run.

Run: python examples/digits.py       (TINYGRAD_MEMO_QUICK=1: 3 epochs, for CI)
"""
import os
import tempfile
import time

import numpy as np

from tinygrad_memo import data, nn, no_grad, optim

QUICK = os.environ.get("TINYGRAD_MEMO_QUICK") == "1"
EPOCHS = 3 if QUICK else 30

X, y = data.load_digits()                      # X: (1797, 64) float32 in [0, 1], y: int64
X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_fraction=0.2, seed=0)
model = nn.MLP(64, [128, 10], activation="relu", seed=0)
optimizer = optim.Adam(model.parameters(), lr=1e-2)
print(model, f"{sum(p.size for p in model.parameters()):,} parameters")

start = time.perf_counter()
for epoch in range(EPOCHS):
    total = 0.0
    for xb, yb in data.batches(X_train, y_train, batch_size=64, seed=epoch):
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(xb), yb)   # logits (64, 10) vs integer labels
        loss.backward()                          # the memo loop: one vjp per edge
        optimizer.step()
        total += loss.item() * len(xb)
    if epoch % 5 == 0 or epoch == EPOCHS - 1:
        print(f"epoch {epoch:2d}  train loss {total / len(X_train):.4f}")
print(f"trained in {time.perf_counter() - start:.1f} s")

with no_grad():                                  # no graph needed to evaluate
    predicted = model(X_test).data.argmax(axis=1)
print(f"test accuracy {100 * np.mean(predicted == y_test):.1f}%")

# A model file is an .npz of named arrays plus its constructor config (never a pickle).
with tempfile.TemporaryDirectory() as tmp:
    path = model.save(os.path.join(tmp, "digits.npz"))
    again = nn.MLP.load(path)
    with no_grad():
        assert np.array_equal(again(X_test).data.argmax(axis=1), predicted)
    print(f"saved and reloaded {again!r}: same predictions")

# One mistake, drawn in ASCII: which digits does the model confuse?
wrong = np.flatnonzero(predicted != y_test)
if wrong.size:
    i = wrong[0]
    print(f"\ntest image {i}: label {y_test[i]}, predicted {predicted[i]}")
    for row in X_test[i].reshape(8, 8):
        print("".join(" .:-=+*#%@"[min(int(v * 10), 9)] * 2 for v in row))
