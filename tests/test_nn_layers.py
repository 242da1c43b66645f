"""nn layers beyond Linear: Sequential, Embedding, Dropout, LayerNorm, BatchNorm1d, the
activation modules, train/eval and buffers; values and gradients checked against PyTorch."""
import numpy as np
import pytest

from tinygrad_memo import Tensor, gradcheck, nn

F64 = np.float64
RNG = np.random.default_rng(0)


def t64(a, grad=True):
    return Tensor(np.asarray(a, dtype=F64), requires_grad=grad)


def torch_or_skip():
    return pytest.importorskip("torch")


def backward_with(out, upstream):
    """Backward with a fixed upstream gradient (so every output element matters)."""
    (out * upstream).sum().backward()


def against_torch(torch, ours, theirs, xa, up, rtol=1e-7, atol=1e-12):
    """``ours`` and torch's ``theirs`` on ``xa``, backward with upstream ``up``: their outputs
    and input gradients must agree."""
    x = t64(xa)
    out = ours(x)
    backward_with(out, up)
    tx = torch.tensor(xa, requires_grad=True)
    r = theirs(tx)
    (r * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(out.data, r.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=rtol, atol=atol)


# -- Module: train/eval, buffers, counting ---------------------------------------------------

class Net(nn.Module):
    def __init__(self):
        self.body = nn.Sequential(nn.Linear(4, 8, seed=0), nn.BatchNorm1d(8), nn.Tanh(),
                                  nn.Dropout(0.5, seed=0))
        self.heads = [nn.Linear(8, 2, seed=1)]

    def forward(self, x):
        return self.heads[0](self.body(x))


def test_train_and_eval_reach_every_submodule_and_return_the_module():
    net = Net()
    assert net.training and all(m.training for _, m in net.named_modules())
    assert net.eval() is net
    assert [m.training for _, m in net.named_modules()] == [False] * 7
    assert net.train() is net and net.body[3].training
    net.body.eval()
    assert net.training and not net.body[1].training and net.heads[0].training
    with pytest.raises(ValueError, match="mode must be True or False, got 'no'"):
        net.train("no")


def test_named_modules_buffers_and_num_parameters():
    net = Net()
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "body.2",
                                                  "body.3", "heads.0"]
    assert [n for n, _ in net.named_buffers()] == [
        "body.1.running_mean", "body.1.running_var", "body.1.num_batches_tracked"]
    assert all(not b.requires_grad for b in net.buffers())
    assert net.num_parameters() == (4 * 8 + 8) + (8 + 8) + (8 * 2 + 2)
    assert "body.1.running_var" not in [n for n, _ in net.named_parameters()]
    assert nn.scalar.MLP(2, [3, 1], seed=0).num_parameters() == 13


def test_state_dict_holds_buffers_and_load_state_dict_restores_them():
    net = Net()
    net(RNG.normal(size=(16, 4)))  # one training step moves the running statistics
    state = net.state_dict()
    assert state["body.1.num_batches_tracked"].dtype == np.int64
    assert state["body.1.num_batches_tracked"] == 1
    fresh = Net()
    assert not np.allclose(fresh.body[1].running_mean.data, state["body.1.running_mean"])
    fresh.load_state_dict(state)
    for name, buf in fresh.named_buffers():
        np.testing.assert_array_equal(buf.data, state[name])
    bad = dict(state, **{"body.1.running_var": np.ones(3)})
    with pytest.raises(ValueError, match=r"body.1.running_var has shape \(3,\), expected \(8,\)"):
        fresh.load_state_dict(bad)
    del bad["body.1.running_var"]
    with pytest.raises(ValueError, match="missing body.1.running_var"):
        fresh.load_state_dict(bad)


def test_register_buffer_refuses_bad_names_and_parameters():
    m = nn.Identity()
    with pytest.raises(ValueError, match="public identifier, got '_x'"):
        m.register_buffer("_x", np.zeros(2))
    with pytest.raises(ValueError, match="w requires grad, so it is a parameter"):
        m.register_buffer("w", Tensor([1.0], requires_grad=True))
    b = m.register_buffer("steps", np.arange(3))
    assert m.steps is b and m.state_dict()["steps"].tolist() == [0, 1, 2]


# -- Sequential --------------------------------------------------------------------------------

