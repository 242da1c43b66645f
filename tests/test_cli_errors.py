"""The command line ends with one line on stderr, never a traceback: Ctrl-C (status 130)
and an output that cannot be written, such as a full device (status 1)."""
import os
import signal
import subprocess
import sys

import pytest

from tinygrad_memo.app import cli

CHILD = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
from tinygrad_memo.app import cli, demo
def slow(args):
    print("ready", flush=True)
    time.sleep(60)
demo.run = slow
raise SystemExit(cli.main(["demo"]))
"""


def test_ctrl_c_during_demo_prints_one_line_and_exits_130():
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "ready\n"
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 130
    assert err == "tinygrad-memo demo: interrupted\n"


def test_ctrl_c_in_process_returns_130(monkeypatch, capsys):
    import tinygrad_memo.app.demo as demo

    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr(demo, "run", interrupted)
    assert cli.main(["demo"]) == 130
    assert capsys.readouterr().err == "tinygrad-memo demo: interrupted\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_output_to_a_full_device_is_one_line_and_a_nonzero_status():
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "tinygrad_memo", "memo"], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr == "tinygrad-memo memo: error: No space left on device (writing the output)\n"
