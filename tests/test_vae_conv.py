"""Periodic convolutional encoder trunk (fastmf.vae.conv) against loop references and finite differences."""
import math

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.misc import flatten
from scipy import ndimage

from fastmf.vae.conv import _gather, _scatter_add, conv_apply, conv_init, conv_output_shapes, im2col_indices


# ---- references ----------------------------------------------------------------------------------------

def naive_layer(x, w, b, kernel, stride, activation):
    """One periodic convolution by explicit loops over output sites and kernel offsets.

    ``x``: (n, H, W, C_in) channels-last; ``w``: (C_out, C_in * k * k) channels-first flattened.
    """
    n, height, width, c_in = x.shape
    c_out = w.shape[0]
    w4 = w.reshape(c_out, c_in, kernel, kernel)
    r = (kernel - 1) // 2
    h_out, w_out = math.ceil(height / stride), math.ceil(width / stride)
    out = np.zeros((n, h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            acc = np.tile(b, (n, 1)).astype(np.float64)
            for a in range(kernel):
                for bb in range(kernel):
                    src = x[:, (i * stride + a - r) % height, (j * stride + bb - r) % width, :]  # (n, C_in)
                    acc += src @ w4[:, :, a, bb].T
            out[:, i, j, :] = acc if activation is None else activation(acc)
    return out


def naive_conv(params, x, input_shape, kernel, stride, activation=np.tanh):
    """The whole trunk by loops; returns (n, out_dim) in the channels-last order of conv_apply."""
    h = np.asarray(x, np.float64).reshape(-1, *input_shape, 1)
    for layer in params:
        h = naive_layer(h, layer["W"], layer["b"], kernel, stride, activation)
    return h.reshape(h.shape[0], -1)


def random_params(rng, input_shape, channels, kernel, stride):
    """conv_init weights with random (nonzero) biases, so the bias path is exercised."""
    params, out_dim = conv_init(rng, input_shape, channels, kernel, stride)
    for layer in params:
        layer["b"] = 0.3 * rng.standard_normal(layer["b"].shape)
    return params, out_dim


def spins(rng, n, shape):
    return rng.choice([-1.0, 1.0], size=(n, *shape))


# ---- forward against the loop reference ---------------------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 8), (6, 10), (7, 5)])
@pytest.mark.parametrize("kernel,stride", [(3, 1), (3, 2), (5, 1), (5, 2), (2, 2), (3, 3)])
def test_matches_naive_conv(shape, kernel, stride):
    rng = np.random.default_rng(100 + 10 * kernel + stride)
    params, out_dim = random_params(rng, shape, (3, 4), kernel, stride)
    x = spins(rng, 3, shape)
    got = conv_apply(params, x, shape, kernel, stride)
    ref = naive_conv(params, x, shape, kernel, stride)
    h, w = conv_output_shapes(shape, 2, stride)[-1]
    assert got.shape == (3, out_dim) == (3, h * w * 4)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    # linear layers and a different activation go through the same path
    for act, np_act in [(None, None), (anp.sin, np.sin)]:
        np.testing.assert_allclose(conv_apply(params, x, shape, kernel, stride, activation=act),
                                   naive_conv(params, x, shape, kernel, stride, activation=np_act),
                                   rtol=0, atol=1e-12)


@pytest.mark.parametrize("kernel", [3, 5])
def test_stride1_single_channel_matches_scipy_wrap_correlation(kernel):
    """An independent reference: scipy.ndimage.correlate with mode='wrap' (centred odd kernel)."""
    rng = np.random.default_rng(7)
    shape = (6, 10)
    params, _ = conv_init(rng, shape, (1,), kernel, 1)
    x = rng.standard_normal((2, *shape))
    got = conv_apply(params, x, shape, kernel, 1, activation=None).reshape(2, *shape)
    k2d = params[0]["W"].reshape(kernel, kernel)
    for s in range(2):
        np.testing.assert_allclose(got[s], ndimage.correlate(x[s], k2d, mode="wrap"), rtol=0, atol=1e-12)


def test_flat_and_2d_inputs_agree_and_out_dim():
    rng = np.random.default_rng(1)
    params, out_dim = conv_init(rng, (32, 32))
    assert [lay["W"].shape for lay in params] == [(16, 9), (32, 144)]
    assert [lay["b"].shape for lay in params] == [(16,), (32,)]
    assert out_dim == 8 * 8 * 32
    x = spins(rng, 5, (32, 32))
    a = conv_apply(params, x, (32, 32))
    np.testing.assert_array_equal(a, conv_apply(params, x.reshape(5, -1), (32, 32)))
    np.testing.assert_array_equal(a, conv_apply(params, x.astype(np.int8), (32, 32)))
    assert a.shape == (5, out_dim) and a.dtype == np.float64


def test_float32_parameters_give_float32_features():
    rng = np.random.default_rng(2)
    p32, _ = conv_init(rng, (8, 8), (4, 6), dtype=np.float32)
    assert all(lay["W"].dtype == np.float32 and lay["b"].dtype == np.float32 for lay in p32)
    x = spins(rng, 4, (8, 8))  # float64 data is cast to the weights' dtype
    f32 = conv_apply(p32, x, (8, 8))
    assert f32.dtype == np.float32
    p64 = [{k: v.astype(np.float64) for k, v in lay.items()} for lay in p32]
    np.testing.assert_allclose(f32, conv_apply(p64, x, (8, 8)), rtol=0, atol=1e-5)
    g = grad(lambda p: anp.sum(conv_apply(p, x, (8, 8)) ** 2))(p32)
    assert all(gl["W"].dtype == np.float32 for gl in g)


def test_init_scale_and_determinism():
    p1, _ = conv_init(np.random.default_rng(5), (16, 16), (64, 64), kernel=3)
    p2, _ = conv_init(np.random.default_rng(5), (16, 16), (64, 64), kernel=3)
    for a, b in zip(p1, p2):
        np.testing.assert_array_equal(a["W"], b["W"])
    for layer, fan_in in zip(p1, (9, 64 * 9)):
        assert np.all(layer["b"] == 0)
        assert abs(layer["W"].std() * math.sqrt(fan_in) - 1) < 0.1
    p3, _ = conv_init(np.random.default_rng(5), (16, 16), (64, 64), init_scale=2.0)
    np.testing.assert_allclose(p3[0]["W"], 2 * p1[0]["W"])


def test_output_shapes_and_cached_tables():
    assert conv_output_shapes((32, 32), 2, 2) == [(32, 32), (16, 16), (8, 8)]
    assert conv_output_shapes((7, 5), 2, 2) == [(7, 5), (4, 3), (2, 2)]
    t = im2col_indices(7, 5, 3, 3, 2)
    assert t is im2col_indices(7, 5, 3, 3, 2)  # built once per geometry
    assert t.idx.shape == (4 * 3, 3 * 9) and t.n_in == 7 * 5 * 3 and t.out_hw == (4, 3)
    assert not t.idx.flags.writeable and not t.flat.flags.writeable
    assert t.idx.min() >= 0 and t.idx.max() < t.n_in


@pytest.mark.parametrize("geom", [(6, 5, 2, 3, 2), (4, 4, 3, 5, 1), (5, 7, 1, 2, 3)])
def test_scatter_is_adjoint_of_gather(geom):
    height, width, c, k, s = geom
    t = im2col_indices(height, width, c, k, s)
    rng = np.random.default_rng(3)
    g = rng.standard_normal((3, t.flat.size))
    ref = np.zeros((3, t.n_in))
    np.add.at(ref, (slice(None), t.flat), g)
    np.testing.assert_allclose(_scatter_add(g, t), ref, rtol=0, atol=1e-12)
    x = rng.standard_normal((3, t.n_in))
    assert abs(np.sum(_gather(x, t) * g) - np.sum(x * _scatter_add(g, t))) < 1e-10


# ---- gradients against central finite differences -------------------------------------------------------

def _central_fd(f, v, eps=1e-6):
    out = np.empty_like(v)
    for i in range(v.size):
        e = np.zeros_like(v)
        e[i] = eps
        out[i] = (f(v + e) - f(v - e)) / (2 * eps)
    return out


def _assert_grad_close(g, fd, tol=1e-6):
    rel = np.linalg.norm(g - fd) / np.linalg.norm(fd)
    assert rel <= tol, rel
    np.testing.assert_allclose(g, fd, rtol=tol, atol=tol * np.abs(fd).max())


@pytest.fixture
def small_problem():
    rng = np.random.default_rng(11)
    shape, kernel, stride = (6, 5), 3, 2  # odd width: the ceil and the wrap at the edge both matter
    params, out_dim = random_params(rng, shape, (2, 3), kernel, stride)
    x = rng.standard_normal((2, *shape))
    weights = rng.standard_normal((2, out_dim))

    def objective(p, xx):
        return anp.sum(anp.sin(conv_apply(p, xx, shape, kernel, stride)) * weights)

    return params, x, objective


def test_gradient_wrt_params_matches_finite_differences(small_problem):
    params, x, objective = small_problem
    flat, unflatten = flatten(params)
    g = flatten(grad(objective)(params, x))[0]
    fd = _central_fd(lambda v: objective(unflatten(v), x), flat)
    _assert_grad_close(g, fd)


def test_gradient_wrt_input_matches_finite_differences(small_problem):
    params, x, objective = small_problem
    g = grad(objective, 1)(params, x)
    assert g.shape == x.shape
    fd = _central_fd(lambda v: objective(params, v.reshape(x.shape)), x.ravel()).reshape(x.shape)
    _assert_grad_close(g, fd)


def test_hessian_vector_product_matches_finite_differences(small_problem):
    """Second derivatives go through the scatter's own VJP (the gather)."""
    params, x, objective = small_problem
    flat, unflatten = flatten(params)
    v = np.random.default_rng(12).standard_normal(flat.size)

    def grad_flat(w):
        return flatten(grad(objective)(unflatten(w), x))[0]

    hvp = grad(lambda w: anp.dot(grad_flat(w), v))(flat)
    eps = 1e-5
    fd = (grad_flat(flat + eps * v) - grad_flat(flat - eps * v)) / (2 * eps)
    _assert_grad_close(hvp, fd, tol=1e-6)


# ---- translation equivariance on the torus --------------------------------------------------------------

@pytest.mark.parametrize("shift", [(1, 0), (0, 3), (-2, 7)])
def test_stride1_layer_is_translation_equivariant(shift):
    rng = np.random.default_rng(21)
    shape = (6, 10)
    params, _ = random_params(rng, shape, (4,), 3, 1)
    x = spins(rng, 2, shape)
    out = conv_apply(params, x, shape, 3, 1).reshape(2, *shape, 4)
    out_shifted = conv_apply(params, np.roll(x, shift, axis=(1, 2)), shape, 3, 1).reshape(2, *shape, 4)
    np.testing.assert_allclose(out_shifted, np.roll(out, shift, axis=(1, 2)), rtol=0, atol=1e-14)


def test_strided_layers_commute_with_shifts_by_the_stride():
    rng = np.random.default_rng(22)
    shape, stride = (8, 12), 2
    params, _ = random_params(rng, shape, (3, 5), 3, stride)
    x = spins(rng, 2, shape)
    # first layer: shifting the input by the stride shifts the output by one site
    first = params[:1]
    out = conv_apply(first, x, shape, 3, stride).reshape(2, 4, 6, 3)
    for shift in [(2, 0), (0, 2), (2, -4)]:
        got = conv_apply(first, np.roll(x, shift, axis=(1, 2)), shape, 3, stride).reshape(2, 4, 6, 3)
        np.testing.assert_allclose(got, np.roll(out, (shift[0] // 2, shift[1] // 2), axis=(1, 2)),
                                   rtol=0, atol=1e-14)
    # two layers: a shift by stride**2 shifts the final features by one site
    out2 = conv_apply(params, x, shape, 3, stride).reshape(2, 2, 3, 5)
    got2 = conv_apply(params, np.roll(x, (4, -4), axis=(1, 2)), shape, 3, stride).reshape(2, 2, 3, 5)
    np.testing.assert_allclose(got2, np.roll(out2, (1, -1), axis=(1, 2)), rtol=0, atol=1e-14)
    # a shift by one site is not a symmetry of a stride-2 layer (sanity check of the test itself)
    assert not np.allclose(conv_apply(first, np.roll(x, 1, axis=1), shape, 3, stride).reshape(2, 4, 6, 3),
                           out)


# ---- argument checks ------------------------------------------------------------------------------------

def test_bad_arguments_raise():
    rng = np.random.default_rng(0)
    params, _ = conv_init(rng, (8, 8), (2, 3))
    x = spins(rng, 2, (8, 8))
    bad_calls = [
        lambda: conv_apply(params, x, (8, 8), kernel=0),
        lambda: conv_apply(params, x, (8, 8), stride=0),
        lambda: conv_apply(params, x, (8, 8), stride=-1),
        lambda: conv_apply(params, x, (8, 8), kernel=5),  # weights built for kernel 3
        lambda: conv_apply(params, x, (8, 9)),  # shape mismatch
        lambda: conv_apply(params, x.reshape(2, 64)[:, :63], (8, 8)),
        lambda: conv_apply(params, x[0], (8, 8)),  # a single (L, M) configuration is not a batch
        lambda: conv_apply(params, x.ravel(), (8, 8)),
        lambda: conv_apply(params, x, (8, 8, 1)),
        lambda: conv_apply(params, x, (0, 8)),
        lambda: conv_apply(params, np.where(x > 0, np.nan, x), (8, 8)),
        lambda: conv_apply(params, np.where(x > 0, np.inf, x), (8, 8)),
        lambda: conv_apply([], x, (8, 8)),
        lambda: conv_apply([params[1]], x, (8, 8)),  # first layer must take one channel
        lambda: conv_apply([params[0], {"W": params[1]["W"], "b": np.zeros(4)}], x, (8, 8)),
        lambda: conv_apply([{"W": params[0]["W"]}], x, (8, 8)),
        lambda: conv_init(rng, (8, 8), kernel=0),
        lambda: conv_init(rng, (8, 8), stride=0),
        lambda: conv_init(rng, (8, 8), channels=()),
        lambda: conv_init(rng, (8, 8), channels=(4, 0)),
        lambda: conv_init(rng, (8, 8), channels=16),
        lambda: conv_init(rng, (8,)),
        lambda: conv_init(rng, (8, 8), dtype=np.int32),
        lambda: conv_init(rng, (8, 8), init_scale=0.0),
    ]
    for call in bad_calls:
        with pytest.raises(ValueError):
            call()
    with pytest.raises(TypeError):
        conv_init(42, (8, 8))  # the generator is passed explicitly


def test_non_finite_input_is_rejected_under_autograd_too():
    rng = np.random.default_rng(0)
    params, _ = conv_init(rng, (4, 4), (2,))
    x = spins(rng, 1, (4, 4))
    x[0, 1, 2] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        grad(lambda xx: anp.sum(conv_apply(params, xx, (4, 4))))(x)
