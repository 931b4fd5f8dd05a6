"""Properties every report must have, checked on generated data (hypothesis).

* Affine changes of units: y -> a·y + c and x_j -> a·x_j + c change the
  coefficients exactly as least-squares theory says and leave every test
  statistic, p-value and effect size unchanged. (The exceptions theory
  predicts: Belsley's condition indices use the uncentred columns, so they
  move when a predictor is shifted; signed statistics change sign with a < 0.)
* Reordering rows changes only the order-based tests (Durbin-Watson,
  Breusch-Godfrey, Harvey-Collier, Rainbow, Goldfeld-Quandt), and nothing at
  all when ``order_by`` fixes the order.
* On arbitrary, messy data ``check`` either raises an OlscheckError or returns
  a report whose JSON is strict (no NaN/Infinity) and valid against the
  schema; the caller's DataFrame is bit-for-bit unchanged either way.

Examples are bounded and derandomized so CI time and outcome are stable; set
OLSCHECK_HYPOTHESIS_RANDOM=1 (and OLSCHECK_HYPOTHESIS_EXAMPLES=500) to explore.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import olscheck
from olscheck.errors import OlscheckError
from tests.helpers import SHARED, bounded

SCHEMA_PATH = SHARED / "contract" / "report.schema.json"
needs_schema = pytest.mark.skipif(
    not SCHEMA_PATH.is_file(), reason="../shared/contract/report.schema.json is not beside this checkout"
)


#: Tests whose value depends on the order of the rows (lmtest's defaults use data order).
ORDER_BASED = {"durbin_watson", "breusch_godfrey", "harvey_collier", "rainbow", "goldfeld_quandt"}


def check(frame, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return olscheck.check(frame, probe=False, **kwargs)


# --------------------------------------------------------------------------- data
@st.composite
def regression_frames(draw, min_rows: int = 15, max_rows: int = 60):
    """Ordinary, well-posed regression data: 1-3 numeric predictors, maybe a factor."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(min_rows, max_rows))
    k = draw(st.integers(1, 3))
    factor = draw(st.booleans())
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, k)) * rng.uniform(0.5, 3.0, size=k) + rng.normal(size=k)
    frame = pd.DataFrame(x, columns=[f"x{j + 1}" for j in range(k)])
    y = x @ rng.normal(size=k) + rng.normal(size=n) * (1 + draw(st.sampled_from([0.0, 0.5])) * np.abs(x[:, 0]))
    if factor:
        frame["g"] = rng.choice(["a", "b", "c"], size=n)
        y = y + frame["g"].map({"a": 0.0, "b": 1.0, "c": -0.5}).to_numpy()
    if draw(st.booleans()):  # some curvature, so linearity tests are not all trivially OK
        y = y + 0.3 * x[:, 0] ** 2
    frame.insert(0, "y", y)
    return frame


def nonzero_factor():
    magnitude = st.floats(1e-3, 1e3)
    return st.tuples(magnitude, st.booleans()).map(lambda t: -t[0] if t[1] else t[0])


def _close(actual, expected, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    return math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol)


def assert_same_tests(report, reference, *, skip=(), signed_ok: bool | set = False):
    """Statistic, p-value, effect and df of every test agree (up to sign when ``signed_ok`` says so)."""
    assert set(report.tests) == set(reference.tests)
    for name, expected in reference.tests.items():
        if name in skip:
            continue
        actual = report.tests[name]
        assert actual.computable == expected.computable, name
        assert actual.df == expected.df, name
        for attribute in ("statistic", "p_value", "effect"):
            a, e = getattr(actual, attribute), getattr(expected, attribute)
            unsigned = signed_ok is True or (isinstance(signed_ok, set) and name in signed_ok)
            if unsigned and a is not None and e is not None:
                a, e = abs(a), abs(e)
            assert _close(a, e), f"{name}.{attribute}: {a!r} != {e!r}"


def assert_same_vif(report, reference):
    left = list(_numbers(report.collinearity.to_dict()["vif"]))
    right = list(_numbers(reference.collinearity.to_dict()["vif"]))
    assert len(left) == len(right)
    for a, e in zip(left, right):
        assert _close(a, e), (a, e)


def _numbers(value):
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _numbers(value[key])
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, float):
        yield value


# --------------------------------------------------------------------------- units of the target
@bounded(30)
@given(frame=regression_frames(), a=nonzero_factor(), c=st.floats(-1e3, 1e3))
def test_affine_change_of_target_units(frame, a, c):
    reference = check(frame, target="y")
    report = check(frame.assign(y=a * frame["y"] + c), target="y")
    # b -> a b for slopes, b0 -> a b0 + c, se -> |a| se, t -> sign(a) t
    expected = reference.model.coefficients * a
    expected["Intercept"] += c
    np.testing.assert_allclose(report.model.coefficients, expected, rtol=1e-8, atol=1e-8 * (abs(c) + abs(a)))
    np.testing.assert_allclose(report.model.std_errors, reference.model.std_errors * abs(a), rtol=1e-8)
    # slopes' t-tests are invariant; the intercept's (H0: b0 = 0) is not when c != 0
    slopes = [name for name in reference.model.p_values.index if name != "Intercept"]
    np.testing.assert_allclose(report.model.p_values[slopes], reference.model.p_values[slopes], rtol=1e-6, atol=1e-12)
    assert report.model.sigma == pytest.approx(reference.model.sigma * abs(a), rel=1e-8)
    assert report.model.r_squared == pytest.approx(reference.model.r_squared, rel=1e-8, abs=1e-12)
    assert_same_tests(report, reference, signed_ok=a < 0)
    assert_same_vif(report, reference)


