"""makemore, part 3: a character-level language model of names, with BatchNorm, written out.

Karpathy's MLP (after Bengio et al. 2003) on the 32,033 names that ship with the package:
each name is read three characters at a time, and the model learns to predict the next
one. Embedding 27 x 10 -> Linear 30 -> 200 -> BatchNorm1d -> tanh -> Linear 200 -> 27,
cross-entropy in nats (log 27 = 3.30 is a uniform guess). AdamW with a cosine schedule
reaches a validation loss of about 2.17 in 5 epochs, then the model writes new names and
we draw the gradient flowing through each layer in one training step.

Run: python examples/makemore.py [OUT_DIR]   (TINYGRAD_MEMO_QUICK=1: 300 steps, for CI)
"""
import os
import sys
import time

import numpy as np

from tinygrad_memo import Tensor, data, nn, no_grad, optim, viz
from tinygrad_memo.core.engine import toposort
from tinygrad_memo.optim.lr_scheduler import CosineAnnealingLR

QUICK = os.environ.get("TINYGRAD_MEMO_QUICK") == "1"
BATCH = 256
rng = np.random.default_rng(0)

# --- the data: (3 previous characters) -> next character, "." marks both ends -----------------
words = data.load_names()                              # ['emma', 'olivia', 'ava', ...]
words = [words[i] for i in rng.permutation(len(words))]
n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
X_train, y_train = data.name_windows(words[:n1], context=3)   # X: (n, 3) int64 indices
X_val, y_val = data.name_windows(words[n1:n2], context=3)
print(f"{len(words):,} names; {len(X_train):,} training and {len(X_val):,} validation examples")
print("first examples:", [("".join(data.NAMES_ALPHABET[i] for i in x), data.NAMES_ALPHABET[t])
                          for x, t in zip(X_train[:4], y_train[:4])])

# --- the model ----------------------------------------------------------------------------------
model = nn.Sequential(
    nn.Embedding(27, 10, seed=rng),           # C: one 10-number vector per character
    nn.Flatten(),                             # (batch, 3, 10) -> (batch, 30)
    nn.Linear(30, 200, bias=False, seed=rng), # no bias: BatchNorm's shift replaces it
    nn.BatchNorm1d(200),                      # batch statistics in training, running ones after
    nn.Tanh(),
    nn.Linear(200, 27, seed=rng))             # logits of the next character
model[5].weight.data *= 0.1                   # start near uniform: first loss ~ log 27
print(f"{model.num_parameters():,} parameters:",
      ", ".join(f"{name} {p.shape}" for name, p in model.named_parameters()))

steps = 300 if QUICK else 5 * -(-len(X_train) // BATCH)  # 5 epochs
optimizer = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
schedule = CosineAnnealingLR(optimizer, T_max=steps, eta_min=5e-4)

# --- training: random mini-batches, as in makemore --------------------------------------------
start = time.perf_counter()
for step in range(steps):
    ix = rng.integers(0, len(X_train), BATCH)
    loss = nn.cross_entropy(model(X_train[ix]), y_train[ix])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
    if step % (steps // 5) == 0:
        print(f"step {step:5d}/{steps}  lr {schedule.get_last_lr()[0]:.4f}  loss {loss.item():.4f}")
print(f"trained in {time.perf_counter() - start:.1f} s")

# --- evaluation: BatchNorm switches to its running mean and variance ---------------------------
model.eval()
with no_grad():
    for name, X, y in (("train", X_train, y_train), ("validation", X_val, y_val)):
        print(f"{name} loss {nn.cross_entropy(model(X), y).item():.4f} nats")

# --- sampling: feed the model its own output until it writes "." ------------------------------
names = []
with no_grad():
    for _ in range(15):
        context, out = [0, 0, 0], ""
        while len(out) < 30:
            p = model(np.array([context])).softmax(axis=1).data[0].astype(np.float64)
            ix = int(rng.choice(27, p=p / p.sum()))
            if ix == 0:
                break
            out += data.NAMES_ALPHABET[ix]
            context = context[1:] + [ix]
        names.append(out)
print("samples:", ", ".join(names))

# --- the gradient flow of one training step, one box per layer -------------------------------
# Run the layers one by one and note which layer made each node of the graph; viz.draw then
# draws one box per layer ("3 BatchNorm1d"), edges as thick as the gradient between them.
model.train()
outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tinygrad_memo_out", "makemore")
os.makedirs(outdir, exist_ok=True)
h, layer_of_node = Tensor(X_train[:32], label="contexts"), {}
for i, layer in enumerate(model):
    h = layer(h)
    for node in toposort(h):
        layer_of_node.setdefault(node, f"{i} {type(layer).__name__}")
loss = nn.cross_entropy(h, y_train[:32])
loss.label = "loss"
path = viz.draw(loss, os.path.join(outdir, "makemore_layers.svg"), group_by=layer_of_node.get,
                title="makemore MLP: gradient flow per layer, one step of 32 examples")
print(f"wrote {path}")
