"""``python -m tinygrad_memo.app.bench worker JOB ARGS_JSON``: the bench's worker processes."""
from . import main

raise SystemExit(main())