# --------------------------------------------------------------------------- units of a predictor
@bounded(30)
@given(frame=regression_frames(), a=nonzero_factor(), c=st.one_of(st.just(0.0), st.floats(-1e3, 1e3)))
def test_affine_change_of_predictor_units(frame, a, c):
    reference = check(frame, target="y")
    report = check(frame.assign(x1=a * frame["x1"] + c), target="y")
    b = reference.model.coefficients
    expected = b.copy()
    expected["x1"] = b["x1"] / a
    expected["Intercept"] = b["Intercept"] - b["x1"] * c / a
    scale = np.abs(reference.model.coefficients).max()
    np.testing.assert_allclose(report.model.coefficients, expected, rtol=1e-7, atol=1e-9 * scale * (1 + abs(c)))
    assert report.model.std_errors["x1"] == pytest.approx(reference.model.std_errors["x1"] / abs(a), rel=1e-7)
    np.testing.assert_allclose(report.model.residuals, reference.model.residuals, rtol=1e-6,
                               atol=1e-8 * float(np.abs(frame["y"]).max()))
    # Belsley's condition indices scale columns but do not centre them: invariant to
    # scaling only. Signs of t-type statistics follow the sign of x1's coefficient.
    skip = () if c == 0.0 else ("condition_index",)
    assert_same_tests(report, reference, skip=skip, signed_ok=a < 0)
    assert_same_vif(report, reference)


# --------------------------------------------------------------------------- row order
@bounded(30)
@given(frame=regression_frames(), permutation_seed=st.integers(0, 2**32 - 1))
def test_row_permutation_changes_only_the_order_based_tests(frame, permutation_seed):
    shuffled = frame.iloc[np.random.default_rng(permutation_seed).permutation(len(frame))]
    reference = check(frame, target="y")
    report = check(shuffled, target="y")
    np.testing.assert_allclose(report.model.coefficients, reference.model.coefficients, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(report.model.std_errors, reference.model.std_errors, rtol=1e-9)
    # per-row values travel with their row labels
    pd.testing.assert_series_equal(report.model.leverage.sort_index(), reference.model.leverage.sort_index(),
                                   rtol=1e-8, atol=1e-12)
    # The outlier test reports the signed studentized residual of the most extreme row,
    # the first in data order among ties (as car::outlierTest); a level with two rows
    # has two residuals of equal size and opposite sign, so only the size is invariant.
    assert_same_tests(report, reference, skip=ORDER_BASED, signed_ok={"outlier_test"})
    assert_same_vif(report, reference)
    influence, influence_reference = report.influence.to_dict(), reference.influence.to_dict()
    assert influence["n_influential"] == influence_reference["n_influential"]
    assert _close(influence["max_cooks_distance"], influence_reference["max_cooks_distance"])
    assert _close(influence["max_leverage"], influence_reference["max_leverage"])


@bounded(25)
@given(frame=regression_frames(), permutation_seed=st.integers(0, 2**32 - 1))
def test_row_permutation_changes_nothing_when_order_by_fixes_the_order(frame, permutation_seed):
    frame = frame.assign(t=np.random.default_rng(permutation_seed).permutation(len(frame)) * 1.5)
    shuffled = frame.iloc[np.random.default_rng(permutation_seed + 1).permutation(len(frame))]
    reference = check(frame, target="y", order_by="t")
    report = check(shuffled, target="y", order_by="t")
    assert_same_tests(report, reference)
    assert list(report.model.residuals.index) == list(reference.model.residuals.index)


# --------------------------------------------------------------------------- anything goes
_ODD_FLOATS = st.one_of(
    st.floats(-10, 10),
    st.floats(allow_nan=True, allow_infinity=False),
    st.sampled_from([np.nan, 0.0, 1.0, 1e300, -1e300, 1e-300, 5e-324, 1.7e308, np.inf, -np.inf]),
)
_TEXT = st.one_of(st.sampled_from(["a", "b", "c", "", "NA", "n/a", "1", "2.5", "<b>x</b>", "é"]), st.none())


@st.composite
def messy_frames(draw):
    """Small frames of the kind nobody cleaned: odd floats, text, None, bools, categories, odd names."""
    n = draw(st.integers(0, 25))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    columns = {}
    columns["y"] = (draw(st.lists(_ODD_FLOATS, min_size=n, max_size=n)) if draw(st.booleans())
                    else list(rng.normal(size=n)))
    kinds = draw(st.lists(st.sampled_from(["normal", "odd", "text", "bool", "category", "constant", "copy",
                                           "int_na", "object_numbers", "datetime"]), max_size=4))
    names = draw(st.lists(st.sampled_from(["x", "x2", "<i>h</i>", "δ", "a b", "1", "Intercept", "y2"]),
                          min_size=len(kinds), max_size=len(kinds), unique=True))
    for name, kind in zip(names, kinds):
        if kind == "normal":
            columns[name] = rng.normal(size=n)
        elif kind == "odd":
            columns[name] = draw(st.lists(_ODD_FLOATS, min_size=n, max_size=n))
        elif kind == "text":
            columns[name] = draw(st.lists(_TEXT, min_size=n, max_size=n))
        elif kind == "bool":
            columns[name] = rng.random(n) > 0.5
        elif kind == "category":
            columns[name] = pd.Categorical(rng.choice(["lo", "mid", "hi"], size=n), categories=["lo", "mid", "hi", "x"])
        elif kind == "constant":
            columns[name] = np.full(n, 2.0)
        elif kind == "copy":
            columns[name] = np.asarray(columns["y"], dtype=object) if draw(st.booleans()) else rng.normal(size=n)
        elif kind == "int_na":
            columns[name] = pd.array([None if v < 0.2 else int(v * 10) for v in rng.random(n)], dtype="Int64")
        elif kind == "object_numbers":
            columns[name] = [str(round(v, 3)) if v > -1.5 else "?" for v in rng.normal(size=n)]
        elif kind == "datetime":
            columns[name] = pd.date_range("2020-01-01", periods=n, freq="D")
    frame = pd.DataFrame(columns)
    if draw(st.booleans()) and n:
        frame.index = pd.Index(rng.permutation(n) * 10)
    return frame


def _options(draw_kind: int, frame: pd.DataFrame) -> dict:
    predictors = [c for c in frame.columns if c != "y"]
    return [
        {"target": "y"},
        {"target": "y", "predictors": predictors[:1]},
        {"target": "y", "intercept": False},
        {"target": "y", "order_by": predictors[-1]} if predictors else {"target": "y"},
    ][draw_kind]


def _fingerprint(frame: pd.DataFrame):
    """Everything that makes a DataFrame what it is, floats to the bit."""
    cells = []
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind == "f":
            cells.append(("bits", column.to_numpy().view(np.uint64).tobytes()))
        else:
            cells.append(("values", [repr(v) for v in column.tolist()]))
    return (list(map(repr, frame.columns)), [str(d) for d in frame.dtypes], repr(frame.index.tolist()),
            frame.index.dtype, cells, dict(frame.attrs), frame.flags.allows_duplicate_labels)


def _validator():
    if not SCHEMA_PATH.is_file():
        return None
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema)


