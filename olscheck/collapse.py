"""A network with identity activations is one affine map: collapse it.

Stacking affine layers with the identity between them gives

    y = W_n (... (W_2 (W_1 x + b_1) + b_2) ...) + b_n = W_z x + b_z,

    W_z = W_n W_{n-1} ... W_1,
    b_z = W_n ... W_2 b_1 + W_n ... W_3 b_2 + ... + W_n b_{n-1} + b_n,

so however deep or wide, such a network can represent exactly the affine
functions of x: it *is* a linear regression, and the least-squares optimum of
any such network trained on squared error is the OLS fit. :func:`collapse`
computes ``W_z`` and ``b_z`` from the layers' matrices, from a fitted
scikit-learn ``MLPRegressor(activation="identity")`` (``collapse(net)``), or
from PyTorch-style layer objects (``collapse([nn.Linear(3, 8), nn.Linear(8, 1)])``,
duck-typed on ``.weight``/``.bias``; torch is never imported).

A non-linear activation (ReLU, tanh, logistic...) breaks the identity: the
composition is no longer affine, so :func:`collapse` refuses it with
:class:`~olscheck.errors.NotCollapsibleError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConfigurationError, DataError, NotCollapsibleError

__all__ = ["CollapsedNetwork", "collapse", "IDENTITY_NAMES", "ORIENTATIONS"]

#: Activation names that mean "no activation" (scikit-learn says
#: ``identity``, Keras ``linear``; None means none was applied).
IDENTITY_NAMES = frozenset({"identity", "linear", "none"})

#: How a layer's weight matrix multiplies its input: ``"w_at_x"`` is the
#: textbook ``W @ x`` with ``W`` of shape (outputs, inputs), as in PyTorch's
#: ``nn.Linear.weight``; ``"x_at_w"`` is ``x @ W`` with ``W`` of shape
#: (inputs, outputs), as in scikit-learn's ``coefs_`` and Keras' kernels.
ORIENTATIONS = ("x_at_w", "w_at_x")


@dataclass(frozen=True, eq=False)
class CollapsedNetwork:
    """The affine map ``y = W_z x + b_z`` a linear-activation network computes.

    Attributes
    ----------
    weights : ndarray, shape (outputs, inputs)
        ``W_z = W_n ... W_1`` in ``W @ x`` orientation (row ``k`` holds the
        slopes of output ``k``), whatever orientation the layers came in.
    bias : ndarray, shape (outputs,)
        ``b_z = sum_i W_n ... W_{i+1} b_i``.
    layer_sizes : tuple of int
        Widths from the input to the output, e.g. ``(3, 16, 8, 1)``.
    feature_names : tuple of str or None
        Input names, when the model knew them (scikit-learn's
        ``feature_names_in_``); used by :meth:`equation` by default.
    """

    weights: np.ndarray
    bias: np.ndarray
    layer_sizes: tuple[int, ...]
    feature_names: tuple[str, ...] | None = None

    @property
    def n_inputs(self) -> int:
        return int(self.weights.shape[1])

    @property
    def n_outputs(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_layers(self) -> int:
        """Number of affine layers that were collapsed (hidden layers + output layer)."""
        return len(self.layer_sizes) - 1

    def predict(self, x: Any) -> np.ndarray:
        """``x @ W_z.T + b_z`` for the rows of ``x``.

        Parameters
        ----------
        x : array-like, shape (n, inputs)
            One row per observation. A 1-D array is read as ``n`` values of
            the single input when the network has one input.

        Returns
        -------
        ndarray, shape (n,) for one output, (n, outputs) otherwise.
        """
        values = np.asarray(x, dtype=float)
        if values.ndim == 1 and self.n_inputs == 1:
            values = values[:, None]
        if values.ndim != 2 or values.shape[1] != self.n_inputs:
            raise DataError(
                f"predict needs a 2-D array with {self.n_inputs} column(s), one per network input; "
                f"got shape {values.shape}."
            )
        out = values @ self.weights.T + self.bias
        return out[:, 0] if self.n_outputs == 1 else out

    def equation(
        self,
        feature_names: Sequence[str] | None = None,
        target_name: str | Sequence[str] = "y",
        digits: int = 4,
    ) -> str:
        """The map as text: ``"y = 1.2 + 0.5·x1 - 3·x2"``.

        Parameters
        ----------
        feature_names : sequence of str, optional
            One name per input; defaults to :attr:`feature_names`, else
            ``x1, x2, ...``.
        target_name : str or sequence of str
            Name of the output; with several outputs a sequence of names, or
            one stem that is numbered (``y1, y2, ...``).
        digits : int
            Significant digits of each coefficient.

        Returns
        -------
        str
            One equation per output, separated by newlines.
        """
        names = list(feature_names) if feature_names is not None else (
            list(self.feature_names) if self.feature_names is not None
            else [f"x{j + 1}" for j in range(self.n_inputs)]
        )
        if len(names) != self.n_inputs:
            raise ConfigurationError(
                f"equation needs {self.n_inputs} feature name(s), one per network input; got {len(names)}."
            )
        if isinstance(target_name, str):
            targets = [target_name] if self.n_outputs == 1 else [f"{target_name}{k + 1}" for k in range(self.n_outputs)]
        else:
            targets = list(target_name)
            if len(targets) != self.n_outputs:
                raise ConfigurationError(
                    f"equation needs {self.n_outputs} target name(s), one per network output; got {len(targets)}."
                )
        lines = []
        for k, target in enumerate(targets):
            text = _signed_number(self.bias[k], digits, leading=True)
            for name, value in zip(names, self.weights[k]):
                text += " " + _signed_number(value, digits, leading=False) + f"·{name}"
            lines.append(f"{target} = {text}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: ``weights`` (outputs x inputs), ``bias``, sizes, the equation."""
        return {
            "weights": [[float(v) for v in row] for row in self.weights],
            "bias": [float(v) for v in self.bias],
            "orientation": "w_at_x",
            "n_inputs": self.n_inputs,
            "n_outputs": self.n_outputs,
            "n_layers": self.n_layers,
            "layer_sizes": list(self.layer_sizes),
            "feature_names": None if self.feature_names is None else list(self.feature_names),
            "equation": self.equation(),
        }


