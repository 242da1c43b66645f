"""docs/tensor.md's op table is generated: it must match the code, links included."""
import importlib.util
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("make_tensor_table", ROOT / "docs" / "make_tensor_table.py")
make_tensor_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_tensor_table)

# the Tensor surface promised in the API contract (second map), each in the table
PROMISED = ("zeros ones full arange linspace eye rand randn randint zeros_like ones_like full_like "
            "manual_seed cat stack where maximum minimum sin cos log1p expm1 square reciprocal "
            "clamp clip leaky_relu gelu silu softplus min argmax argmin var std logsumexp prod "
            "cumsum all any view squeeze unsqueeze flatten expand permute flip repeat split chunk "
            "gather pad").split()


def test_the_table_is_up_to_date():
    text = make_tensor_table.PAGE.read_text()
    assert make_tensor_table.page_with_table(text) == text, \
        "docs/tensor.md is stale: run  python docs/make_tensor_table.py"


def test_every_link_points_at_the_definition_it_names():
    text = make_tensor_table.PAGE.read_text()
    links = re.findall(r"\[`(\w+)`\]\(\.\./(tinygrad_memo/core/\w+\.py)#L(\d+)\)", text)
    assert len(links) == len(make_tensor_table.ROWS)
    for name, path, line in links:
        source = (ROOT / path).read_text().splitlines()[int(line) - 1]
        assert re.match(rf"^({name} = Op\(|\s*def {name}\()", source), (name, path, line, source)


def test_every_promised_op_is_in_the_table():
    table = "\n".join(" ".join(row[1:3]) for row in make_tensor_table.ROWS)
    missing = [n for n in PROMISED if not re.search(rf"\b{n}\b", table)]
    assert not missing, f"not in docs/tensor.md's table: {missing}"