def test_sequential_composes_names_like_pytorch_and_indexes():
    seq = nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1))
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert seq[0].weight.label == "0.weight" and len(seq) == 3 and seq[-1] is seq[2]
    x = RNG.normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(seq(x).data, seq[2](seq[0](x).relu()).data)
    with pytest.raises(IndexError, match="index 3 is out of range for 3 layers"):
        seq[3]
    with pytest.raises(TypeError, match="layer 1 is function, expected a Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    assert "(1): ReLU()" in repr(seq)


def test_sequential_state_dict_keys_match_pytorch():
    torch = torch_or_skip()
    ours = nn.Sequential(nn.Embedding(5, 2), nn.Flatten(), nn.Linear(6, 4, bias=False),
                         nn.BatchNorm1d(4), nn.Tanh(), nn.LayerNorm(4), nn.Linear(4, 3))
    theirs = torch.nn.Sequential(torch.nn.Embedding(5, 2), torch.nn.Flatten(),
                                 torch.nn.Linear(6, 4, bias=False), torch.nn.BatchNorm1d(4),
                                 torch.nn.Tanh(), torch.nn.LayerNorm(4), torch.nn.Linear(4, 3))
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())


def test_sequential_with_every_layer_saves_and_loads(tmp_path):
    seq = nn.Sequential(nn.Embedding(27, 4, seed=0), nn.Flatten(), nn.Linear(12, 8, seed=1),
                        nn.BatchNorm1d(8, momentum=None), nn.LeakyReLU(0.2), nn.Dropout(0.1),
                        nn.LayerNorm([8], eps=1e-3), nn.ELU(0.5), nn.SiLU(), nn.Softplus(),
                        nn.Sigmoid(), nn.GELU("tanh"), nn.ReLU(), nn.Identity(), nn.Linear(8, 27, seed=2),
                        nn.LogSoftmax(dim=1), nn.Softmax(dim=-1))
    idx = RNG.integers(0, 27, size=(32, 3))
    for _ in range(3):
        seq(idx)
    path = seq.save(tmp_path / "seq.npz")
    again = nn.Module.load(path)
    assert isinstance(again, nn.Sequential) and repr(again) == repr(seq)
    assert again[11].approximate == "tanh"
    assert again[3].momentum is None and again[6].eps == 1e-3 and again[4].negative_slope == 0.2
    for (name, a), (_, b) in zip(seq.state_dict().items(), again.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert again[3].num_batches_tracked.data == 3
    seq.eval(), again.eval()
    np.testing.assert_array_equal(seq(idx).data, again(idx).data)


def test_sequential_of_a_module_without_config_cannot_be_rebuilt(tmp_path):
    class Custom(nn.Module):
        def forward(self, x):
            return x
    path = nn.Sequential(nn.ReLU(), Custom()).save(tmp_path / "c.npz")
    with pytest.raises(nn.ModelFileError, match="saved without a config"):
        nn.Module.load(path)


def test_sequential_file_naming_an_unknown_layer_class_is_refused(tmp_path):
    header = ('{"format": 1, "class": "tinygrad_memo.nn.containers.Sequential", "config": '
              '{"layers": [{"class": "os.system", "config": {}}]}}')
    np.savez(tmp_path / "evil.npz", __tinygrad_memo__=np.array(header))
    with pytest.raises(nn.ModelFileError, match="Sequential layer 0: the layer class os.system "
                                                "is unknown"):
        nn.Module.load(tmp_path / "evil.npz")


@pytest.mark.parametrize("config, message", [
    ('{"layers": [1]}', "Sequential layer 0 is not a"),
    ('{"layers": "relu"}', r"the config must be \{'layers': \[...\]\}"),
    ('{"layers": [], "extra": 1}', r"the config must be \{'layers': \[...\]\}"),
    ('{"layers": [{"class": "tinygrad_memo.nn.embedding.Embedding", "config": {"nope": 1}}]}',
     "unexpected keyword argument 'nope'"),
])
def test_sequential_files_with_malformed_configs_are_refused(tmp_path, config, message):
    header = ('{"format": 1, "class": "tinygrad_memo.nn.containers.Sequential", "config": '
              + config + '}')
    np.savez(tmp_path / "bad.npz", __tinygrad_memo__=np.array(header))
    with pytest.raises(nn.ModelFileError, match=message):
        nn.Module.load(tmp_path / "bad.npz")


def test_flatten_joins_axes_and_checks_them():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Flatten()(np.zeros((0, 3, 4))).shape == (0, 12)
    with pytest.raises(ValueError, match="start_dim=2, end_dim=1 do not fit an input of shape"):
        nn.Flatten(2, 1)(x)


# -- Embedding ---------------------------------------------------------------------------------

def test_embedding_forward_and_gradient_match_pytorch_with_repeated_indices():
    torch = torch_or_skip()
    emb = nn.Embedding(6, 3, seed=0, dtype=F64)
    ref = torch.nn.Embedding(6, 3).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(emb.weight.data))
    idx = np.array([[0, 5, 5], [2, 0, 5]])
    up = RNG.normal(size=(2, 3, 3))
    out = emb(idx)
    backward_with(out, up)
    r = ref(torch.tensor(idx))
    (r * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(out.data, r.detach().numpy())
    np.testing.assert_allclose(emb.weight.grad, ref.weight.grad.numpy())
    assert np.all(emb.weight.grad[[1, 3, 4]] == 0)


def test_embedding_is_normal_like_pytorch_and_reproducible():
    w = nn.Embedding(1000, 50, seed=3).weight.data
    assert w.dtype == np.float32 and abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    np.testing.assert_array_equal(w, nn.Embedding(1000, 50, seed=3).weight.data)


def test_embedding_names_bad_indices():
    emb = nn.Embedding(4, 2, seed=0)
    with pytest.raises(IndexError, match=r"index 4 at position \(1, 0\) is outside \[0, 4\) "
                                         r"\(num_embeddings=4\)"):
        emb([[0, 1], [4, 2]])
    with pytest.raises(IndexError, match="index -1 at position 2 is outside"):
        emb(np.array([0, 1, -1]))
    with pytest.raises(IndexError, match="index 9 at position 0 is outside"):
        emb(9)
    assert emb(3).shape == (2,)
    with pytest.raises(TypeError, match="indices must be integers, got dtype float64"):
        emb(np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="indices must be integers, got dtype bool"):
        emb(np.array([True, False]))
    with pytest.raises(ValueError, match="embedding_dim must be a positive integer"):
        nn.Embedding(4, 0)
    assert emb(Tensor(np.array([3, 3]))).shape == (2, 2)


# -- Dropout -----------------------------------------------------------------------------------

def test_dropout_scales_kept_elements_and_its_gradient_is_the_mask():
    drop = nn.Dropout(0.25, seed=0)
    x = t64(RNG.uniform(1, 2, size=(200, 50)))
    out = drop(x)
    kept = out.data != 0
    assert abs(1 - kept.mean() - 0.25) < 0.01  # about p of the elements are zeroed
    np.testing.assert_allclose(out.data[kept], x.data[kept] / 0.75)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.75)
    assert not np.array_equal(drop(x).data != 0, kept)  # a fresh mask every call


