"""The Python examples in README.md and docs/*.md are real code: run each block.

A block whose first line starts with ``# excerpt`` quotes the package's source: not run."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [(page.relative_to(ROOT).as_posix(), i, code)
          for page in PAGES
          for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S))
          if not code.startswith("# excerpt")]


@pytest.mark.parametrize("name, index, code", BLOCKS, ids=[f"{n}[{i}]" for n, i, _ in BLOCKS])
def test_doc_block_runs(name, index, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that save files write them here
    exec(compile(code, f"{name} block {index}", "exec"), {"__name__": "__doc_example__"})
