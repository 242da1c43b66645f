"""See backpropagation: gradient-flow pictures of a neuron, a tensor MLP and a whole batch.

Writes SVG files you can open in any browser (no system Graphviz needed):
  neuron.svg      every value and op of micrograd's neuron, edges sized by |gradient|
  mlp.svg         a Tensor MLP and its loss, one box per tensor (norm/min/max of each grad)
  layers.svg      a scalar MLP over a whole batch, one box per layer (thousands of nodes)

Run: python examples/visualize.py [OUT_DIR]      (default ./tinygrad_memo_out/visualize)
"""
import os
import sys
import time

from tinygrad_memo import Tensor, Value, data, nn, viz

QUICK = os.environ.get("TINYGRAD_MEMO_QUICK") == "1"
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tinygrad_memo_out", "visualize")
os.makedirs(out, exist_ok=True)


def timed_draw(root, name, **kwargs):
    start = time.perf_counter()
    path = viz.draw(root, os.path.join(out, name), **kwargs)
    print(f"wrote {path:<45} {os.path.getsize(path):>7,} bytes  {time.perf_counter() - start:.2f} s")


# 1. micrograd's neuron. Labels name the values; the picture computes d(o)/d(node) itself,
#    so draw it before or without calling backward (backward frees the graph by default).
x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")
o = (x1 * w1 + x2 * w2 + b).tanh()
o.label = "o"
timed_draw(o, "neuron.svg", title="tanh(x1*w1 + x2*w2 + b): x2 = 0, so w2 gets no gradient")

# 2. A Tensor MLP: nn gives its parameters labels (layers.0.weight, ...). Intermediate tensors
#    have no .grad after backward, but the picture shows their gradients all the same.
X, y = data.make_moons(16, noise=0.1, seed=0)
model = nn.MLP(2, [8, 8, 2], seed=0)
loss = nn.cross_entropy(model(Tensor(X, label="x")), y)
loss.label = "loss"
graph = viz.to_dot(loss, rankdir="TB", title="Tensor MLP 2-8-8-2, cross-entropy on 16 points")
timed_draw(graph, "mlp.svg")          # draw() also takes a graph made by to_dot

# 3. A scalar MLP over a batch: far too many nodes for one box each ...
points = 8 if QUICK else 32
smodel = nn.scalar.MLP(2, [8, 8, 1], seed=1)
X, y = data.make_moons(points, noise=0.1, seed=0)
scores = [smodel(list(map(float, row))) for row in X]
batch_loss = nn.hinge_loss(scores, 2 * y - 1)
batch_loss.label = "loss"
try:
    viz.to_dot(batch_loss)
except viz.GraphTooLargeError as exc:
    print("full view refused:", str(exc).split(";")[0])
# ... so draw one box per layer (grouped by the labels layers.0..., layers.1..., ...)
timed_draw(batch_loss, "layers.svg", group_by="layer",
           title=f"scalar MLP 2-8-8-1 over {points} points, one box per layer")

# In Jupyter, a graph displays itself inline (no system Graphviz needed):  viz.to_dot(o)
