"""The package's shape: imports flow one way (app -> libraries -> core), never in a circle,
and the core imports with NumPy alone."""
import ast
import pathlib
import re
import subprocess
import sys
import textwrap

import tinygrad_memo

ROOT = pathlib.Path(tinygrad_memo.__file__).parent
PKG = "tinygrad_memo"


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """Every project module ``name`` imports, at top level or inside a function."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [(mod, a.name) for a in node.names]
        else:
            continue
        for mod, attr in targets:
            if not mod.startswith(PKG):
                continue
            if attr and f"{mod}.{attr}" in MODULES:
                found.add(f"{mod}.{attr}")
            elif mod in MODULES:
                found.add(mod)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def layer(name: str) -> int:
    """0: core, 1: the libraries on it, 2: the application; the package root is public names."""
    if name.startswith(f"{PKG}.core"):
        return 0
    if name.startswith(f"{PKG}.app") or name == f"{PKG}.__main__":  # python -m tinygrad_memo
        return 2
    return 1


def test_the_walk_sees_the_package():
    assert f"{PKG}.core.engine" in GRAPH[f"{PKG}.core.value"]
    assert f"{PKG}.core.serialize" not in MODULES and f"{PKG}.nn.serialize" in GRAPH[f"{PKG}.nn.module"]


def test_no_module_imports_a_module_that_imports_it_back():
    """No import cycle, found by depth-first search; the package root (public names only)
    is left out: modules may read ``__version__`` from it, and it imports the libraries."""
    graph = {n: sorted(m for m in deps if m != PKG) for n, deps in GRAPH.items() if n != PKG}
    done: set[str] = set()
    for start in graph:
        path, stack = [start], [iter(graph[start])]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                done.add(path.pop())
                stack.pop()
            elif child in path:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(child):] + [child]))
            elif child not in done:
                path.append(child)
                stack.append(iter(graph[child]))


def test_imports_flow_from_the_app_to_the_libraries_to_the_core():
    upward = [(a, b) for a, deps in GRAPH.items() for b in deps
              if a != PKG and b != PKG and layer(b) > layer(a)]
    assert upward == []
    assert all(layer(b) == 0 for b in GRAPH[f"{PKG}.core.engine"])


def test_the_core_imports_with_numpy_alone():
    code = textwrap.dedent("""
        import sys
        BLOCKED = {"graphviz", "graphviz_pure", "hypothesis", "tqdm", "matplotlib"}
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"{name} is blocked in this test")
        sys.meta_path.insert(0, Block())
        import tinygrad_memo
        t = tinygrad_memo.Tensor([1.0, 2.0], requires_grad=True)
        (t * t).sum().backward()
        v = tinygrad_memo.Value(3.0)
        (v * v).backward()
        print(t.grad.tolist(), v.grad)
        try:
            tinygrad_memo.viz
        except ImportError as exc:
            print("viz:", exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "[2.0, 4.0] 6.0"
    assert "viz: graphviz is blocked in this test" in out.stdout


def drawn_graph(page: pathlib.Path) -> dict[str, set[str]]:
    """The "who imports whom" block of a doc page: ``name -> a, b`` per line (``-``: none)."""
    block = re.search(r"```\n# who imports whom[^\n]*\n(.*?)```", page.read_text(), re.S)
    assert block, f"{page.name} has no '# who imports whom' block"
    drawn = {}
    for line in block.group(1).splitlines():
        name, _, deps = (part.strip() for part in line.partition("->"))
        drawn[name] = set() if deps == "-" else {d.strip() for d in deps.split(",")}
    return drawn


def real_graph() -> dict[str, set[str]]:
    """Package by package (the root left out), plus module by module inside the core."""
    def unit(name: str) -> str:
        return name.split(".")[1]
    graph: dict[str, set[str]] = {}
    for a, deps in GRAPH.items():
        if a == PKG:
            continue
        graph.setdefault(unit(a), set()).update(unit(b) for b in deps if b != PKG and unit(b) != unit(a))
        if a.startswith(f"{PKG}.core."):
            graph[a.removeprefix(f"{PKG}.")] = {b.removeprefix(f"{PKG}.") for b in deps
                                                 if b.startswith(f"{PKG}.core.")}
    return graph


def test_the_import_diagram_in_the_docs_is_the_real_one():
    assert drawn_graph(ROOT.parent / "docs" / "engine.md") == real_graph()


def test_the_layer_picture_names_every_part_in_its_layer():
    """README.md and docs/engine.md draw the same three layers, and each names every part."""
    pictures = [re.search(r"```\n(app/ .*?)```", (ROOT.parent / page).read_text(), re.S)
                for page in ("README.md", "docs/engine.md")]
    assert all(pictures) and pictures[0].group(1) == pictures[1].group(1)
    rows = {line.split()[0]: {w.rstrip("/:,") for w in line.split()[1:]}
            for line in pictures[0].group(1).splitlines() if line[:1].isalpha()}
    units = {name.split(".")[1] for name in MODULES if name.count(".") >= 1} - {"__main__", "datasets"}
    parts = {"app/": {n.split(".")[2] for n in MODULES if n.startswith(f"{PKG}.app.")},
             "libraries": units - {"app", "core"},
             "core/": {n.split(".")[2] for n in MODULES if n.startswith(f"{PKG}.core.")}}
    for row, names in parts.items():
        assert names <= rows[row], f"the {row} row does not name {sorted(names - rows[row])}"