def test_dropout_matches_pytorch_statistics():
    torch = torch_or_skip()
    x = np.ones((400, 400))
    ours = nn.Dropout(0.3, seed=0)(x).data
    theirs = torch.nn.Dropout(0.3)(torch.tensor(x)).numpy()
    assert set(np.unique(ours)) == set(np.unique(theirs)) == {0.0, 1 / 0.7}
    assert abs((ours == 0).mean() - (theirs == 0).mean()) < 0.01


def test_dropout_is_the_identity_in_eval_mode_and_for_p_0():
    x = t64(RNG.normal(size=(4, 4)))
    drop = nn.Dropout(0.9, seed=0).eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).data == 0)
    for p in (-0.1, 1.5, True, "half"):
        with pytest.raises(ValueError, match="p must be a probability in"):
            nn.Dropout(p)


# -- LayerNorm ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, normalized", [((5, 4), 4), ((2, 3, 4), (3, 4))])
def test_layernorm_matches_pytorch_values_and_gradients(shape, normalized):
    torch = torch_or_skip()
    ln = nn.LayerNorm(normalized, dtype=F64)
    ln.weight.data[...] = RNG.normal(size=ln.weight.shape)
    ln.bias.data[...] = RNG.normal(size=ln.bias.shape)
    ref = torch.nn.LayerNorm(normalized).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(ln.weight.data))
        ref.bias.copy_(torch.tensor(ln.bias.data))
    xa = RNG.normal(size=shape)
    up = RNG.normal(size=shape)
    against_torch(torch, ln, ref, xa, up)
    np.testing.assert_allclose(ln.weight.grad, ref.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ln.bias.grad, ref.bias.grad.numpy(), atol=1e-12)


