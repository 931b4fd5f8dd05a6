"""The streaming engine against the in-memory path: same report, number for number (1e-9 relative).

The in-memory ``olscheck.check`` is the reference (itself tested against R);
every numeric field of ``report.to_dict()`` is compared, so a streamed
statistic that drifts anywhere fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import olscheck
from olscheck.engine import check_streaming
from olscheck.errors import ConfigurationError
from olscheck.model.fit import EXACT_FIT_REASON

RELATIVE = 1e-9
#: numbers this small are rounding noise (e.g. variance proportions of 1e-28); compared absolutely
ABSOLUTE = 1e-12
#: what the streaming engine reports differently on purpose
IGNORED = {"/nonlinearity/probe/reason", "/options/engine", "/options/chunk_rows", "/options/exact_rows"}


def differences(expected, actual, path=""):
    """Paths where two report dictionaries differ (numbers beyond the tolerance)."""
    out = []
    if path in IGNORED:
        return out
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in set(expected) | set(actual):
            child = f"{path}/{key}"
            if child in IGNORED:
                continue
            if key not in expected or key not in actual:
                out.append(f"{child}: missing")
            else:
                out.extend(differences(expected[key], actual[key], child))
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: {len(expected)} != {len(actual)} items"]
        for i, (a, b) in enumerate(zip(expected, actual)):
            out.extend(differences(a, b, f"{path}[{i}]"))
    elif isinstance(expected, float) and isinstance(actual, (float, int)) and not isinstance(actual, bool):
        if not math.isclose(expected, actual, rel_tol=RELATIVE, abs_tol=ABSOLUTE):
            out.append(f"{path}: {expected!r} != {actual!r}")
    elif expected != actual:
        out.append(f"{path}: {str(expected)[:80]!r} != {str(actual)[:80]!r}")
    return out


def make_frame(n: int = 240, seed: int = 7) -> pd.DataFrame:
    """Collinear, heteroskedastic, with a factor, an offset column and missing values."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = 0.6 * x1 + rng.normal(size=n)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    noise = rng.normal(size=n) * (1.0 + 0.6 * np.abs(x1))
    y = 3.0 + 2.0 * x1 - x2 + np.where(group == "b", 0.7, 0.0) + noise
    frame = pd.DataFrame({"y": y, "x1": x1 + 1000.0, "x2": x2, "g": group})
    frame.loc[5, "y"] = np.nan
    frame.loc[17, "x2"] = np.nan
    return frame


def assert_same(reference, streamed):
    expected = reference.to_dict()
    if expected["nonlinearity"]["transforms"] is not None:
        # the streaming engine does not try transforms (they refit the model on every row)
        expected["nonlinearity"]["transforms"] = None
        expected["verdict"].pop("summary")
        actual = streamed.to_dict()
        actual["verdict"].pop("summary")
        problems = differences(expected, actual)
    else:
        problems = differences(expected, streamed.to_dict())
    assert not problems, "\n".join(problems[:20])


@pytest.fixture(scope="module")
def frame():
    return make_frame()


@pytest.fixture(scope="module")
def reference(frame):
    return olscheck.check(frame, target="y", probe=False)


@pytest.mark.parametrize("chunk_rows", [1, 2, 7, 64, 10_000])
def test_dataframe_chunks_match_in_memory(frame, reference, chunk_rows):
    # chunks of 1 and 7 rows split every factor level across chunks
    streamed = check_streaming(frame, target="y", chunk_rows=chunk_rows)
    assert_same(reference, streamed)


def test_file_sources_match_in_memory(frame, reference, tmp_path):
    csv = tmp_path / "data.csv"
    parquet = tmp_path / "data.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False, row_group_size=50)
    from_csv = olscheck.check(pd.read_csv(csv), target="y", probe=False)
    assert_same(from_csv, check_streaming(str(csv), target="y", chunk_rows=33))
    assert_same(reference, check_streaming(parquet, target="y", chunk_rows=33))


@pytest.mark.parametrize("options", [
    {"intercept": False},
    {"predictors": ["x1", "g"]},
    {"predictors": ["x1", "x2", "x3", "g"]},  # x3 = 2 x1 - x2 is aliased
    {"breusch_godfrey_order": 3},
])
def test_model_variants_match_in_memory(options):
    frame = make_frame(n=180, seed=11)
    frame["x3"] = 2.0 * frame["x1"] - frame["x2"]
    reference = olscheck.check(frame, target="y", probe=False, **options)
    for chunk_rows in (1, 25):
        assert_same(reference, check_streaming(frame, target="y", chunk_rows=chunk_rows, **options))


