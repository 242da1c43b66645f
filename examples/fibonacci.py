"""Fibonacci three ways: the seed of "backpropagation is memoization".

Naive recursion recomputes F(k) again and again (2*F(n+1) - 1 calls); a dict memo computes
each F(k) once (2n - 1 calls); bottom-up dynamic programming fills a table in order.
Run: python examples/fibonacci.py      (TINYGRAD_MEMO_QUICK=1: smaller n)
"""
import os
import time

from tinygrad_memo.memo import FIB_NAIVE_MAX, fib_memo, fib_naive, fib_table

QUICK = os.environ.get("TINYGRAD_MEMO_QUICK") == "1"


def timed(fn, n):
    t0 = time.perf_counter()
    value, calls = fn(n)
    return value, calls, (time.perf_counter() - t0) * 1e3


print(f"{'n':>3}  {'F(n)':>7}  {'naive calls':>11}  {'naive ms':>9}  "
      f"{'memo calls':>10}  {'memo ms':>7}  {'table cells':>11}")
for n in (5, 10, 15, 20) if QUICK else (5, 10, 15, 20, 25, 30):
    value, naive_calls, naive_ms = timed(fib_naive, n)
    memo_value, memo_calls, memo_ms = timed(fib_memo, n)
    table_value, cells, _ = timed(fib_table, n)
    assert value == memo_value == table_value
    print(f"{n:>3}  {value:>7,}  {naive_calls:>11,}  {naive_ms:>9.2f}  "
          f"{memo_calls:>10,}  {memo_ms:>7.3f}  {cells:>11,}")

# The memo goes where naive recursion never could: no recursion limit, linear work.
n = 1_000 if QUICK else 10_000
value, calls, ms = timed(fib_memo, n)
print(f"\nfib_memo({n:,}): {len(str(value)):,} digits, {calls:,} calls, {ms:.1f} ms")

# ... and naive recursion past its bound is refused instead of running for hours.
try:
    fib_naive(FIB_NAIVE_MAX + 20)
except ValueError as exc:
    print(f"fib_naive refuses: {exc}")
