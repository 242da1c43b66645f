"""The ``tinygrad-memo`` command: one subcommand per module, each small.

A subcommand module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``; registering it is one line in `COMMANDS`.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn, Sequence

# name -> module implementing it
COMMANDS: dict[str, str] = {
    "graph": "tinygrad_memo.app.graph",
    "memo": "tinygrad_memo.app.memo",
    "demo": "tinygrad_memo.app.demo",
    "bench": "tinygrad_memo.app.bench",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but misuse prints one line (not the whole usage) and exits with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class UsageError(Exception):
    """Bad arguments found after parsing (e.g. a value out of range): exit status 2."""


def check_writable_dir(folder: Path, option: str) -> None:
    """UsageError unless a file can be created in ``folder`` (tried for real: root ignores
    permission bits, and folders such as /proc refuse new files whatever they say)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"{option} {folder}: cannot write into this folder "
                         f"({exc.strerror or exc})") from None


def check_writable_file(path: Path, option: str, make_parents: bool = False) -> None:
    """UsageError unless the file ``path`` can be written; checked before any long work."""
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder, expected a file name")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"{option} {path}: {parent} is not a folder")
    if make_parents:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{option} {path}: cannot create the folder {parent} "
                             f"({exc.strerror or exc})") from None
    elif not parent.is_dir():
        raise UsageError(f"{option} {path}: the folder {parent} does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{option} {path}: permission denied")
    check_writable_dir(parent, option)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tinygrad-memo",
                     description="Backpropagation is memoization: train, draw and measure it.")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(modname)
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except UsageError as exc:
        print(f"tinygrad-memo {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