@pytest.mark.parametrize("predictors", [["x1", "g", "h"], ["h", "x1", "g"], ["x2", "g"]])
def test_no_intercept_codes_the_first_factor_with_every_level_as_in_memory(predictors):
    # R's lm(y ~ x1 + g + h - 1) and patsy: g[a], g[b], g[c] (every level), then h[T.v] (treatment coding)
    frame = make_frame(n=160, seed=5)
    frame["h"] = np.where(frame["x2"] > 0, "u", "v")
    frame.loc[30, "h"] = None
    reference = olscheck.check(frame, target="y", predictors=predictors, intercept=False, probe=False)
    first = next(p for p in predictors if p in ("g", "h"))
    levels = {"g": ["a", "b", "c"], "h": ["u", "v"]}[first]
    assert [f"{first}[{level}]" for level in levels] == \
        [name for name in reference.model.coefficients.index if name.startswith(f"{first}[")]
    for chunk_rows in (1, 13, 10_000):
        streamed = check_streaming(frame, target="y", predictors=predictors, intercept=False, chunk_rows=chunk_rows)
        assert list(streamed.model.coefficients.index) == list(reference.model.coefficients.index)
        assert_same_but_tied_components(reference, streamed)


def assert_same_but_tied_components(reference, streamed):
    """:func:`assert_same`, with Belsley's variance proportions compared summed over tied condition indices.

    Indicator columns of a fully coded factor, scaled to unit length, are orthogonal: the scaled design
    has repeated singular values, whose singular vectors are any orthonormal basis of their common space,
    so the two paths' SVDs split the proportions differently among them. Their sum over each group of
    equal singular values does not depend on that choice and is compared.
    """
    expected, actual = reference.to_dict(), streamed.to_dict()
    indices = np.asarray(expected["collinearity"]["condition_indices"])
    np.testing.assert_allclose(actual["collinearity"]["condition_indices"], indices, rtol=RELATIVE)
    groups, start = [], 0
    for k in range(1, indices.size + 1):
        if k == indices.size or not math.isclose(indices[k], indices[start], rel_tol=1e-8):
            groups.append(slice(start, k))
            start = k
    proportions = {}
    for document in (expected, actual):
        table = document["collinearity"].pop("variance_proportions")
        proportions[id(document)] = {name: [sum(row[g]) for g in groups] for name, row in table.items()}
    assert not differences(proportions[id(expected)], proportions[id(actual)])
    # a null SD that is exactly 0 (a balanced design: every row the same weight) comes out as the square root of
    # a difference of equal sums, so as sqrt(rounding) ~ 1e-9 on one path and 0 on the other
    for document in (expected, actual):
        for result in document["tests"].values():
            for key, table in result.items():
                if key.endswith("_null_sds") and isinstance(table, dict):
                    result[key] = {name: 0.0 if abs(value) < 1e-7 else value for name, value in table.items()}
    problems = differences(expected, actual)
    assert not problems, "\n".join(problems[:20])


def test_no_intercept_reference_case_streams_as_in_memory():
    from tests.helpers import REFERENCE, load_reference

    if not (REFERENCE / "expected" / "warpbreaks_nointercept.json").is_file():
        pytest.skip("../shared/reference has no warpbreaks_nointercept case")
    expected, frame = load_reference("warpbreaks_nointercept")
    options = dict(target=expected["response"], predictors=expected["predictors"],
                   categorical=expected["factors"], intercept=False)
    reference = olscheck.check(frame, probe=False, **options)
    assert list(reference.model.coefficients.index) == ["tension[H]", "tension[L]", "tension[M]", "wool[T.B]"]
    streamed = olscheck.check(frame, streaming=True, chunk_rows=10, probe=False, **options)
    assert list(streamed.model.coefficients.index) == list(reference.model.coefficients.index)
    assert_same_but_tied_components(reference, streamed)


