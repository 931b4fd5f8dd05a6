"""collapse: a linear-activation network equals one affine map, and its optimum is OLS.

Reference values come from outside collapse(): the network's own layer-by-layer
forward pass, scikit-learn's MLPRegressor.predict, numpy.linalg.lstsq and
olscheck's QR fit, and hand-multiplied matrices.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from olscheck.collapse import CollapsedNetwork, collapse
from olscheck.errors import ConfigurationError, DataError, NotCollapsibleError
from tests.helpers import fit_arrays


def random_network(rng, sizes, orientation):
    """Weights and biases of a network with layer widths ``sizes`` (input first)."""
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = rng.normal(scale=1 / np.sqrt(fan_in), size=(fan_out, fan_in))
        weights.append(w if orientation == "w_at_x" else w.T)
        biases.append(rng.normal(size=fan_out))
    return weights, biases


def forward(x, weights, biases, orientation):
    """The network itself: one layer at a time, identity activations."""
    h = x
    for w, b in zip(weights, biases):
        h = (h @ w.T if orientation == "w_at_x" else h @ w) + b
    return h


def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(float).tiny))


SIZES = [(3, 1), (4, 7, 1), (5, 16, 8, 1), (2, 32, 3, 64, 1), (6, 10, 10, 10, 10, 3), (1, 4, 1)]


@pytest.mark.parametrize("orientation", ["w_at_x", "x_at_w"])
@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: "-".join(map(str, s)))
def test_collapsed_map_reproduces_the_forward_pass(sizes, orientation):
    rng = np.random.default_rng(sum(sizes) + len(orientation))
    weights, biases = random_network(rng, sizes, orientation)
    x = rng.normal(size=(50, sizes[0]))
    expected = forward(x, weights, biases, orientation)
    net = collapse(weights, biases, orientation=orientation)
    got = net.predict(x)
    if sizes[-1] == 1:
        assert got.shape == (50,)
        expected = expected[:, 0]
    else:
        assert got.shape == (50, sizes[-1])
    assert relative_error(got, expected) < 1e-10
    assert net.weights.shape == (sizes[-1], sizes[0])
    assert net.bias.shape == (sizes[-1],)
    assert net.layer_sizes == tuple(sizes)
    assert net.n_layers == len(sizes) - 1


def test_closed_form_by_hand():
    # W2 W1 = [[3, 6]], W2 b1 + b2 = 3 * 0.5 + 1 = 2.5
    net = collapse([np.array([[1.0, 2.0]]), np.array([[3.0]])], [np.array([0.5]), np.array([1.0])],
                   orientation="w_at_x")
    np.testing.assert_array_equal(net.weights, [[3.0, 6.0]])
    np.testing.assert_array_equal(net.bias, [2.5])
    # the same layers in scikit-learn's orientation are the transposes
    same = collapse([np.array([[1.0], [2.0]]), np.array([[3.0]])], [[0.5], [1.0]], orientation="x_at_w")
    np.testing.assert_array_equal(same.weights, net.weights)
    np.testing.assert_array_equal(same.bias, net.bias)


def test_bias_is_the_sum_of_propagated_layer_biases():
    rng = np.random.default_rng(7)
    weights, biases = random_network(rng, (3, 5, 4, 2), "w_at_x")
    w1, w2, w3 = weights
    b1, b2, b3 = biases
    net = collapse(weights, biases, orientation="w_at_x")
    np.testing.assert_allclose(net.weights, w3 @ w2 @ w1, rtol=1e-13)
    np.testing.assert_allclose(net.bias, w3 @ w2 @ b1 + w3 @ b2 + b3, rtol=1e-13)


def test_missing_biases_mean_zero_biases():
    rng = np.random.default_rng(3)
    weights, _ = random_network(rng, (3, 4, 1), "x_at_w")
    net = collapse(weights)
    np.testing.assert_array_equal(net.bias, [0.0])


def test_extended_precision_agrees_with_float64():
    rng = np.random.default_rng(11)
    weights, biases = random_network(rng, (4, 50, 50, 50, 50, 2), "w_at_x")
    plain = collapse(weights, biases, orientation="w_at_x")
    extended = collapse(weights, biases, orientation="w_at_x", extended_precision=True)
    assert extended.weights.dtype == np.float64
    assert relative_error(plain.weights, extended.weights) < 1e-12
    assert relative_error(plain.bias, extended.bias) < 1e-12


def test_result_is_frozen_and_read_only():
    net = collapse([np.eye(2)], [np.zeros(2)])
    with pytest.raises(ValueError):
        net.weights[0, 0] = 5.0
    with pytest.raises(AttributeError):
        net.bias = np.ones(2)


# ---- scikit-learn --------------------------------------------------------------
def _regression_data(n=200, p=3, seed=0, outputs=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    slopes = rng.normal(size=(p, outputs))
    y = 1.0 + x @ slopes + 0.3 * rng.normal(size=(n, outputs))
    return x, (y[:, 0] if outputs == 1 else y)


@pytest.mark.parametrize("hidden", [(5,), (8, 4), (16, 8, 4)])
def test_sklearn_identity_mlp_matches_its_own_predict(hidden):
    from sklearn.neural_network import MLPRegressor

    x, y = _regression_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPRegressor(hidden_layer_sizes=hidden, activation="identity", max_iter=50, random_state=0).fit(x, y)
    net = collapse(model=model)
    assert relative_error(net.predict(x), model.predict(x)) < 1e-10
    assert net.layer_sizes == (3, *hidden, 1)


def test_sklearn_identity_mlp_with_two_outputs_and_feature_names():
    import pandas as pd
    from sklearn.neural_network import MLPRegressor

    x, y = _regression_data(outputs=2)
    frame = pd.DataFrame(x, columns=["age", "income", "rooms"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPRegressor(hidden_layer_sizes=(6,), activation="identity", max_iter=50, random_state=1).fit(frame, y)
    net = collapse(model=model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # predicting from an array after fitting on a frame
        expected = model.predict(x)
    assert expected.shape == (200, 2)
    assert relative_error(net.predict(x), expected) < 1e-10
    assert net.feature_names == ("age", "income", "rooms")
    lines = net.equation(target_name=["spend", "save"]).splitlines()
    assert lines[0].startswith("spend = ") and lines[1].startswith("save = ")
    assert "·income" in lines[0]


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_non_linear_sklearn_activation_is_refused(activation):
    from sklearn.neural_network import MLPRegressor

    x, y = _regression_data(n=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPRegressor(hidden_layer_sizes=(4,), activation=activation, max_iter=5, random_state=0).fit(x, y)
    with pytest.raises(NotCollapsibleError, match="non-linear activation") as caught:
        collapse(model=model)
    assert activation in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_activation_list_naming_a_non_linearity_is_refused():
    rng = np.random.default_rng(0)
    weights, biases = random_network(rng, (3, 4, 4, 1), "w_at_x")
    with pytest.raises(NotCollapsibleError, match="layer 2 uses the non-linear activation 'relu'"):
        collapse(weights, biases, orientation="w_at_x", activations=["identity", "relu", "identity"])
    with pytest.raises(NotCollapsibleError, match="output layer"):
        collapse(weights, biases, orientation="w_at_x", activations=["identity", "linear", "sigmoid"])
    with pytest.raises(NotCollapsibleError):
        collapse(weights, biases, orientation="w_at_x", activations="tanh")
    # identity spelled in the usual ways, hidden layers only, or one name for all
    for accepted in (["identity", "linear", None], ["Identity", "LINEAR"], "identity", None):
        collapse(weights, biases, orientation="w_at_x", activations=accepted)
    with pytest.raises(ConfigurationError, match="activations has 1 entries"):
        collapse(weights, biases, orientation="w_at_x", activations=["identity"])


def test_unfitted_or_foreign_model_is_a_configuration_error():
    from sklearn.linear_model import LinearRegression
    from sklearn.neural_network import MLPRegressor

    with pytest.raises(ConfigurationError, match="not fitted"):
        collapse(model=MLPRegressor(activation="identity"))
    with pytest.raises(ConfigurationError, match="MLPRegressor"):
        collapse(model=LinearRegression())
    with pytest.raises(ConfigurationError, match="either model"):
        collapse([np.eye(2)], model=MLPRegressor())


# ---- trained to its optimum, a linear network is OLS --------------------------
@pytest.mark.parametrize("hidden", [(4,), (8, 4), (16, 8, 4)])
@pytest.mark.parametrize("random_state", [0, 3, 7])
def test_trained_linear_network_lands_on_the_ols_coefficients(hidden, random_state):
    """Tolerance, honestly: scikit-learn's lbfgs stops on scipy's default ``ftol``
    (about 2.2e-9 relative decrease of the loss, not settable through
    MLPRegressor), so the coefficients agree with OLS to 1e-5..1e-7 relative
    (worst seen over 30 starts: 1.4e-5) and the residual sum of squares -- the
    quantity minimised, quadratic in the coefficient error -- to about 1e-10.
    We assert 5e-5 and 1e-9. Both are far below the coefficients' standard
    errors (about 0.05 here).
    """
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(20240501)
    n = 400
    x = rng.normal(size=(n, 3))
    y = 1.5 + x @ np.array([0.5, -2.0, 1.0]) + rng.normal(size=n)
    model = MLPRegressor(hidden_layer_sizes=hidden, activation="identity", solver="lbfgs", alpha=0.0,
                         tol=1e-15, max_iter=100_000, max_fun=100_000, random_state=random_state).fit(x, y)
    net = collapse(model=model)
    network_coefficients = np.concatenate([net.bias, net.weights[0]])

    design = np.column_stack([np.ones(n), x])
    lstsq_coefficients, lstsq_rss, *_ = np.linalg.lstsq(design, y, rcond=None)
    olscheck_fit = fit_arrays(y, {"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2]})
    olscheck_coefficients = olscheck_fit.coefficient_series().to_numpy()
    np.testing.assert_allclose(olscheck_coefficients, lstsq_coefficients, rtol=1e-12)

    assert np.max(np.abs(network_coefficients - olscheck_coefficients) / np.abs(olscheck_coefficients)) < 5e-5
    network_rss = float(np.sum((y - net.predict(x)) ** 2))
    assert 0 <= (network_rss - lstsq_rss[0]) / lstsq_rss[0] < 1e-9


# ---- bad shapes ------------------------------------------------------------------
def test_layers_that_do_not_chain_name_the_layer():
    rng = np.random.default_rng(0)
    w1 = rng.normal(size=(4, 3))  # w_at_x: 3 inputs -> 4 outputs
    w2 = rng.normal(size=(2, 5))  # expects 5 inputs
    with pytest.raises(ConfigurationError, match="layer 2 expects 5 input.* layer 1 gives 4 output"):
        collapse([w1, w2], orientation="w_at_x")
    # the right matrices in the wrong orientation do not chain either
    w2 = rng.normal(size=(2, 4))
    with pytest.raises(ConfigurationError, match="orientation"):
        collapse([w1, w2], orientation="x_at_w")


@pytest.mark.parametrize(
    "weights, biases, message",
    [
        ([], None, "at least one layer"),
        ([np.ones(3)], None, "layer 1 must be a 2-D matrix"),
        ([np.ones((2, 3)), np.ones((3, 4, 1))], None, "layer 2 must be a 2-D matrix"),
        ([np.ones((2, 3))], [np.ones(2)], "bias of layer 1 has shape"),
        ([np.ones((2, 3)), np.ones((3, 1))], [np.ones(3)], "2 weight matrices but 1 bias"),
        ([np.array([[1.0, np.nan]])], None, "NaN or infinite"),
        ([np.zeros((0, 3))], None, "empty"),
    ],
)
def test_inconsistent_shapes_raise(weights, biases, message):
    with pytest.raises(ConfigurationError, match=message):
        collapse(weights, biases, orientation="x_at_w")


def test_bad_orientation_and_missing_weights():
    with pytest.raises(ConfigurationError, match="orientation must be"):
        collapse([np.eye(2)], orientation="columns")
    with pytest.raises(ConfigurationError, match="needs the layers"):
        collapse()


# ---- presentation ------------------------------------------------------------------
def test_equation_text_and_names():
    net = CollapsedNetwork(weights=np.array([[0.5, -3.0]]), bias=np.array([1.2]), layer_sizes=(2, 1))
    assert net.equation() == "y = 1.2 + 0.5·x1 - 3·x2"
    assert net.equation(["age", "dose"], "response") == "response = 1.2 + 0.5·age - 3·dose"
    assert net.equation(digits=1, feature_names=["a", "b"]) == "y = 1 + 0.5·a - 3·b"
    negative = CollapsedNetwork(weights=np.array([[2.0]]), bias=np.array([-0.25]), layer_sizes=(1, 1))
    assert negative.equation() == "y = -0.25 + 2·x1"
    with pytest.raises(ConfigurationError, match="2 feature name"):
        net.equation(["only_one"])


def test_to_dict_is_json_ready():
    rng = np.random.default_rng(5)
    weights, biases = random_network(rng, (3, 4, 2), "w_at_x")
    net = collapse(weights, biases, orientation="w_at_x")
    document = json.loads(json.dumps(net.to_dict(), allow_nan=False))
    np.testing.assert_array_equal(np.array(document["weights"]), net.weights)
    np.testing.assert_array_equal(np.array(document["bias"]), net.bias)
    assert document["layer_sizes"] == [3, 4, 2]
    assert document["n_inputs"] == 3 and document["n_outputs"] == 2
    assert document["equation"].count("\n") == 1


def test_predict_checks_the_width():
    net = collapse([np.ones((2, 1))], [np.zeros(1)])  # x_at_w: 2 inputs
    with pytest.raises(DataError, match="2 column"):
        net.predict(np.ones((4, 3)))
    single = collapse([np.array([[2.0]])], [np.array([1.0])])
    np.testing.assert_array_equal(single.predict(np.array([0.0, 1.0, 2.0])), [1.0, 3.0, 5.0])


# ---- positional networks: collapse(net) ------------------------------------------
@pytest.mark.parametrize("hidden", [(5,), (8, 4)])
def test_fitted_sklearn_network_positionally(hidden):
    from sklearn.neural_network import MLPRegressor

    x, y = _regression_data(seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPRegressor(hidden_layer_sizes=hidden, activation="identity", max_iter=50, random_state=2).fit(x, y)
    net = collapse(model)  # raised "'MLPRegressor' object is not iterable" before
    by_keyword = collapse(model=model)
    np.testing.assert_array_equal(net.weights, by_keyword.weights)
    np.testing.assert_array_equal(net.bias, by_keyword.bias)
    # by hand from scikit-learn's x @ W orientation: W_z = (W1 W2 ... Wn)^T, b_z = ((b1 W2 + b2) W3 + ...)
    product, bias = model.coefs_[0], model.intercepts_[0]
    for w, b in zip(model.coefs_[1:], model.intercepts_[1:]):
        product, bias = product @ w, bias @ w + b
    np.testing.assert_allclose(net.weights, product.T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(net.bias, bias, rtol=1e-12, atol=1e-15)
    assert relative_error(net.predict(x), model.predict(x)) < 1e-10


def test_positional_sklearn_network_unfitted_non_linear_or_with_biases():
    from sklearn.neural_network import MLPRegressor

    with pytest.raises(ConfigurationError, match="not fitted"):
        collapse(MLPRegressor(activation="identity"))
    x, y = _regression_data(seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        relu = MLPRegressor(hidden_layer_sizes=(4,), activation="relu", max_iter=20, random_state=0).fit(x, y)
    with pytest.raises(NotCollapsibleError, match="'relu'"):
        collapse(relu)
    with pytest.raises(ConfigurationError, match="its own biases"):
        collapse(relu, [np.zeros(4), np.zeros(1)])


class Linear:
    """A stand-in for torch.nn.Linear: ``weight`` (out, in) and ``bias`` (out,) as numpy arrays."""

    def __init__(self, weight, bias=None):
        self.weight = weight
        self.bias = bias


class FakeTensor:
    """A stand-in for a torch tensor that requires grad: only ``.detach().cpu().numpy()`` gives its values."""

    def __init__(self, values, detached=False):
        self._values = np.array(values, dtype=np.float32)  # torch's default dtype
        self._detached = detached

    def detach(self):
        return FakeTensor(self._values, detached=True)

    def cpu(self):
        return self

    def numpy(self):
        if not self._detached:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._values

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")

    @property
    def shape(self):
        return self._values.shape


class TensorLinear:
    """A stand-in for nn.Linear whose parameters are tensors (``.weight``/``.bias`` with ``.detach()``)."""

    def __init__(self, weight, bias):
        self.weight = FakeTensor(weight)
        self.bias = None if bias is None else FakeTensor(bias)


class Sequential:
    """A stand-in for nn.Sequential: iterating gives its modules."""

    def __init__(self, *modules):
        self._modules = modules

    def __iter__(self):
        return iter(self._modules)


class Identity:
    pass


class Dropout:
    pass


class ReLU:
    pass


def _pytorch_layers(seed=0, sizes=(3, 5, 4, 2)):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(fan_out, fan_in)) for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(size=fan_out) for fan_out in sizes[1:]]
    return weights, biases


def test_pytorch_style_layers_with_numpy_arrays_collapse_to_the_hand_product():
    (w1, w2, w3), (b1, b2, b3) = _pytorch_layers()
    net = collapse([Linear(w1, b1), Linear(w2, b2), Linear(w3, b3)])
    np.testing.assert_allclose(net.weights, w3 @ w2 @ w1, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(net.bias, w3 @ w2 @ b1 + w3 @ b2 + b3, rtol=1e-13, atol=1e-14)
    assert net.layer_sizes == (3, 5, 4, 2)
    x = np.random.default_rng(9).normal(size=(20, 3))
    expected = ((x @ w1.T + b1) @ w2.T + b2) @ w3.T + b3  # nn.Linear's forward: x @ W.T + b
    assert relative_error(net.predict(x), expected) < 1e-12
    # the same layers as matrices in W @ x orientation give the same map
    same = collapse([w1, w2, w3], [b1, b2, b3], orientation="w_at_x")
    np.testing.assert_allclose(net.weights, same.weights, rtol=1e-15)
    # orientation may be said, when it is the layers' own
    np.testing.assert_array_equal(collapse([Linear(w1, b1)], orientation="w_at_x").weights, w1)


def test_tensor_parameters_are_read_through_detach_cpu_numpy():
    (w1, w2, w3), (b1, b2, b3) = _pytorch_layers(seed=1)
    w1, w2, w3, b1, b2, b3 = (np.float32(v).astype(np.float64) for v in (w1, w2, w3, b1, b2, b3))
    with pytest.raises(RuntimeError):
        np.asarray(FakeTensor(w1))  # the stand-in refuses the plain route, as torch does
    net = collapse(Sequential(TensorLinear(w1, b1), Identity(), TensorLinear(w2, None), Dropout(),
                              TensorLinear(w3, b3)))
    np.testing.assert_allclose(net.weights, w3 @ w2 @ w1, rtol=1e-12)
    np.testing.assert_allclose(net.bias, w3 @ w2 @ b1 + b3, rtol=1e-12)  # layer 2 has no bias: zeros
    assert net.weights.dtype == np.float64 and net.n_layers == 3
    # tensors in plain lists of weights and biases work too
    plain = collapse([FakeTensor(w1), FakeTensor(w2)], [FakeTensor(b1), FakeTensor(b2)], orientation="w_at_x")
    np.testing.assert_allclose(plain.weights, w2 @ w1, rtol=1e-12)
    np.testing.assert_allclose(plain.bias, w2 @ b1 + b2, rtol=1e-12)


def test_single_layer_object_and_generators():
    (w1, w2, _), (b1, b2, _) = _pytorch_layers(seed=2)
    one = collapse(Linear(w1, b1))
    np.testing.assert_array_equal(one.weights, w1)
    np.testing.assert_array_equal(one.bias, b1)
    chained = collapse(layer for layer in [Linear(w1, b1), Linear(w2, b2)])
    np.testing.assert_allclose(chained.weights, w2 @ w1, rtol=1e-13)
    from_matrices = collapse((w for w in [w1, w2]), orientation="w_at_x")
    np.testing.assert_allclose(from_matrices.weights, w2 @ w1, rtol=1e-13)


def test_layer_objects_refuse_activations_mixes_and_foreign_arguments():
    (w1, w2, _), (b1, b2, _) = _pytorch_layers(seed=3)
    with pytest.raises(NotCollapsibleError, match=r"element 2 of the layers \(ReLU\)"):
        collapse(Sequential(Linear(w1, b1), ReLU(), Linear(w2, b2)))
    with pytest.raises(ConfigurationError, match="carry their own biases"):
        collapse([Linear(w1, b1), Linear(w2, b2)], [b1, b2])
    with pytest.raises(ConfigurationError, match="nn.Linear convention"):
        collapse([Linear(w1, b1), Linear(w2, b2)], orientation="x_at_w")
    with pytest.raises(ConfigurationError, match="not a mix"):
        collapse([Linear(w1, b1), w2])
    with pytest.raises(ConfigurationError, match=r"layer 2 expects 3 input\(s\) but layer 1 gives 5") as caught:
        collapse([Linear(w1, b1), Linear(w1, b1)])
    assert "(5, 3) and (5, 3)" in str(caught.value)
    with pytest.raises(ConfigurationError, match="2-D"):
        collapse([Linear(np.ones(3), b1)])
    with pytest.raises(ConfigurationError, match="got object"):
        collapse(object())