_VALIDATOR = _validator()


@bounded(40)
@given(frame=messy_frames(), kind=st.integers(0, 3))
def test_messy_data_gives_an_olscheck_error_or_a_strict_valid_report_and_never_touches_the_frame(frame, kind):
    before = _fingerprint(frame)
    copy = frame.copy(deep=True)
    try:
        report = check(frame, **_options(kind, frame))
    except OlscheckError as error:
        assert str(error).strip(), "an error must say what is wrong"
    else:
        text = report.to_json()
        document = json.loads(text, parse_constant=lambda token: pytest.fail(f"non-strict JSON constant {token}"))
        if _VALIDATOR is not None:
            errors = sorted(_VALIDATOR.iter_errors(document), key=str)
            assert not errors, errors[0].message
        assert document["data"]["n_used"] + document["data"]["n_dropped"] == document["data"]["n_rows"]
        for name, test in document["tests"].items():
            assert test["computable"] or test.get("reason"), name
    assert _fingerprint(frame) == before
    pd.testing.assert_frame_equal(frame, copy, check_exact=True)


@bounded(25)
@given(frame=regression_frames(min_rows=12, max_rows=40), kind=st.integers(0, 3))
def test_ordinary_data_gives_a_strict_valid_report_and_never_touches_the_frame(frame, kind):
    frame.loc[frame.index[::7], "x1"] = np.nan  # some missing values to drop
    before = _fingerprint(frame)
    report = check(frame, **_options(kind, frame))
    document = json.loads(report.to_json(), parse_constant=lambda token: pytest.fail(f"non-strict constant {token}"))
    if _VALIDATOR is not None:
        errors = sorted(_VALIDATOR.iter_errors(document), key=str)
        assert not errors, errors[0].message
    assert _fingerprint(frame) == before


@needs_schema
def test_schema_validation_is_active():
    # the property tests above validate only when the schema is present; make a skip visible
    assert _VALIDATOR is not None
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"y": rng.normal(size=20), "x": rng.normal(size=20)})
    assert not list(_VALIDATOR.iter_errors(json.loads(check(data, target="y").to_json())))