def test_levels_differing_only_in_case_get_the_same_note_streamed():
    frame = make_frame(n=150, seed=4)
    frame["g"] = np.array(["a", "A", "b", "c"])[np.arange(150) % 4]
    reference = olscheck.check(frame, target="y", probe=False)
    streamed = check_streaming(frame, target="y", chunk_rows=9)
    notes = [note for note in streamed.data.notes if "letter case" in note]
    assert len(notes) == 1 and "'A' and 'a'" in notes[0]
    assert notes == [note for note in reference.data.notes if "letter case" in note]
    assert_same(reference, streamed)


def test_a_two_valued_target_is_found_across_chunks_as_in_memory():
    rng = np.random.default_rng(6)
    x = rng.normal(size=200)
    y = np.r_[np.zeros(100), np.ones(100)]  # every early chunk holds zeros only, every late one ones only
    frame = pd.DataFrame({"x": x, "y": y})
    for data, binary in ((frame, True), (frame.assign(y=np.r_[y[:-1], 2.0]), False)):
        reference = olscheck.check(data, target="y", probe=False)
        streamed = check_streaming(data, target="y", chunk_rows=37)
        found = [f.check for f in streamed.verdict.findings if f.check == "binary_target"]
        assert found == (["binary_target"] if binary else [])
        assert found == [f.check for f in reference.verdict.findings if f.check == "binary_target"]


@pytest.mark.parametrize("magnitude", [1e100, 1e250, 1e-160, 1e-300])
def test_a_target_of_extreme_magnitude_streams_as_in_memory(magnitude):
    # the in-memory design divides such a target by a power of two (every diagnostic is scale invariant);
    # the streamed chunks did not, and their squares and fourth powers overflowed (or vanished)
    frame = make_frame(n=150, seed=8)
    frame["y"] = frame["y"] * magnitude
    reference = olscheck.check(frame, target="y", probe=False)
    streamed = check_streaming(frame, target="y", chunk_rows=31)
    assert_same(reference, streamed)
    unscaled = olscheck.check(make_frame(n=150, seed=8), target="y", probe=False)
    np.testing.assert_allclose(streamed.model.coefficients.to_numpy() / magnitude,
                               unscaled.model.coefficients.to_numpy(), rtol=1e-12)
    assert streamed.tests["breusch_pagan"].p_value == pytest.approx(unscaled.tests["breusch_pagan"].p_value,
                                                                    rel=1e-9)


def test_a_later_target_far_beyond_the_first_rows_scale_is_a_clear_error(monkeypatch):
    from olscheck.engine import stream
    from olscheck.errors import DataError

    monkeypatch.setattr(stream, "SCREEN_ROWS", 50)  # the first rows read set the working scale
    frame = make_frame(n=150, seed=8)
    frame.loc[140, "y"] = 1e60
    with pytest.raises(DataError, match="reaches 1e\\+60.*first rows"):
        check_streaming(frame, target="y", chunk_rows=50)


@pytest.mark.parametrize("magnitude", [1e200, 1e-200])
def test_a_predictor_beyond_the_streamed_range_is_a_clear_error_not_a_nan(magnitude):
    # its squares overflow (or vanish) on the columns' own scale: the coefficient came out NaN, or the column
    # was taken for a zero column, with no word said
    frame = make_frame(n=150, seed=8)
    frame["x2"] = frame["x2"] * magnitude
    with pytest.raises(olscheck.OlscheckError, match="predictor 'x2' reaches .* streaming=False"):
        check_streaming(frame, target="y", chunk_rows=50)
    # within the range the streamed fit is the in-memory one (the whole report at 1e20; at 1e100 the raw
    # condition number, about 1e100, is beyond what an SVD in double precision resolves, in either path)
    frame["x2"] = make_frame(n=150, seed=8)["x2"] * 1e20
    assert_same(olscheck.check(frame, target="y", probe=False), check_streaming(frame, target="y", chunk_rows=50))
    frame["x2"] = make_frame(n=150, seed=8)["x2"] * 1e100
    np.testing.assert_allclose(check_streaming(frame, target="y", chunk_rows=50).model.coefficients,
                               olscheck.check(frame, target="y", probe=False).model.coefficients, rtol=1e-9)


