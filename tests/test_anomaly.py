"""detect_anomaly(): a NaN or inf made by backward raises, naming the op, the shapes, and the
line of user code that made the node; outside the block nothing is recorded or checked."""
import gc
import math

import numpy as np
import pytest
from conftest import t64

from tinygrad_memo import Value, detect_anomaly, grad
from tinygrad_memo.core import anomaly
from tinygrad_memo.core.anomaly import AnomalyError
from tinygrad_memo.core.modes import grad_mode


@pytest.fixture(autouse=True)
def quiet_numpy():
    with np.errstate(all="ignore"):
        yield


def test_log_of_a_negative_is_traced_to_the_log_and_to_this_file():
    x = t64([1.0, -2.0, 3.0])
    w = t64([0.5, 0.5, 0.5])
    with detect_anomaly():
        y = (w * x.log()).sum()                     # log(-2) = nan; dL/dw = log(x) = nan
        with pytest.raises(AnomalyError) as info:
            y.backward()
    msg = str(info.value)
    assert "the backward of 'mul' produced nan in the gradient for its input 0 (shape (3,))" in msg
    assert "'mul' maps inputs (shape (3,), shape (3,)) to an output of shape (3,)" in msg
    assert "nan first appears where 'log' maps finite inputs (shape (3,))" in msg
    assert "test_anomaly.py" in msg and "y = (w * x.log()).sum()" in msg


def test_an_infinite_derivative_is_blamed_on_the_op_itself():
    x = t64([0.0, 4.0])
    with detect_anomaly():
        s = x.sqrt()
        with pytest.raises(AnomalyError, match=r"(?s)backward of 'sqrt' produced inf.*"
                                               r"s = x.sqrt\(\).*derivative itself is infinite"):
            s.sum().backward()


def test_values_get_the_same_report():
    a, b = Value(-1.0), Value(2.0)
    with detect_anomaly():
        y = a.log() * b
        with pytest.raises(AnomalyError) as info:
            y.backward()
    msg = str(info.value)
    assert "backward of 'mul' produced nan" in msg and "for its input 1 (scalar)" in msg
    assert "'log' maps finite inputs (scalar) to an output of scalar" in msg
    assert "y = a.log() * b" in msg


def test_a_nan_in_an_input_is_reported_as_such():
    x = t64([np.nan, 1.0])
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="an input \\(shape \\(2,\\)\\) already holds nan"):
            (x * x).sum().backward()


def test_nodes_made_outside_the_block_say_so():
    x = t64([0.0])
    s = x.sqrt().sum()
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="not recorded: the node was made outside "
                                               "detect_anomaly"):
            s.backward()


def test_checks_work_with_create_graph_and_with_a_freed_graph():
    x = t64([-1.0, 2.0])
    with detect_anomaly():
        y = (x.log() * x).sum()
        with pytest.raises(AnomalyError, match="'mul' produced nan"):
            grad(y, [x], create_graph=True)
        y2 = (x.log() * x).sum()
        with pytest.raises(AnomalyError, match="'log' maps finite inputs"):
            y2.backward(retain_graph=False)


def test_off_by_default_nan_flows_silently_and_nothing_is_recorded():
    assert grad_mode.anomaly is None and not anomaly.is_anomaly_enabled()
    x = t64([-1.0])
    y = (x.log() * x).sum()
    y.backward()
    assert math.isnan(x.grad[0])
    gc.collect()
    assert not anomaly._CREATED


def test_the_mode_is_restored_after_an_error_and_works_as_a_decorator():
    with pytest.raises(ZeroDivisionError):
        with detect_anomaly():
            assert grad_mode.anomaly
            1 / 0  # noqa: B018 (the error is the point)
    assert grad_mode.anomaly is None

    @detect_anomaly()
    def step(v):
        assert grad_mode.anomaly
        return (v.sqrt() * 1.0).sum().backward()

    with pytest.raises(AnomalyError, match="sqrt"):
        step(t64([0.0]))
    assert grad_mode.anomaly is None


def test_finite_backward_passes_untouched_and_records_die_with_their_nodes():
    x = t64([1.0, 2.0])
    with detect_anomaly():
        y = (x * x).tanh().sum()
        assert len(anomaly._CREATED) == 3
        y.backward()
    np.testing.assert_allclose(x.grad, 2 * x.data * (1 - np.tanh(x.data ** 2) ** 2))
    del y
    gc.collect()
    assert not anomaly._CREATED
