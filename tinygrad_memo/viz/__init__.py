"""Gradient-flow pictures: the graph below a Value or Tensor as Graphviz, drawn to see backprop.

Why this module exists: backpropagation is easiest to believe when you can see it. Every
value becomes a box (its label, its data or shape, and d(root)/d(value)), every op a small
oval, and every edge is drawn as thick and as dark as the gradient flowing back along it
(log scale, with a legend). A value reached by several paths shows each path's share on its
edges and their sum in its box: the memo at work. Zero gradients (a dead ReLU) are drawn
dashed orange, NaN/inf ones bold red, so the pathologies stand out.

Two views:
  * the full view (default): one box per value. Readable up to a few hundred nodes, so
    `max_nodes` guards it with a clear error rather than a picture nobody can read;
  * the collapsed view (``group_by="layer"``): one box per module/layer, found from the
    parameters' labels (``layers.0.weight`` -> ``layers.0``), with edges carrying the total
    gradient between layers. Made for scalar MLPs over a batch (tens of thousands of nodes).

Gradients are computed here, from ``root``, with the engine's own memo loop
(`tinygrad_memo.core.engine.grad`), so a picture is truthful whatever ``.grad`` holds
(intermediate Tensors included) and drawing never touches any ``.grad``.
Rendering goes through `tinygrad_memo.viz.render`: system ``dot`` when installed, otherwise a
renderer from PyPI, so SVG export and Jupyter display work on a machine without Graphviz.

Modules: `picture` (to_dot, draw, GradientGraph: the Graphviz picture and its rendering),
`flow` (what is drawn: nodes, gradients, labels), `layers` (the collapsed view), `style`
(colours, scale, fonts), `render` (DOT to SVG/PNG without a system Graphviz), `animate`.
"""
from .flow import DEFAULT_MAX_NODES, GraphTooLargeError, layer_of
from .picture import SUPPORTED_FORMATS, GradientGraph, draw, to_dot
from .style import fmt as fmt, size_of as size_of  # the number formats the pictures use
from .animate import animate

__all__ = ["to_dot", "draw", "animate", "GradientGraph", "GraphTooLargeError", "layer_of",
           "SUPPORTED_FORMATS", "DEFAULT_MAX_NODES"]