def test_numbers_mixed_with_missing_markers_in_an_object_column_stream_as_in_memory():
    # a DataFrame column of floats with "NA" strings among them (object dtype, not text): the in-memory
    # screening reads the markers as missing; the streamed chunks called the column text
    frame = make_frame(n=150, seed=9)
    mixed = frame["x2"].astype(object)
    mixed[[3, 40, 99]] = "NA"
    frame["x2"] = mixed
    reference = olscheck.check(frame, target="y", probe=False)
    assert reference.data.n_dropped == 5  # the three markers and the frame's two missing cells
    assert_same(reference, check_streaming(frame, target="y", chunk_rows=23))


def messy_frame(seed: int) -> pd.DataFrame:
    """A seeded frame with a mix of what files hold: text numbers, markers, levels, constants, a 0/1 target."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(120, 400))  # beyond 100 rows: Durbin-Watson's normal approximation in both paths
    columns = {"x": rng.normal(size=n)}  # a continuous predictor, so no two rows tie for the largest Cook's distance
    for j in range(int(rng.integers(1, 4))):
        kind = rng.choice(["scaled", "count", "levels", "thousands", "markers", "constant", "flag", "accounting",
                           "case", "percent"])
        if kind == "scaled":
            values = rng.normal(size=n) * 10.0 ** int(rng.integers(-3, 4))
        elif kind == "count":
            values = rng.integers(0, 10, n).astype(float)
        elif kind == "levels":
            values = rng.choice(list("abcd")[:int(rng.integers(2, 5))], n)
        elif kind == "thousands":
            values = np.array([f"{v:,.2f}" for v in rng.uniform(500, 5000, n)], dtype=object)
        elif kind == "markers":
            values = rng.normal(size=n).astype(object)
            values[rng.uniform(size=n) < 0.1] = "NA"
        elif kind == "constant":
            values = np.full(n, 3.0)
        elif kind == "flag":
            values = rng.uniform(size=n) < 0.4
        elif kind == "accounting":
            values = np.array([f"({abs(v):,.0f})" if v < 0 else f"{v:,.0f}" for v in rng.normal(size=n) * 3000],
                              dtype=object)
        elif kind == "case":
            values = rng.choice(["Yes", "yes", "No", "no "], n)
        else:
            values = np.array([f"{v:.1f}%" for v in rng.uniform(0, 100, n)], dtype=object)
        columns[f"c{j}"] = values
    frame = pd.DataFrame(columns)
    if rng.uniform() < 0.3:
        frame["y"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-frame["x"]))).astype(int)
    else:
        frame["y"] = np.sin(frame["x"]) * rng.uniform(0, 3) + frame["x"] + rng.normal(size=n)
    if rng.uniform() < 0.3:
        frame.loc[rng.choice(n, 3, replace=False), "y"] = np.nan
    return frame


@pytest.mark.parametrize("seed", range(16))
def test_random_messy_frames_stream_as_in_memory(seed):
    # a differential test: the streamed chunks (of a seeded random size) must build the in-memory model and
    # report; it found an object column with "NA" among its numbers read as text, and a VIF tie named by rounding
    frame = messy_frame(seed)
    chunk_rows = int(np.random.default_rng(seed).integers(5, 60))
    try:
        reference = olscheck.check(frame, target="y", probe=False)
    except olscheck.OlscheckError as error:
        with pytest.raises(type(error)):
            check_streaming(frame, target="y", chunk_rows=chunk_rows)
        return
    assert_same(reference, check_streaming(frame, target="y", chunk_rows=chunk_rows))


@pytest.mark.parametrize("n", [168, 333])
def test_duplicated_rows_tie_for_the_largest_cooks_distance_and_the_earliest_is_named(n):
    # a 0/1 outcome and a constant column (aliased: the model is its mean): every row with y = 1 is one row, with
    # one Cook's distance in exact arithmetic, but a Householder Q's first row differs from the others in its last
    # bits, so the first row's leverage did, and the report named the second row (in memory) or the first
    # (streamed) for the same tie
    y = (np.random.default_rng(0).uniform(size=n) < 0.3).astype(float)
    y[0] = 1.0
    frame = pd.DataFrame({"c": 3.0, "y": y})
    reference = olscheck.check(frame, target="y", probe=False)
    streamed = check_streaming(frame, target="y", chunk_rows=13)
    # closed form: h = 1/n for every row, e = y - mean(y), so the rows with y = 1 share the largest distance
    mean = y.mean()
    cooks = (1 - mean) ** 2 * (1 / n) / ((y - mean) @ (y - mean) / (n - 1) * (1 - 1 / n) ** 2)
    assert reference.influence.max_cooks_distance == pytest.approx(cooks, rel=1e-12)
    assert reference.influence.top_rows()[0]["position"] == 1
    assert streamed.influence.top_rows()[0]["position"] == 1
    assert_same(reference, streamed)


def test_level_only_in_dropped_rows_gets_no_column():
    frame = make_frame(n=150, seed=3)
    frame.loc[40, "g"] = "zz"
    frame.loc[40, "y"] = np.nan
    reference = olscheck.check(frame, target="y", probe=False)
    streamed = check_streaming(frame, target="y", chunk_rows=9)
    assert "g[T.zz]" not in streamed.model.coefficients.index
    assert_same(reference, streamed)


def test_streamed_statistics_on_large_data_use_every_row():
    # more rows than kept whole: the streamed tests still use every row, the whole-sequence ones a sample
    frame = make_frame(n=3000, seed=5)
    reference = olscheck.check(frame, target="y", probe=False)
    streamed = check_streaming(frame, target="y", chunk_rows=499, exact_rows=400)
    streamed_tests = ["breusch_pagan", "breusch_pagan_original", "goldfeld_quandt", "ncv_fitted", "durbin_watson",
                      "breusch_godfrey", "jarque_bera", "reset", "vif", "condition_index", "influence", "outlier_test"]
    for name in streamed_tests:
        a, b = reference.tests[name], streamed.tests[name]
        assert math.isclose(a.statistic, b.statistic, rel_tol=RELATIVE), name
        if a.p_value is not None:
            assert math.isclose(a.p_value, b.p_value, rel_tol=RELATIVE, abs_tol=1e-300), name
        assert a.severity == b.severity, name
    special = reference.tests["white"].details["special_statistic"]
    assert math.isclose(streamed.tests["white"].statistic, special, rel_tol=RELATIVE)
    assert "sample" in streamed.tests["harvey_collier"].details["computed_on"]
    assert "sample" in streamed.tests["shapiro_wilk"].details["computed_on"]
    for key in ("max_cooks_distance", "n_influential", "max_leverage", "max_abs_studentized_residual",
                "max_cooks_distance_row", "max_cooks_distance_position", "top_rows"):
        assert not differences(reference.influence.to_dict()[key], streamed.influence.to_dict()[key]), key
    assert not differences(reference.model.to_dict(), streamed.model.to_dict())
    assert not differences(reference.collinearity.to_dict(), streamed.collinearity.to_dict())


def test_closed_form_simple_regression():
    # y on one x: slope = Sxy / Sxx, and Durbin-Watson d from the residuals by hand
    x = np.arange(1.0, 21.0)
    y = np.array([2.1, 3.9, 6.2, 7.8, 10.1, 12.2, 13.8, 16.1, 18.0, 20.2,
                  21.9, 24.1, 26.0, 27.8, 30.2, 32.1, 33.9, 36.0, 38.2, 39.9])
    report = check_streaming(pd.DataFrame({"x": x, "y": y}), target="y", chunk_rows=3)
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    residuals = y - y.mean() - slope * (x - x.mean())
    assert math.isclose(report.model.coefficients["x"], slope, rel_tol=1e-12)
    d = np.sum(np.diff(residuals) ** 2) / np.sum(residuals**2)
    assert math.isclose(report.tests["durbin_watson"].statistic, d, rel_tol=1e-12)


def test_order_by_is_refused(frame):
    with pytest.raises(ConfigurationError, match="order_by"):
        check_streaming(frame, target="y", order_by="x1")


def test_groups_are_refused(frame):
    # the grouped-errors test needs every row's group at once: olscheck.check runs it in memory
    with pytest.raises(ConfigurationError, match="groups='g' is not supported when streaming"):
        check_streaming(frame, target="y", groups="g")


def test_exact_fit_is_not_computable_as_in_memory():
    x = np.arange(12.0)
    frame = pd.DataFrame({"y": 1.0 + 2.0 * x, "x": x, "z": np.sin(x)})
    reference = olscheck.check(frame, target="y", probe=False)
    streamed = check_streaming(frame, target="y", chunk_rows=1)
    for name in ("breusch_pagan", "white", "goldfeld_quandt", "durbin_watson", "breusch_godfrey", "jarque_bera",
                 "reset", "influence", "outlier_test"):
        assert streamed.tests[name].reason is not None, name
        assert streamed.tests[name].reason == reference.tests[name].reason, name


#: every test of the families that read the residuals (collinearity does not)
RESIDUAL_TESTS = ("breusch_pagan", "breusch_pagan_original", "white", "goldfeld_quandt", "ncv_fitted",
                  "durbin_watson", "breusch_godfrey", "jarque_bera", "shapiro_wilk", "omnibus",
                  "reset", "harvey_collier", "rainbow", "quadratic", "influence", "outlier_test")


@pytest.mark.parametrize("intercept, slope", [(2.0, 3.0), (1e6, 1e-3)])
def test_exact_fit_gives_one_reason_from_every_family_on_both_paths(intercept, slope):
    x = np.arange(40.0)
    frame = pd.DataFrame({"y": intercept + slope * x, "x": x})
    reference = olscheck.check(frame, target="y", probe=False)
    streamed = check_streaming(frame, target="y", chunk_rows=7)
    for report in (reference, streamed):
        for name in RESIDUAL_TESTS:
            assert report.tests[name].reason == EXACT_FIT_REASON, name
        assert report.influence.reason == EXACT_FIT_REASON
    # (the model summary of an exact fit -- sigma, t values -- is rounding noise and differs between the paths)


@pytest.mark.parametrize("intercept, slope", [(2.0, 3.0), (1e6, 1e-3)])
def test_near_exact_noisy_fit_is_not_treated_as_exact(intercept, slope):
    # noise 1e-6 of the target's magnitude: every test runs, on both paths, and they agree
    x = np.arange(40.0)
    signal = intercept + slope * x
    noise = 1e-6 * np.sqrt(np.mean(signal**2)) * np.random.default_rng(5).normal(size=x.size)
    frame = pd.DataFrame({"y": signal + noise, "x": x})
    reference = olscheck.check(frame, target="y", probe=False)
    streamed = check_streaming(frame, target="y", chunk_rows=7)
    for report in (reference, streamed):
        for name in RESIDUAL_TESTS:
            assert report.tests[name].reason != EXACT_FIT_REASON, name
        assert report.tests["jarque_bera"].computable and report.tests["breusch_pagan"].computable
        assert report.influence.reason is None
    # residuals 1e-6 of y leave the streamed sums about 1e-8 relative accuracy, not 1e-9
    for name in RESIDUAL_TESTS:
        a, b = reference.tests[name], streamed.tests[name]
        assert a.reason == b.reason, name
        if a.statistic is not None:
            assert math.isclose(a.statistic, b.statistic, rel_tol=1e-6), name


def test_csv_text_levels_that_look_like_numbers(tmp_path):
    # a text factor whose later chunks hold only digit-like levels is still one factor with text levels
    frame = make_frame(n=120, seed=9)
    frame["g"] = np.where(np.arange(120) < 80, frame["g"], np.where(frame["g"] == "a", "1", "2"))
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    reference = olscheck.check(str(path), target="y", probe=False)
    assert_same(reference, check_streaming(str(path), target="y", chunk_rows=30))


def test_more_rows_than_the_old_second_order_sample_still_match(tmp_path):
    # 6,000 rows: every test, the second-order one included, uses every row on both paths
    frame = make_frame(n=6000, seed=3)
    reference = olscheck.check(frame, target="y", probe=False)
    streamed = check_streaming(frame, target="y", chunk_rows=1000)
    assert streamed.tests["quadratic"].details["rows_used"] == reference.fit.n
    assert_same(reference, streamed)


@pytest.mark.parametrize("rows, chunk_rows", [(60_000, 60_000), (60_000, 20_000), (130_000, 50_000)])
def test_chunks_worked_in_pieces_match_in_memory_blocks(rows, chunk_rows):
    # 60,000 rows: the in-memory battery works in blocks of CACHE_ROWS (three), a 60,000-row chunk is
    # worked in pieces of CACHE_ROWS (three) and a 20,000-row chunk in one; every accumulated sum joins
    # across them, and the whole-sequence tests read the same seeded sample of rows on both paths.
    # 130,000 rows: the in-memory fit is factored block by block without forming Q (olscheck.model.fit),
    # and the battery makes the rows of Q from the basis rows block by block
    from olscheck.numerics.qr import CACHE_ROWS
    from olscheck.model.fit import REFINEMENT_ALWAYS_ROWS

    assert 2 * CACHE_ROWS < 60_000 and 20_000 <= CACHE_ROWS
    frame = make_frame(n=rows, seed=11)
    reference = olscheck.check(frame, target="y", probe=False)
    assert (reference.fit.orthonormal is None) == (rows > REFINEMENT_ALWAYS_ROWS)
    streamed = check_streaming(frame, target="y", chunk_rows=chunk_rows, probe=False)
    compared = [name for name in reference.tests if name != "robust_fit"]  # its wording says where it ran
    assert {"breusch_pagan", "durbin_watson", "reset", "harvey_collier", "quadratic"} <= set(compared)
    for name in compared:
        a, b = reference.tests[name], streamed.tests[name]
        assert a.severity == b.severity, name
        for value, other in ((a.statistic, b.statistic), (a.p_value, b.p_value)):
            if value is None or other is None:
                assert value is other, name
            else:
                assert math.isclose(value, other, rel_tol=RELATIVE, abs_tol=1e-300), (name, value, other)
    assert not differences(reference.influence.to_dict()["top_rows"], streamed.influence.to_dict()["top_rows"])
    assert not differences(reference.model.to_dict(), streamed.model.to_dict())
    assert not differences(reference.coefficient_table().to_dict(), streamed.coefficient_table().to_dict())


def test_rows_kept_whole_are_a_seeded_random_sample_whatever_the_chunks():
    # beyond exact_rows the rows kept whole (whole-sequence tests, probe, plots) are a simple random
    # sample drawn with the seed, in row order: the same for any chunking, another for another seed
    frame = make_frame(n=2000, seed=6)
    kept = {}
    for chunk_rows, seed in ((97, 3), (1000, 3), (97, 4)):
        report = check_streaming(frame, target="y", chunk_rows=chunk_rows, exact_rows=300, seed=seed, probe=False)
        kept[chunk_rows, seed] = np.asarray(report.model.residuals.index)
    np.testing.assert_array_equal(kept[97, 3], kept[1000, 3])
    assert not np.array_equal(kept[97, 3], kept[97, 4])
    rows = kept[97, 3]
    assert rows.size == 300 and np.all(np.diff(rows) > 0)
    # positions among the complete rows (the frame has missing values), drawn as documented
    complete = frame.index[frame.notna().all(axis=1)]
    positions = np.sort(np.random.default_rng(3).choice(complete.size, size=300, replace=False))
    np.testing.assert_array_equal(rows, complete[positions])
    assert np.unique(np.diff(positions)).size > 1  # not every k-th row


def test_worker_threads_do_not_change_the_report(frame, tmp_path):
    # chunks are computed on several threads but merged in row order: the same report, to the last bit
    parquet = tmp_path / "data.parquet"
    frame.to_parquet(parquet, index=False, row_group_size=40)
    reports = [check_streaming(parquet, target="y", chunk_rows=23, workers=workers).to_dict()
               for workers in (1, 3)]
    assert reports[0] == reports[1]
    for workers in (0, 1.5, True):
        with pytest.raises(ConfigurationError, match="workers must be a positive integer"):
            check_streaming(parquet, target="y", workers=workers)


def test_a_file_that_changes_between_the_passes_is_refused(frame, tmp_path, monkeypatch):
    from olscheck.engine import stream
    from olscheck.errors import DataError

    parquet = tmp_path / "data.parquet"
    frame[["y", "x1", "x2"]].to_parquet(parquet, index=False)
    original = stream.iterate_chunks
    calls = []

    def shrinking(*args, **kwargs):  # the second pass sees one chunk fewer, as if the file were truncated
        calls.append(1)
        chunks = list(original(*args, **kwargs))
        yield from (chunks[:-1] if len(calls) == 2 else chunks)

    monkeypatch.setattr(stream, "iterate_chunks", shrinking)
    with pytest.raises(DataError, match="changed between the two passes"):
        check_streaming(parquet, target="y", chunk_rows=50)
