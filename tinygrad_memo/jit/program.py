"""A traced `Graph` written out as one Python function: the forward ops in the order they
ran, then the memo loop unrolled — each local derivative one line, each node's gradient a
local variable that its contributions are summed into.

The code is generated from the op table, never from a second table of derivatives: each
op's forward and each vjp is run once on symbolic operands (`source.Expr` for floats,
`source.Arr` for arrays) and what they did is written down; an op they cannot follow is
called by name instead. The order is eager backprop's own (`engine.toposort`, inputs in
order), so every sum is added up in the same order: the traced step gives eager's
numbers bit for bit.
"""
from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Callable

import numpy as np

from ..core.broadcast import fit, sum_to
from ..core.engine import Node, _accumulated
from .source import INFIX, Arr, Expr, Source, Untraceable
from .trace import Graph, Leaf


@dataclass
class Program:
    """A compiled step: ``run(inputs, params)`` returns fn's result and accumulates
    ``.grad``; ``source`` is its text; ``ops`` what it applies, for ``check=True``."""

    source: str
    run: Callable[[list, list], Any]
    params: list[Node]
    signature: tuple
    ops: list[tuple[str, str]]
    scalar: bool
    checked: bool = False  # has a replay been compared with an eager run yet
    # one replay at a time: a Tensor program's buffers are shared by all its calls
    lock: threading.Lock = field(default_factory=threading.Lock)

    def params_changed(self) -> bool:
        """Whether a parameter's shape, dtype or requires_grad changed since the trace (the
        program's buffers are made for those): then the step is traced again."""
        return not self.scalar and _param_signature(self.params) != self.signature

    def hooked(self) -> Node | None:
        """A parameter that has a gradient hook now (hooks are not replayed)."""
        if any(map(_HOOKS, self.params)):
            return next(p for p in self.params if p._hooks is not None)
        return None


_HOOKS = attrgetter("_hooks")


def _param_signature(params: list[Node]) -> tuple:
    sig = []  # (a loop, not a generator: 0.84 -> 0.64 us for six parameters)
    for p in params:
        sig.append((p.data.shape, p.data.dtype, p.requires_grad))
    return tuple(sig)


def compile_graph(graph: Graph) -> Program:
    """Write ``graph`` as source, compile it, and return the `Program`."""
    writer = _Writer(graph)
    text = writer.write()
    namespace = dict(writer.src.names)
    exec(compile(text, f"<jit program {writer.name}>", "exec"), namespace)
    params = [leaf.ref for leaf in writer.params]
    sig = () if graph.scalar else _param_signature(params)
    ops = [(s.op.name, repr(s.ctx) if graph.scalar else _ctx_sig(s.ctx)) for s in graph.steps]
    return Program(text, namespace["program"], params, sig, ops, graph.scalar)


def _ctx_sig(ctx: Any) -> str:
    """A ctx as text for comparing two traces (arrays by shape and dtype only)."""
    if isinstance(ctx, tuple):
        return "(" + ", ".join(_ctx_sig(c) for c in ctx) + ")"
    if isinstance(ctx, np.ndarray):
        return f"array{ctx.shape}{ctx.dtype}"
    return repr(ctx)


_count = [0]


