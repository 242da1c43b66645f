"""Several threads at once: grad modes, anomaly mode, checkpointing and hooks are per
thread or per node, never shared state that one thread can switch for another."""
import gc
import threading
import weakref

import numpy as np
import pytest

from tinygrad_memo import Tensor, Value, checkpoint, detect_anomaly, enable_grad, no_grad
from tinygrad_memo.core.modes import grad_mode

ROUNDS = 200


def run_threads(*targets):
    """Run each target in its own thread; re-raise the first failure in the caller."""
    errors = []

    def guard(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)
        return run
    threads = [threading.Thread(target=guard(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a thread hung"
    if errors:
        raise errors[0]


def records():
    return (Tensor([1.0], requires_grad=True) * 2).requires_grad


def test_no_grad_in_one_thread_leaves_recording_on_in_another():
    inside, checked = threading.Event(), threading.Event()

    def quiet():
        with no_grad():
            inside.set()
            assert checked.wait(30)
            assert not records()

    def loud():
        assert inside.wait(30)
        assert records()  # the other thread's no_grad is not ours
        checked.set()
    run_threads(quiet, loud)
    assert records()


def test_overlapping_no_grad_blocks_in_two_threads_leave_recording_on():
    barrier = threading.Barrier(2)

    def block(first_out):
        for _ in range(ROUNDS):
            with no_grad():
                barrier.wait()  # both inside
                assert not records()
                if not first_out:
                    barrier.wait()  # the other one leaves first
            if first_out:
                barrier.wait()
            assert records()
    run_threads(lambda: block(True), lambda: block(False))
    assert records() and grad_mode.enabled


def test_enable_grad_inside_no_grad_is_per_thread():
    def worker():
        for _ in range(ROUNDS):
            with no_grad():
                assert not records()
                with enable_grad():
                    assert records()
                assert not records()
            assert records()
    run_threads(*[worker] * 4)


def test_anomaly_mode_in_one_thread_is_off_in_the_others():
    inside, checked = threading.Event(), threading.Event()

    def anomalous():
        with detect_anomaly():
            inside.set()
            assert checked.wait(30)
            assert grad_mode.anomaly is not None

    def normal():
        assert inside.wait(30)
        assert grad_mode.anomaly is None
        x = Tensor(np.array([-1.0]), requires_grad=True)
        x.sqrt().sum().backward()  # a NaN gradient: not this thread's anomaly check
        assert np.isnan(x.grad).all()
        checked.set()
    run_threads(anomalous, normal)


def test_checkpoint_recomputation_does_not_switch_recording_on_in_another_thread():
    w = Tensor(np.ones((4, 4)), requires_grad=True)
    stop = threading.Event()

    def train():
        try:
            for _ in range(ROUNDS // 4):
                x = Tensor(np.ones((2, 4)), requires_grad=True)
                y = checkpoint(lambda h: (h @ w).tanh(), x)
                y.sum().backward()  # recomputes under enable_grad, in this thread only
                assert x.grad is not None
        finally:
            stop.set()

    def evaluate():
        with no_grad():
            while not stop.is_set():
                assert not records()
    run_threads(train, evaluate)


def test_concurrent_backward_passes_give_each_thread_its_own_gradients():
    results = {}

    def worker(k):
        def run():
            for _ in range(ROUNDS // 4):
                x = Tensor(np.full(3, float(k)), requires_grad=True)
                (x * x).sum().backward()
                np.testing.assert_array_equal(x.grad, np.full(3, 2.0 * k))
                v = Value(float(k))
                (v * v + v).backward()
                assert v.grad == 2 * k + 1
            results[k] = True
        return run
    run_threads(*[worker(k) for k in range(4)])
    assert sorted(results) == [0, 1, 2, 3]


def test_hooks_registered_and_removed_in_several_threads_stay_on_their_nodes():
    def worker(k):
        def run():
            for _ in range(ROUNDS):
                x = Tensor(np.ones(2), requires_grad=True)
                handle = x.register_hook(lambda g: g * k)
                (x * 1.0).sum().backward()
                np.testing.assert_array_equal(x.grad, np.full(2, float(k)))
                handle.remove()
                assert x._hooks is None  # register/remove cycles leave nothing behind
        return run
    run_threads(*[worker(k) for k in range(1, 5)])


def test_a_hook_that_refers_to_its_own_tensor_does_not_keep_it_alive():
    x = Tensor(np.ones(3), requires_grad=True)
    x.register_hook(lambda g: g + x.data)  # noqa: F821 (a cycle: x -> hook -> x)
    alive = weakref.ref(x)
    del x
    gc.collect()
    assert alive() is None


def test_a_handle_that_outlives_its_node_removes_nothing_else():
    def double(g):
        return g * 2
    x = Tensor(np.ones(2), requires_grad=True)
    stale = x.register_hook(double)
    del x
    gc.collect()
    y = Tensor(np.ones(2), requires_grad=True)
    y.register_hook(double)  # the same function on another node
    stale.remove()
    (y * 1.0).sum().backward()
    np.testing.assert_array_equal(y.grad, [2.0, 2.0])


def test_many_register_remove_cycles_do_not_grow_memory():
    x = Tensor(np.ones(2), requires_grad=True)
    for _ in range(10_000):
        x.register_hook(lambda g: g).remove()
    assert x._hooks is None
    gc.collect()
    handles = [x.register_hook(lambda g: g) for _ in range(100)]
    for h in handles:
        h.remove()
    assert x._hooks is None


@pytest.mark.parametrize("n_threads", [2, 8])
def test_switch_counter_returns_to_zero(n_threads):
    from tinygrad_memo.core.modes import switches

    def worker():
        for _ in range(ROUNDS):
            with no_grad(), detect_anomaly():
                pass
    run_threads(*[worker] * n_threads)
    assert switches.count == 0
