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
    """Run one subcommand. Ctrl-C and an output that cannot be written (a full disk, a
    closed pipe) end it with one line on stderr, not a traceback: status 130 and 1."""
    who = "tinygrad-memo"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "_run", None):
            parser.print_help()
            return 0
        who = f"tinygrad-memo {args.command}"
        status = int(args._run(args) or 0)
        sys.stdout.flush()  # here, so a write error is reported like any other
        return status
    except UsageError as exc:
        print(f"{who}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _silence_stdout()
        print(f"{who}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        _silence_stdout()
        where = f" ({exc.filename})" if exc.filename else " (writing the output)"
        print(f"{who}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered there cannot be written either,
    and Python would print a second error while flushing it at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout replaced (e.g. by a test's capture)
        pass


if __name__ == "__main__":
    raise SystemExit(main())