class _Writer:
    """Writes one program: names for every value and gradient, then the lines."""

    def __init__(self, graph: Graph) -> None:
        self.graph, self.src = graph, Source()
        self.scalar = graph.scalar
        _count[0] += 1
        self.name = _count[0]
        self.params: list[Leaf] = []
        self.head: list[str] = []
        self.value: dict[tuple[str, int], Any] = {}   # ("op"|"leaf", i) -> text or Arr
        self.grad_name: dict[tuple[str, int], str] = {}
        self.grad: dict[tuple[str, int], Any] = {}    # gradients so far (Arr in array mode)
        self.templates: dict[tuple, str] = {}

    # -- names ---------------------------------------------------------------------------
    def leaf_names(self) -> None:
        slots: dict[int, str] = {}
        for key, s in self.graph.arrays.items():  # arrays passed in may appear in a ctx
            slots[s] = f"x{s}"
            self.head.append(f"x{s} = I[{s}]" if self.graph.kinds[s] == "A" else f"x{s} = I[{s}].data")
            self.src.inputs[key] = f"x{s}"
        for j, leaf in enumerate(self.graph.leaves):
            ref = ("leaf", j)
            if leaf.slot is not None:
                s = leaf.slot
                if s not in slots:
                    slots[s] = f"x{s}"
                    data = f"I[{s}]" if self.graph.kinds[s] == "A" else f"I[{s}].data"
                    self.head.append(f"x{s} = {data}")
                    self.src.inputs[id(leaf.data)] = f"x{s}"
                name, gname = slots[s], f"gx{s}"
                target = f"I[{s}]"
            elif leaf.is_param:
                k = len(self.params)
                self.params.append(leaf)
                name, gname, target = f"p{k}", f"gp{k}", f"P[{k}]"
                self.head.append(f"{name} = P[{k}].data")
            else:  # a constant: its value, frozen
                name, gname, target = (self.src.literal(leaf.data) if self.scalar
                                       else self.src.bind(leaf.data, "c")), "", ""
            self.value[ref] = name if self.scalar else Arr(name, leaf.data, self.src)
            if self.graph.leaf_needs(j):
                self.grad_name[ref] = gname
                self.targets.append((ref, target))

    # -- the program ----------------------------------------------------------------------
    def write(self) -> str:
        g = self.graph
        self.targets: list[tuple[tuple[str, int], str]] = []
        self.leaf_names()
        for k, step in enumerate(g.steps):
            self.forward(k, step)
        root = ("op", g.root)
        out = self.value[root]
        self.seed(root)
        for k in g.backward:
            if g.needs[k]:
                self.backward(k)
        tail = self.finish_grads()
        if self.scalar:
            ret = out
        else:
            ret = self.given(out)[0]
        body = self.head + self.src.lines + tail + [f"return {ret}"]
        if not self.scalar:
            body = _reuse_buffers(body, self.src)
        return "def program(I, P):\n" + "\n".join("    " + line for line in body) + "\n"

    def forward(self, k: int, step: Any) -> None:
        xs = [self.value[r] for r in step.inputs]
        name = f"v{k}"
        if self.scalar:
            if all(_is_literal(x) for x in xs):  # constants only: folded at trace time
                self.value[("op", k)] = self.src.literal(step.data)
                return
            f = step.op.scalar
            if f in INFIX:
                expr = f"{xs[0]} {INFIX[f]} {xs[1]}"
            elif f.__name__ == "neg":
                expr = f"-{xs[0]}"
            else:
                args = xs + ([self.src.literal(step.ctx)] if step.ctx is not None else [])
                expr = f"{self.src.bind(f, step.op.name)}({', '.join(args)})"
            self.src.emit(f"{name} = {expr}")
            self.value[("op", k)] = name
            return
        args = xs + ([step.ctx] if step.ctx is not None else [])
        res = self.attempt(lambda: step.op.array(*args), step.data)
        if res is None:
            f = self.src.bind(step.op.array, step.op.name)
            asarray = self.src.bind(np.asarray, "asarray")
            texts = [x.text for x in xs] + ([self.src.literal(step.ctx)] if step.ctx is not None else [])
            line = self.src.emit(f"{name} = {asarray}({f}({', '.join(texts)}))")
            res = Arr(name, np.asarray(step.data), self.src, line)
        self.value[("op", k)] = self.rename(res, name)

    def attempt(self, run: Callable[[], Any], expect: Any) -> Arr | None:
        """``run()`` on symbolic arrays, kept only if it gives exactly ``expect``."""
        mark = len(self.src.lines)
        try:
            res = run()
            ok = isinstance(res, Arr) and _same(res.value, expect)
        except (Untraceable, TypeError, ValueError, IndexError, AttributeError):  # (a method Arr lacks)
            ok = False
        if not ok:
            del self.src.lines[mark:]
            return None
        return res

    def rename(self, res: Arr, name: str) -> Arr:
        """Give the last line's result the value's own name (v3 rather than t17)."""
        last = len(self.src.lines) - 1
        if res.line == last and res.line >= 0:
            n = len(res.text)
            self.src.lines[last] = name + self.src.lines[last][n:]
            if last in self.src.alloc:
                self.src.alloc[last] = name + self.src.alloc[last][n:]
            return Arr(name, res.value, self.src, res.line, res.fresh)
        line = self.src.emit(f"{name} = {res.text}")
        return Arr(name, res.value, self.src, None if res.line is None else line)

    def seed(self, root: tuple[str, int]) -> None:
        g = self.graph
        name = f"g{g.root}"
        if self.scalar:
            self.src.emit(f"{name} = 1.0")
            self.grad[root] = name
        else:
            ones = np.ones_like(np.asarray(g.steps[g.root].data))
            self.grad[root] = Arr(self.src.bind(ones, "seed"), ones, self.src)
        self.grad_name[root] = name

    def backward(self, k: int) -> None:
        g = self.graph
        step = g.steps[k]
        me = ("op", k)
        gk, out = self.grad[me], self.value[me]
        xs = [self.value[r] for r in step.inputs]
        for i, ref in enumerate(step.inputs):
            kind, j = ref
            if not (g.needs[j] if kind == "op" else g.leaf_needs(j)):
                continue
            if self.scalar:
                self.add_scalar(ref, self.scalar_vjp(step, i, [gk, out, *xs]))
            else:
                self.add_array(ref, self.array_vjp(step, i, gk, out, xs))

    # -- floats ------------------------------------------------------------------------------
    def scalar_vjp(self, step: Any, i: int, names: list[str]) -> str:
        """The local derivative as an expression, from a template made once per op and input."""
        key = (step.op, i, step.ctx)
        t = self.templates.get(key)
        if t is None:
            syms = [Expr(f"{{{n}}}", self.src) for n in range(len(names))]
            try:
                res = step.op.vjps[i](syms[0], syms[1], step.ctx, *syms[2:])
                if not isinstance(res, Expr):
                    raise Untraceable("not an expression")
                t = res.text[1:-1] if res.text.startswith("(") and _balanced(res.text[1:-1]) else res.text
            except (Untraceable, TypeError, ValueError, AttributeError):
                f = self.src.bind(step.op.vjps[i], f"{step.op.name}_vjp{i}")
                args = ["{0}", "{1}", self.src.literal(step.ctx)] + [f"{{{n}}}" for n in range(2, len(names))]
                t = f"{f}({', '.join(args)})"
            self.templates[key] = t
        return t.format(*names)

    def add_scalar(self, ref: tuple[str, int], expr: str) -> None:
        """``memo[ref] += expr``. A first gradient that is just another variable (add's vjp
        hands g on) is not copied: the name is shared until a second path adds to it.
        (On micrograd's moons step: 130,697 lines instead of 189,204, faster to compile and run.)"""
        name = self.grad_name.get(ref) or self.grad_name.setdefault(ref, f"g{ref[1]}")
        prev = self.grad.get(ref)
        if prev is None:
            if expr.isidentifier():
                self.grad[ref] = expr
                return
            self.src.emit(f"{name} = {expr}")
        elif prev == name:
            self.src.emit(f"{name} += {expr}")
        else:  # the shared variable belongs to another node: this sum gets its own
            self.src.emit(f"{name} = {prev} + {expr}")
        self.grad[ref] = name

    # -- arrays ------------------------------------------------------------------------------
    def array_vjp(self, step: Any, i: int, g: Arr, out: Arr, xs: list[Arr]) -> Arr:
        return self.fitted(self.local_vjp(step, i, g, out, xs), xs[i], step.op, i)

    def fitted(self, local: Arr, x: Arr, op: Any, i: int) -> Arr:
        """The engine's `fit` of a local derivative to its input, written down where it does
        something (a sum over the axes the op broadcast, a cast to the input's dtype)."""
        want = np.asarray(x.value)
        like = np.broadcast_to(np.zeros((), want.dtype), want.shape)  # its shape and dtype
        value = fit(local.value, like, op, i)
        if value is local.value:
            return local

        def inline() -> Arr:  # the same sum and cast on symbolic arrays: one NumPy call each
            s = local if local.shape == want.shape else sum_to(local, want.shape)
            return s if s.dtype == want.dtype else s.astype(want.dtype)
        res = self.attempt(inline, value)
        if res is not None:
            return res
        args = [local.text, self.src.bind(like, "like"), self.src.bind(op, op.name), str(i)]
        name = self.src.fresh("d")
        line = self.src.emit(f"{name} = {self.src.bind(fit, 'fit')}({', '.join(args)})")
        return Arr(name, value, self.src, line, True)

    def local_vjp(self, step: Any, i: int, g: Arr, out: Arr, xs: list[Arr]) -> Arr:
        vjp = step.op.vjps[i]
        expect = vjp(g.value, out.value, step.ctx, *[x.value for x in xs])
        self.src.guards = []
        try:
            res = self.attempt(lambda: vjp(g, out, step.ctx, *xs), expect)
        finally:
            guards, self.src.guards = self.src.guards, None
        if res is not None and not guards:
            return res
        f = self.src.bind(vjp, f"{step.op.name}_vjp{i}")
        name = self.src.fresh("d")
        args = [g.text, out.text, self.src.literal(step.ctx)] + [x.text for x in xs]
        call = f"{f}({', '.join(args)})"
        if res is not None:
            # The vjp branched on a value (keep_where: "did the product make a NaN?"): its
            # lines follow the branch the trace took, the vjp itself the other one. Measured
            # on the bench's traced MLP step at batch 256 (its two ReLUs' vjps were called
            # by name, two fresh (256, 128) arrays each), against the NumPy floor in one
            # process: 0.996x-1.016x -> 0.984x-1.002x.
            test = " or ".join(text if not taken else f"not {text}" for text, taken in guards)
            self.src.emit(f"{name} = {call} if {test} else {res.text}")
            return Arr(name, res.value, self.src)
        line = self.src.emit(f"{name} = {call}")
        given = [g.value, out.value, *[x.value for x in xs]]
        fresh = isinstance(expect, np.ndarray) and not any(
            isinstance(a, np.ndarray) and np.may_share_memory(expect, a) for a in given)
        return Arr(name, expect, self.src, line, fresh)

    def add_array(self, ref: tuple[str, int], local: Arr) -> None:
        prev = self.grad.get(ref)
        if prev is None:
            self.grad[ref] = local
            return
        name = self.grad_name.get(ref) or self.grad_name.setdefault(ref, f"g{ref[1]}")
        value = prev.value + local.value
        if prev.line is not None and prev.text == name and prev.line in self.src.alloc:
            buf = self.src.lines[prev.line].rsplit(", ", 1)[1][:-1]  # accumulate in place
        else:
            buf = self.src.fresh("B")
            self.src.buffers[buf] = self.src.names[buf] = np.empty_like(np.asarray(value))
        add = self.src.bind(np.add, "add")
        line = self.src.emit(f"{name} = {add}({prev.text}, {local.text}, {buf})")
        self.src.alloc[line] = f"{name} = {add}({prev.text}, {local.text})"
        self.grad[ref] = Arr(name, value, self.src, line)

    def given(self, a: Arr) -> tuple[str, bool]:
        """``a`` as an array the caller may keep (its line made to allocate, or a copy), and
        whether the program itself makes that ndarray afresh at every call, rather than a
        vjp called by name whose result was only seen to be fresh at trace time (or a NumPy
        scalar, which a full reduction gives)."""
        if a.fresh:
            return a.text, False
        if a.line is not None and a.line in self.src.alloc:
            self.src.lines[a.line] = self.src.alloc.pop(a.line)
            return a.text, np.ndim(a.value) > 0  # (0-d: NumPy's allocating call gives a scalar)
        return f"{self.src.bind(np.array, 'array')}({a.text})", True

    def finish_grads(self) -> list[str]:
        """The leaves' ``.grad += g``. A Tensor gradient that the program makes afresh, in
        the leaf's dtype, for this leaf alone is taken over inline, which is what eager's
        `engine._own` would decide for it; any other goes through `engine._accumulated`, which
        checks at run time. (6 parameters inline: the bench's traced MLP step at batch 16 went from
        1.05x-1.12x to 1.02x-1.03x the NumPy floor.)"""
        tail: list[str] = []  # (a second leaf given the same array gets a copy: see `given`)
        for ref, target in self.targets:
            g = self.grad.get(ref)
            if g is None:  # no path from the result to this leaf
                continue
            if self.scalar:
                tail.append(f"{target}.grad += {g}")
                continue
            text, made = self.given(g)
            if made and g.dtype == self.value[ref].dtype:
                tail.append(f"{target}.grad = {text} if {target}.grad is None else {target}.grad + {g.text}")
            else:  # eager's own rule, at run time (engine._accumulated)
                self.src.bind(_accumulated, "accumulated")
                if "taken = set()" not in self.head:
                    self.head.insert(0, "taken = set()")
                tail.append(f"{target}.grad = accumulated({target}, {text}, taken)")
        return tail