def collapse(
    weights: Any = None,
    biases: Sequence[Any] | None = None,
    *,
    orientation: str | None = None,
    activations: str | Sequence[str | None] | None = None,
    model: Any = None,
    extended_precision: bool = False,
) -> CollapsedNetwork:
    r"""Collapse a network with identity activations to ``y = W_z x + b_z``.

    With layers ``h_i = W_i h_{i-1} + b_i`` (``h_0 = x``) and the identity
    as every activation,

    .. math::

        W_z = W_n W_{n-1} \cdots W_1, \qquad
        b_z = \sum_{i=1}^{n} W_n \cdots W_{i+1}\, b_i,

    computed by carrying ``(W, b)`` through the layers:
    ``W <- W_i W``, ``b <- W_i b + b_i``.

    Parameters
    ----------
    weights : sequence of array-like, a fitted MLPRegressor, or layer objects
        Weight matrices from the input layer to the output layer. Also
        accepted here: a fitted scikit-learn ``MLPRegressor`` (as
        ``model=``), or a sequence of layer objects with ``weight`` and
        ``bias`` attributes in PyTorch's ``nn.Linear`` convention (``weight``
        of shape (outputs, inputs), ``bias`` of shape (outputs,) or None),
        such as a list of ``nn.Linear`` or an ``nn.Sequential`` of them.
        Tensors are read with ``.detach().cpu().numpy()``; torch itself is
        never imported. Elements named ``Identity`` or ``Dropout`` (the identity
        at inference) are skipped; any other
        element without a ``weight`` (``ReLU``, ``Tanh``...) is a non-linear
        step and raises :class:`~olscheck.errors.NotCollapsibleError`.
    biases : sequence of array-like, optional
        Bias vectors, one per layer (zeros when omitted). Not with layer
        objects, which carry their own.
    orientation : {"x_at_w", "w_at_x"}, optional
        ``"x_at_w"``: layer ``i`` computes ``h @ W_i`` and ``W_i`` has shape
        (inputs, outputs) -- scikit-learn's ``coefs_`` (the default for
        matrices). ``"w_at_x"``: layer ``i`` computes ``W_i @ h`` and ``W_i``
        has shape (outputs, inputs) -- the textbook form, PyTorch's
        ``nn.Linear`` (the only one for layer objects).
    activations : str or sequence of str, optional
        The activation after each layer (``n`` names), or after each hidden
        layer (``n - 1`` names; the output layer is then the identity, as in
        regression networks), or one name for all. Only ``"identity"``,
        ``"linear"`` and ``None`` collapse. Omitted: identity throughout.
    model : sklearn.neural_network.MLPRegressor, optional
        A fitted scikit-learn network; used instead of ``weights``/``biases``.
        It must have ``activation="identity"``.
    extended_precision : bool
        Accumulate the products in ``np.longdouble`` (80-bit on x86-64) and
        round once at the end; for very deep or badly scaled networks.

    Returns
    -------
    CollapsedNetwork

    Raises
    ------
    NotCollapsibleError
        An activation is not the identity: ReLU, tanh, logistic... make the
        network a non-linear function of ``x``, which no single linear map
        reproduces.
    ConfigurationError
        The layers do not chain (a layer's input width differs from the
        previous layer's output width), a bias has the wrong length, or the
        arguments are inconsistent.

    Notes
    -----
    This is why olscheck's question is whether *ordinary least squares*
    suits the data: a linear-activation network of any depth trained to its
    squared-error optimum reproduces the OLS fit (Baldi & Hornik, *Neural
    Networks* 2, 1989, show every local minimum of a linear network is
    global; Saxe, McClelland & Ganguli, ICLR 2014, analyse the dynamics).
    Depth only changes the optimisation path, not the function class.

    Examples
    --------
    >>> import numpy as np
    >>> net = collapse([np.array([[1.0, 2.0]]), np.array([[3.0]])],
    ...                [np.array([0.5]), np.array([1.0])], orientation="w_at_x")
    >>> net.weights, net.bias
    (array([[3., 6.]]), array([2.5]))
    >>> net.equation()
    'y = 2.5 + 3·x1 + 6·x2'
    """
    feature_names = None
    if isinstance(weights, Iterator):  # a generator of layers: read it once
        weights = list(weights)
    if model is None and _is_sklearn_network(weights):  # collapse(net): the fitted network given positionally
        model, weights = weights, None
        if biases is not None:
            raise ConfigurationError("a scikit-learn network carries its own biases; call collapse(net) alone.")
    if model is not None:
        if weights is not None or biases is not None:
            raise ConfigurationError("pass either model=... or weights/biases, not both.")
        weights, biases, activations, feature_names = _from_sklearn(model)
        orientation = "x_at_w"
    elif weights is not None and _is_layer_sequence(weights):
        if biases is not None:
            raise ConfigurationError(
                "layer objects carry their own biases (their .bias); pass the layers alone, without biases."
            )
        if orientation not in (None, "w_at_x"):
            raise ConfigurationError(
                f"layer objects with .weight/.bias follow PyTorch's nn.Linear convention (weight of shape "
                f"(outputs, inputs), orientation 'w_at_x'); orientation={orientation!r} does not apply to them."
            )
        weights, biases = _from_layer_objects(weights)
        orientation = "w_at_x"
    if orientation is None:
        orientation = "x_at_w"
    if weights is not None and not isinstance(weights, np.ndarray):
        try:
            iter(weights)
        except TypeError:
            raise ConfigurationError(
                f"collapse needs a list of weight matrices, a fitted scikit-learn MLPRegressor, or layer objects "
                f"with .weight/.bias (PyTorch nn.Linear style); got {type(weights).__name__}."
            ) from None
    if weights is None:
        raise ConfigurationError("collapse needs the layers' weights (a list of matrices) or a fitted model=...")
    if orientation not in ORIENTATIONS:
        raise ConfigurationError(f"orientation must be 'x_at_w' or 'w_at_x', not {orientation!r}.")
    if isinstance(weights, np.ndarray) and weights.ndim == 2:
        weights = [weights]  # one layer given as a bare matrix
    layers = [_as_matrix(w, i, orientation) for i, w in enumerate(weights, start=1)]
    if not layers:
        raise ConfigurationError("collapse needs at least one layer; weights is empty.")
    n_layers = len(layers)
    _check_activations(activations, n_layers)
    for i in range(1, n_layers):
        previous_out = layers[i - 1].shape[0]
        this_in = layers[i].shape[1]
        if this_in != previous_out:
            raise ConfigurationError(
                f"layer {i + 1} expects {this_in} input(s) but layer {i} gives {previous_out} output(s) "
                f"(orientation {orientation!r}: weight shapes {_given_shape(layers[i - 1], orientation)} and "
                f"{_given_shape(layers[i], orientation)}). Check the orientation or the order of the layers."
            )
    if biases is None:
        bias_vectors = [np.zeros(w.shape[0]) for w in layers]
    else:
        biases = list(biases)
        if len(biases) != n_layers:
            raise ConfigurationError(f"got {n_layers} weight matrices but {len(biases)} bias vectors; give one per layer.")
        bias_vectors = [_as_bias(b, i, w.shape[0]) for i, (b, w) in enumerate(zip(biases, layers), start=1)]

    dtype = np.longdouble if extended_precision else np.float64
    total_weights = layers[0].astype(dtype)
    total_bias = bias_vectors[0].astype(dtype)
    for w, b in zip(layers[1:], bias_vectors[1:]):
        w = w.astype(dtype)
        total_weights = w @ total_weights
        total_bias = w @ total_bias + b.astype(dtype)
    total_weights = np.array(total_weights, dtype=np.float64)
    total_bias = np.array(total_bias, dtype=np.float64)
    total_weights.setflags(write=False)
    total_bias.setflags(write=False)
    sizes = (layers[0].shape[1],) + tuple(w.shape[0] for w in layers)
    if feature_names is not None and len(feature_names) != sizes[0]:
        feature_names = None
    return CollapsedNetwork(weights=total_weights, bias=total_bias, layer_sizes=sizes, feature_names=feature_names)