def test_layernorm_options_and_bad_input():
    assert nn.LayerNorm(3, elementwise_affine=False).parameters() == []
    assert [n for n, _ in nn.LayerNorm(3, bias=False).named_parameters()] == ["weight"]
    gradcheck(lambda x: nn.LayerNorm(3, dtype=F64)(x), [t64(RNG.normal(size=(2, 3)))])
    with pytest.raises(ValueError, match=r"last 1 axes have shape \(3,\), got shape \(2, 4\)"):
        nn.LayerNorm(3)(np.zeros((2, 4)))


# -- BatchNorm1d -------------------------------------------------------------------------------

def _torch_bn(torch, bn, **kw):
    ref = torch.nn.BatchNorm1d(bn.num_features, **kw).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(bn.weight.data))
        ref.bias.copy_(torch.tensor(bn.bias.data))
    return ref


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_batchnorm_training_steps_and_running_stats_match_pytorch(shape, momentum):
    torch = torch_or_skip()
    bn = nn.BatchNorm1d(3, momentum=momentum, dtype=F64)
    bn.weight.data[...] = RNG.normal(size=3)
    bn.bias.data[...] = RNG.normal(size=3)
    ref = _torch_bn(torch, bn, momentum=momentum)
    for step in range(4):
        xa = RNG.normal(loc=step, scale=1 + step, size=shape)
        up = RNG.normal(size=shape)
        bn.zero_grad()
        ref.zero_grad()
        against_torch(torch, bn, ref, xa, up)
        np.testing.assert_allclose(bn.weight.grad, ref.weight.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(bn.bias.grad, ref.bias.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(bn.running_mean.data, ref.running_mean.numpy(), atol=1e-12)
        np.testing.assert_allclose(bn.running_var.data, ref.running_var.numpy(), atol=1e-12)
        assert int(bn.num_batches_tracked.data) == int(ref.num_batches_tracked) == step + 1
    # evaluation: the running statistics normalise, and they stay put
    bn.eval(), ref.eval()
    xa, up = RNG.normal(size=shape), RNG.normal(size=shape)
    against_torch(torch, bn, ref, xa, up)
    np.testing.assert_allclose(bn.running_var.data, ref.running_var.numpy(), atol=1e-12)
    assert int(bn.num_batches_tracked.data) == 4


def test_batchnorm_running_stats_by_hand():
    bn = nn.BatchNorm1d(1, momentum=0.1, dtype=F64)
    bn(np.array([[1.0], [3.0]]))   # batch mean 2, unbiased variance 2
    assert bn.running_mean.data[0] == pytest.approx(0.9 * 0 + 0.1 * 2)
    assert bn.running_var.data[0] == pytest.approx(0.9 * 1 + 0.1 * 2)
    bn.eval()
    y = bn(np.array([[0.2]]))      # one sample is fine in eval mode
    assert y.data[0, 0] == pytest.approx(0.0)


def test_batchnorm_without_running_stats_always_uses_the_batch():
    torch = torch_or_skip()
    bn = nn.BatchNorm1d(2, track_running_stats=False, affine=False, dtype=F64).eval()
    assert bn.buffers() == [] and bn.parameters() == []
    xa = RNG.normal(size=(6, 2))
    ref = torch.nn.BatchNorm1d(2, track_running_stats=False, affine=False).double().eval()
    np.testing.assert_allclose(bn(xa).data, ref(torch.tensor(xa)).numpy(), atol=1e-12)


def test_batchnorm_bad_input():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"expected an input of shape \(N, 3\) or \(N, 3, L\), "
                                         r"got shape \(4, 2\)"):
        bn(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="more than 1 value per feature when training"):
        bn(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="momentum must be in"):
        nn.BatchNorm1d(3, momentum=2)
    assert int(bn.num_batches_tracked.data) == 0  # refused inputs change nothing


# -- activations -------------------------------------------------------------------------------

ACTIVATIONS = [
    (lambda: nn.ReLU(), "ReLU", {}),
    (lambda: nn.Tanh(), "Tanh", {}),
    (lambda: nn.Sigmoid(), "Sigmoid", {}),
    (lambda: nn.SiLU(), "SiLU", {}),
    (lambda: nn.Softplus(), "Softplus", {}),
    (lambda: nn.Softplus(beta=2.0, threshold=5.0), "Softplus", {"beta": 2.0, "threshold": 5.0}),
    (lambda: nn.GELU(), "GELU", {}),
    (lambda: nn.GELU("tanh"), "GELU", {"approximate": "tanh"}),
    (lambda: nn.LeakyReLU(), "LeakyReLU", {}),
    (lambda: nn.LeakyReLU(0.2), "LeakyReLU", {"negative_slope": 0.2}),
    (lambda: nn.ELU(), "ELU", {}),
    (lambda: nn.ELU(0.5), "ELU", {"alpha": 0.5}),
    (lambda: nn.Softmax(dim=1), "Softmax", {"dim": 1}),
    (lambda: nn.LogSoftmax(dim=0), "LogSoftmax", {"dim": 0}),
    (lambda: nn.Identity(), "Identity", {}),
]


@pytest.mark.parametrize("make, name, kw", ACTIVATIONS, ids=[a[1] + str(a[2]) for a in ACTIVATIONS])
def test_activations_match_pytorch_including_at_zero_and_far_out(make, name, kw):
    torch = torch_or_skip()
    xa = np.concatenate([RNG.normal(size=10) * 3, [0.0, -0.0, 30.0, -30.0, 200.0, -200.0]])
    xa = xa.reshape(4, 4)
    up = RNG.normal(size=xa.shape)
    against_torch(torch, make(), getattr(torch.nn, name)(**kw), xa, up, rtol=1e-12)


def test_activation_modules_take_arrays_and_check_arguments():
    assert nn.ReLU()(np.array([-1.0, 2.0])).data.tolist() == [0.0, 2.0]
    with pytest.raises(ValueError, match="negative_slope must be a finite number"):
        nn.LeakyReLU(float("nan"))
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="Softplus: beta must be nonzero"):
        nn.Softplus(beta=0)
    with pytest.raises(TypeError, match="dim must be an integer, got None"):
        nn.Softmax(dim=None)
    gradcheck(lambda x: nn.ELU()(x) + nn.Softplus()(x) * nn.SiLU()(x),
              [t64(RNG.normal(size=(3, 3)))])