_BUFFERED = re.compile(r"(\w+) = (\w+)\((.*), (?:out=)?(B\d+)\)$")  # name = f(args, B7)
_NAME = re.compile(r"\b[A-Za-z_]\w*\b")


def _reuse_buffers(lines: list[str], src: Source) -> list[str]:
    """An elementwise line writes into the buffer of an operand that no other line reads
    (the bias add into its matmul's result, as ``z += b`` does by hand), and buffers that no
    line names any more are dropped.

    An operand qualifies only if its name appears in exactly two lines, the one that made
    it in a buffer and this one, so nothing else reads it, views it or is its alias
    (a view, a guard's fallback and a later use all name it). The buffer must have the
    result's shape and dtype. Measured on the bench's traced MLP step at batch 256 (its
    three bias adds), against the NumPy floor: 1.00x-1.01x -> 0.98x in three bench runs
    (the 1,000-op chain 2.30x-2.37x -> 2.23x-2.30x).
    """
    uses = Counter(name for line in lines for name in set(_NAME.findall(line)))
    holder: dict[str, str] = {}  # a value made into a buffer -> that buffer
    out = []
    for line in lines:
        m = _BUFFERED.match(line.strip())
        if m:
            name, fn, args, buf = m.groups()
            f = src.names.get(fn)
            if isinstance(f, np.ufunc) and f.signature is None and "=" not in args:
                for arg in _NAME.findall(args):
                    held = holder.get(arg)
                    if (held is not None and uses[arg] == 2 and held != buf
                            and src.buffers[held].shape == src.buffers[buf].shape
                            and src.buffers[held].dtype == src.buffers[buf].dtype):
                        at = line.rindex(buf)  # (the out= buffer is the last argument)
                        line = line[:at] + held + line[at + len(buf):]
                        buf = held
                        break
            holder[name] = buf
        out.append(line)
    named = {name for line in out for name in _NAME.findall(line)}
    for buf in [b for b in src.buffers if b not in named]:
        del src.buffers[buf], src.names[buf]
    return out


def _is_literal(x: str) -> bool:
    return not x[:1].isalpha() or x in ("inf", "ninf", "nan")


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