# ---------------------------------------------------------------------------
def _from_sklearn(model: Any):
    """Layers, activations and input names of a fitted scikit-learn MLP."""
    if not hasattr(model, "activation") or not hasattr(model, "hidden_layer_sizes"):
        raise ConfigurationError(
            f"model must be a scikit-learn MLPRegressor; got {type(model).__name__}."
        )
    if not hasattr(model, "coefs_"):
        raise ConfigurationError("the MLPRegressor is not fitted yet (it has no coefs_); call .fit(X, y) first.")
    n_hidden = len(model.coefs_) - 1
    activations = [model.activation] * n_hidden + [getattr(model, "out_activation_", "identity")]
    names = getattr(model, "feature_names_in_", None)
    names = None if names is None else tuple(str(n) for n in names)
    return list(model.coefs_), list(model.intercepts_), activations, names


def _is_sklearn_network(value: Any) -> bool:
    """A scikit-learn MLP (fitted or not): it has an activation and hidden layer sizes, and is no sequence."""
    return (value is not None and not isinstance(value, (list, tuple, np.ndarray))
            and hasattr(value, "activation") and hasattr(value, "hidden_layer_sizes"))


def _has_weight(value: Any) -> bool:
    return not isinstance(value, np.ndarray) and hasattr(value, "weight")


