"""The Python examples in docs/nn.md and docs/training.md are real code: run each block."""
import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
BLOCKS = [(name, i, code)
          for name in ("nn.md", "training.md")
          for i, code in enumerate(re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(),
                                              re.S))]


@pytest.mark.parametrize("name, index, code", BLOCKS, ids=[f"{n}[{i}]" for n, i, _ in BLOCKS])
def test_doc_block_runs(name, index, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that save files write them here
    exec(compile(code, f"{name} block {index}", "exec"), {"__name__": "__doc_example__"})
