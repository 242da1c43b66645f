"""The library core: nodes, the op table and the memo loop. Imports nothing but NumPy.

``engine`` (toposort, backprop, grad), ``modes`` (per-thread grad modes), ``hooks``,
``anomaly``, ``ops`` (every primitive's forward and vjp), and the two node types built
on them, ``value.Value`` and ``tensor.Tensor``.
"""