def _is_layer_sequence(value: Any) -> bool:
    """One layer object, or an iterable (list, nn.Sequential...) holding at least one, duck-typed on ``.weight``."""
    if isinstance(value, (np.ndarray, str, bytes)):
        return False
    if _has_weight(value):
        return True
    try:
        items = list(value)
    except TypeError:
        return False
    return any(_has_weight(item) for item in items)


#: Class names of layers that pass their input through unchanged at inference (skipped when collapsing
#: layer objects): PyTorch's ``nn.Identity``, and ``nn.Dropout``, the identity in evaluation mode.
_PASS_THROUGH = frozenset({"identity", "dropout"})


def _from_layer_objects(value: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weights (outputs, inputs) and biases of layer objects in PyTorch's ``nn.Linear`` convention."""
    items = [value] if _has_weight(value) else list(value)
    weights, biases = [], []
    for position, item in enumerate(items, start=1):
        kind = type(item).__name__
        if not _has_weight(item):
            if kind.lower() in _PASS_THROUGH or kind.lower() in IDENTITY_NAMES:
                continue
            if isinstance(item, (np.ndarray, list, tuple)) or hasattr(item, "__array__"):
                raise ConfigurationError(
                    f"element {position} of the layers is a matrix ({kind}) among layer objects; give either "
                    "weight matrices or layer objects with .weight/.bias, not a mix."
                )
            raise NotCollapsibleError(
                f"element {position} of the layers ({kind}) is not an affine layer with .weight and .bias; "
                "only a network of affine layers with the identity between them collapses to one linear map "
                "y = W_z x + b_z. An activation such as ReLU or tanh makes the network a non-linear function of "
                "x, which no single weight matrix reproduces."
            )
        weight = _as_array(item.weight, f"the weight of layer {position} ({kind}) is not a numeric array")
        if weight.ndim != 2:
            raise ConfigurationError(
                f"weight of layer {position} ({kind}) has shape {weight.shape}; a PyTorch-style layer holds a "
                "2-D (outputs, inputs) matrix."
            )
        bias = getattr(item, "bias", None)
        weights.append(weight)
        biases.append(np.zeros(weight.shape[0]) if bias is None
                      else _as_array(bias, f"the bias of layer {position} ({kind}) is not a numeric array"))
    if not weights:
        raise ConfigurationError("collapse found no layer with a .weight among the objects given.")
    return weights, biases


def _as_array(value: Any, problem: str) -> np.ndarray:
    """A numpy array from an array, or from a tensor via ``.detach().cpu().numpy()`` (torch is not imported)."""
    try:
        if hasattr(value, "detach"):
            value = value.detach()
        if hasattr(value, "cpu"):
            value = value.cpu()
        if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
            value = value.numpy()
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError, RuntimeError) as error:
        raise ConfigurationError(f"{problem} ({error}).") from None


