"""AdamW, SGD with nesterov/dampening and the learning-rate schedules: step by step against
numbers computed by hand and against torch.optim."""
import math

import numpy as np
import pytest
from conftest import steps_against_torch

from tinygrad_memo import Tensor, Value, optim
from tinygrad_memo.optim import lr_scheduler


def run(opt, p, grads):
    values = []
    for g in grads:
        p.grad = g
        opt.step()
        values.append(p.data)
    return values


def test_sgd_nesterov_by_hand():
    p = Value(1.0)
    # buf1 = 1, step = 1 + 0.9 * 1 = 1.9; buf2 = 0.9 + 2 = 2.9, step = 2 + 0.9 * 2.9 = 4.61
    assert run(optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True), p, [1.0, 2.0]) == \
        pytest.approx([1 - 0.19, 1 - 0.19 - 0.461])


def test_sgd_dampening_by_hand():
    p = Value(0.0)
    # buf1 = g = 1 (no dampening on the first step); buf2 = 0.5 * 1 + (1 - 0.25) * 2 = 2
    assert run(optim.SGD([p], lr=1.0, momentum=0.5, dampening=0.25), p, [1.0, 2.0]) == \
        pytest.approx([-1.0, -3.0])


def test_adamw_one_step_by_hand():
    p = Value(1.0)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.1, eps=0.0)
    p.grad = 0.5
    opt.step()
    # decay: 1 - 0.1 * 0.1 * 1 = 0.99; the first Adam step moves by lr * sign(g) = 0.1
    assert p.data == pytest.approx(0.89)
    assert optim.AdamW([Value(1.0)]).weight_decay == 0.01  # PyTorch's default


def test_adamw_differs_from_adam_with_l2():
    a, b = Value(1.0), Value(1.0)
    run(optim.Adam([a], lr=0.1, weight_decay=0.5), a, [0.1] * 3)
    run(optim.AdamW([b], lr=0.1, weight_decay=0.5), b, [0.1] * 3)
    assert abs(a.data - b.data) > 1e-3


def test_nesterov_needs_momentum_and_no_dampening():
    with pytest.raises(ValueError, match="nesterov momentum requires a momentum and zero "
                                         "dampening, got momentum=0.0, dampening=0.0"):
        optim.SGD([Value(1.0)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="dampening=0.5"):
        optim.SGD([Value(1.0)], lr=0.1, momentum=0.9, dampening=0.5, nesterov=True)
    with pytest.raises(ValueError, match="SGD: dampening must be >= 0.0"):
        optim.SGD([Value(1.0)], lr=0.1, momentum=0.9, dampening=-1)


@pytest.mark.parametrize("name, kw", [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3)),
    ("AdamW", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.3)),
    ("AdamW", dict(lr=0.02)),
])
def test_matches_torch_optim(name, kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p0, grads = rng.normal(size=(3, 4)), [rng.normal(size=(3, 4)) for _ in range(6)]
    for ours, theirs in steps_against_torch(torch, name, kw, p0, grads):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-14)


# -- schedules -------------------------------------------------------------------------------

def lrs(make, steps, lr=1.0):
    opt = optim.SGD([Value(0.0)], lr=lr)
    sched = make(opt)
    out = [sched.get_last_lr()[0]]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
        assert opt.lr == out[-1]
    return out


def test_step_lr_by_hand():
    assert lrs(lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5), 5) == \
        [1, 1, 0.5, 0.5, 0.25, 0.25]


def test_cosine_annealing_by_hand():
    got = lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.1), 6, lr=1.1)
    c = math.cos(math.pi / 4)
    assert got == pytest.approx([1.1, 0.1 + (1 + c) / 2, 0.6, 0.1 + (1 - c) / 2, 0.1,
                                 0.1 + (1 - c) / 2, 0.6])


def test_linear_warmup_by_hand():
    got = lrs(lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4), 6, lr=2.0)
    assert got == pytest.approx([0.5, 0.875, 1.25, 1.625, 2.0, 2.0, 2.0])


def test_warmup_then_cosine_by_hand():
    def make(o):
        warm = lr_scheduler.LinearLR(o, start_factor=0.5, total_iters=2)
        cos = lr_scheduler.CosineAnnealingLR(o, T_max=2)
        return lr_scheduler.SequentialLR(o, [warm, cos], milestones=[2])
    assert lrs(make, 5) == pytest.approx([0.5, 0.75, 1.0, 0.5, 0.0, 0.5])


SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.3)),
    ("CosineAnnealingLR", dict(T_max=7)),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.5, total_iters=8)),
]


@pytest.mark.parametrize("name, kw", SCHEDULES)
def test_schedules_match_torch_step_by_step(name, kw):
    torch = pytest.importorskip("torch")
    tp = torch.zeros(2, requires_grad=True)
    topt = torch.optim.SGD([tp], lr=0.2)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    mp = Tensor(np.zeros(2), requires_grad=True)
    mopt = optim.SGD([mp], lr=0.2)
    msched = getattr(lr_scheduler, name)(mopt, **kw)
    for step in range(20):
        assert msched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15)
        g = np.array([1.0, -2.0]) * (step + 1)
        tp.grad, mp.grad = torch.tensor(g, dtype=torch.float32), g
        topt.step(), mopt.step()
        tsched.step(), msched.step()
        assert msched.last_epoch == tsched.last_epoch
    np.testing.assert_allclose(mp.data, tp.detach().numpy(), rtol=1e-5)


def test_sequential_lr_matches_torch():
    torch = pytest.importorskip("torch")

    def build(mod, opt):
        s = mod.lr_scheduler
        warm = s.LinearLR(opt, start_factor=0.1, total_iters=3)
        cos = s.CosineAnnealingLR(opt, T_max=6, eta_min=0.001)
        step = s.StepLR(opt, step_size=2, gamma=0.5)
        return s.SequentialLR(opt, [warm, cos, step], milestones=[3, 9])
    tsched = build(torch.optim, torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5))
    msched = build(optim, optim.SGD([Value(0.0)], lr=0.5))
    for _ in range(15):
        assert msched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
        tsched.optimizer.step(), tsched.step()
        msched.step()


def test_scheduler_arguments_are_checked():
    opt = optim.SGD([Value(0.0)], lr=1.0)
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive integer, got 0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match=r"LinearLR: start_factor must be in \(0, 1\], got 0"):
        lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="CosineAnnealingLR: eta_min must be a finite number"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=3, eta_min=float("nan"))
    with pytest.raises(TypeError, match="StepLR: expected an optimizer, got list"):
        lr_scheduler.StepLR([], step_size=1)
    warm = lr_scheduler.LinearLR(opt)
    with pytest.raises(ValueError, match="2 schedulers need 1 milestones, got 0"):
        lr_scheduler.SequentialLR(opt, [warm, warm], milestones=[])
    other = lr_scheduler.StepLR(optim.SGD([Value(0.0)], lr=1.0), step_size=1)
    with pytest.raises(ValueError, match=r"schedulers\[1\] is not a scheduler of this optimizer"):
        lr_scheduler.SequentialLR(opt, [warm, other], milestones=[2])
