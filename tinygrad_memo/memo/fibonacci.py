"""Fibonacci three ways: naive recursion (2*F(n+1) - 1 calls), a memo (2n - 1 calls), a table."""
from __future__ import annotations

import math
import numbers
from typing import Any



FIB_NAIVE_MAX = 30
"""`fib_naive` refuses larger n unless ``allow_slow=True``: fib_naive(30) already makes
2,692,537 calls (about 0.4 s on CPython 3.11); every +1 multiplies that by about 1.618."""


FIB_MAX = 1_000_000
"""The largest n the Fibonacci functions take: fib_memo(FIB_MAX) holds a million big
integers (gigabytes); a larger n would fill the memory instead of failing."""


def big(n: int) -> str:
    """``n`` with thousands separators, or as ``~1.61e+3010`` when it is too long to print
    (a deep diamond has 2**depth paths; str() refuses ints over 4,300 digits)."""
    if n.bit_length() < 13000:  # under ~3,900 digits: exact
        return f"{n:,}"
    exponent = math.log10(abs(n))
    return f"{'-' if n < 0 else ''}~{10 ** (exponent % 1):.2f}e+{int(exponent)}"


def _check_n(n: Any, who: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"{who}: n must be a non-negative integer, got {n!r} "
                         f"({type(n).__name__})")
    if int(n) < 0:
        raise ValueError(f"{who}: n must be a non-negative integer, got {big(int(n))}")
    if int(n) > FIB_MAX:
        raise ValueError(f"{who}: n = {big(int(n))} is above FIB_MAX = {FIB_MAX:,} (the "
                         "numbers would not fit in memory)")
    return int(n)


def fib_naive_calls(n: int) -> int:
    """How many calls `fib_naive(n)` makes, from the closed form 2*F(n+1) - 1.

    (Each call is a leaf returning F(0) or F(1), or makes two calls; there are F(n+1) leaves.)
    """
    n = _check_n(n, "fib_naive_calls")
    return 2 * fib_table(n + 1)[0] - 1


def fib_naive(n: int, allow_slow: bool = False) -> tuple[int, int]:
    """F(n) by the definition F(n) = F(n-1) + F(n-2), recomputing every subproblem.

    Returns ``(F(n), calls)``; calls = 2*F(n+1) - 1, exponential in n. The call tree is
    walked with an explicit stack (one pop = one call), so it never hits the recursion
    limit, but n > FIB_NAIVE_MAX is refused unless ``allow_slow=True``.
    """
    n = _check_n(n, "fib_naive")
    if n > FIB_NAIVE_MAX and not allow_slow:
        raise ValueError(f"fib_naive({n}) would make {fib_naive_calls(n):,} calls; n above "
                         f"FIB_NAIVE_MAX={FIB_NAIVE_MAX} needs allow_slow=True "
                         f"(or use fib_memo({n}))")
    value, calls = 0, 0
    stack = [n]                      # calls still to make
    while stack:
        k = stack.pop()
        calls += 1
        if k < 2:
            value += k               # F(0) = 0, F(1) = 1: F(n) is the sum of the leaves
        else:
            stack += (k - 1, k - 2)  # F(k) = F(k-1) + F(k-2), both recomputed from scratch
    return value, calls


def fib_memo(n: int) -> tuple[int, int]:
    """F(n) by the same recursion, but every F(k) is stored in ``memo`` the first time.

    Returns ``(F(n), calls)``; calls = 2n - 1 for n >= 1: each F(k), k >= 2, is computed once
    and makes two calls, the second one a memo hit. The recursion runs on an explicit stack
    of frames ``(k, step)``, so n = 100,000 works as well as n = 10.
    """
    n = _check_n(n, "fib_memo")
    memo: dict[int, int] = {}
    calls = 1
    stack = [(n, 0)]   # step 0: just called; 1: F(k-1) known, call F(k-2); 2: both known
    while stack:
        k, step = stack.pop()
        if step == 0:
            if k in memo:             # a memo hit: no work
                continue
            if k < 2:
                memo[k] = k
                continue
            stack += ((k, 1), (k - 1, 0))
        elif step == 1:
            stack += ((k, 2), (k - 2, 0))
        else:
            memo[k] = memo[k - 1] + memo[k - 2]
            continue
        calls += 1                    # the frame pushed last is a new call
    return memo[n], calls


def fib_table(n: int) -> tuple[int, int]:
    """F(n) bottom-up (dynamic programming): fill F(0), F(1), ..., F(n) in order.

    Returns ``(F(n), cells)``: n + 1 cells, each computed once from the two before it. No
    recursion and no dict, because the order of the subproblems is known in advance (as
    the topological order of a graph is, for backprop).
    """
    n = _check_n(n, "fib_table")
    table = [0, 1]
    for k in range(2, n + 1):
        table.append(table[k - 1] + table[k - 2])
    return table[n], n + 1