# -- the makemore model end to end -------------------------------------------------------------

def test_makemore_model_loss_and_every_gradient_match_pytorch_over_training_steps():
    torch = torch_or_skip()
    from tinygrad_memo import optim
    ours = nn.Sequential(nn.Embedding(27, 4, seed=0, dtype=F64), nn.Flatten(),
                         nn.Linear(12, 16, bias=False, seed=1, dtype=F64),
                         nn.BatchNorm1d(16, dtype=F64), nn.Tanh(),
                         nn.Linear(16, 27, seed=2, dtype=F64))
    ref = torch.nn.Sequential(torch.nn.Embedding(27, 4), torch.nn.Flatten(),
                              torch.nn.Linear(12, 16, bias=False), torch.nn.BatchNorm1d(16),
                              torch.nn.Tanh(), torch.nn.Linear(16, 27)).double()
    with torch.no_grad():
        for name, p in ours.named_parameters():
            t = ref.get_parameter(name)
            t.copy_(torch.tensor(p.data.T if p.ndim == 2 and name != "0.weight" else p.data))
    opt = optim.AdamW(ours.parameters(), lr=0.01)
    topt = torch.optim.AdamW(ref.parameters(), lr=0.01)
    for _ in range(3):
        X, y = RNG.integers(0, 27, size=(20, 3)), RNG.integers(0, 27, size=20)
        opt.zero_grad(), topt.zero_grad()
        loss = nn.cross_entropy(ours(X), y)
        loss.backward()
        tloss = torch.nn.functional.cross_entropy(ref(torch.tensor(X)), torch.tensor(y))
        tloss.backward()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
        for name, p in ours.named_parameters():
            g = ref.get_parameter(name).grad.numpy()
            np.testing.assert_allclose(p.grad, g.T if p.ndim == 2 and name != "0.weight" else g,
                                       rtol=1e-9, atol=1e-12, err_msg=name)
        opt.step(), topt.step()
    np.testing.assert_allclose(ours[3].running_var.data, ref[3].running_var.numpy(), rtol=1e-12)
    ours.eval(), ref.eval()
    X = RNG.integers(0, 27, size=(5, 3))
    np.testing.assert_allclose(ours(X).data, ref(torch.tensor(X)).detach().numpy(), rtol=1e-9,
                               atol=1e-12)