def _check_activations(activations, n_layers: int) -> None:
    if activations is None:
        return
    if isinstance(activations, str):
        activations = [activations] * n_layers
    activations = list(activations)
    # n - 1 names cover the hidden layers only; the output layer is then the identity
    if len(activations) not in (n_layers - 1, n_layers):
        raise ConfigurationError(
            f"activations has {len(activations)} entries; a {n_layers}-layer network needs {n_layers} "
            f"(one per layer) or {n_layers - 1} (one per hidden layer)."
        )
    for layer, name in enumerate(activations, start=1):
        if name is None:
            continue
        if not isinstance(name, str):
            raise ConfigurationError(f"activation of layer {layer} must be a name such as 'identity'; got {name!r}.")
        if name.strip().lower() not in IDENTITY_NAMES:
            where = "output layer" if layer == n_layers else f"layer {layer}"
            raise NotCollapsibleError(
                f"the {where} uses the non-linear activation {name!r}; only a network whose activations are all "
                "the identity collapses to one linear map y = W_z x + b_z. With a non-linear activation the "
                "network is a non-linear function of x (that is what lets it fit curvature and interactions), "
                "so no single weight matrix reproduces it."
            )


def _as_matrix(value: Any, layer: int, orientation: str) -> np.ndarray:
    """Layer weights as a float (outputs, inputs) matrix."""
    matrix = _as_array(value, f"weights of layer {layer} are not a numeric matrix")
    if matrix.ndim != 2:
        raise ConfigurationError(f"weights of layer {layer} must be a 2-D matrix; got shape {matrix.shape}.")
    if matrix.size == 0:
        raise ConfigurationError(f"weights of layer {layer} are empty (shape {matrix.shape}).")
    if not np.all(np.isfinite(matrix)):
        raise ConfigurationError(f"weights of layer {layer} contain NaN or infinite values.")
    return matrix.T if orientation == "x_at_w" else matrix


def _given_shape(matrix: np.ndarray, orientation: str) -> tuple[int, ...]:
    """A layer's weight shape as the caller gave it (``_as_matrix`` stores (outputs, inputs))."""
    return tuple(matrix.T.shape if orientation == "x_at_w" else matrix.shape)


def _as_bias(value: Any, layer: int, width: int) -> np.ndarray:
    vector = _as_array(value, f"bias of layer {layer} is not numeric")
    if vector.ndim == 2 and 1 in vector.shape:  # a column or row vector
        vector = vector.ravel()
    if vector.ndim == 0 and width == 1:
        vector = vector.reshape(1)
    if vector.ndim != 1 or vector.shape[0] != width:
        raise ConfigurationError(
            f"bias of layer {layer} has shape {vector.shape} but layer {layer} has {width} output(s)."
        )
    if not np.all(np.isfinite(vector)):
        raise ConfigurationError(f"bias of layer {layer} contains NaN or infinite values.")
    return vector


def _signed_number(value: float, digits: int, leading: bool) -> str:
    number = f"{abs(float(value)):.{digits}g}"
    if leading:
        return f"-{number}" if value < 0 else number
    return f"- {number}" if value < 0 else f"+ {number}"
