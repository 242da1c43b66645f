"""``python -m tinygrad_memo.app.bench worker JOB ARGS_JSON``: one job of a worker process.

The workloads start these (`harness.run_worker`) so that each framework is timed alone;
the last stdout line is the job's JSON result. Any other arguments run ``tinygrad-memo bench``.
"""
import json
import sys

from .harness import WORKERS
from .workloads import WORKLOADS  # noqa: F401 - importing the workloads registers their jobs


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "worker":
        print(json.dumps(WORKERS[argv[1]](**json.loads(argv[2]))))
        return 0
    from ..cli import main as cli_main
    return cli_main(["bench", *argv])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
