"""The engine's building blocks against direct computations."""

import numpy as np
import pytest

from olscheck.engine.accumulate import Sequence
from olscheck.engine.accumulate import largest_positions


def _newey_west_meat(s, lags):
    """sum_t s_t² + 2 sum_l (1 - l / (lags + 1)) sum_t s_t s_{t-l}, lag by lag."""
    total = np.einsum("ij,ij->j", s, s)
    for lag in range(1, min(lags, s.shape[0] - 1) + 1):
        total += 2.0 * (1.0 - lag / (lags + 1.0)) * np.einsum("ij,ij->j", s[lag:], s[:-lag])
    return total


@pytest.mark.parametrize("sizes", [[1] * 12, [3, 1, 7, 2], [40], [5, 35], [6, 7, 6, 1, 20]])
def test_sequence_joined_in_pieces_matches_the_whole(sizes):
    rng = np.random.default_rng(len(sizes))
    n = sum(sizes)
    e, q, s = rng.standard_normal(n), rng.standard_normal((n, 3)), rng.standard_normal((n, 2))
    whole = Sequence(2, 6, 3, 2)
    whole.add_rows(e, q, s)
    pieces = Sequence(2, 6, 3, 2)
    start = 0
    for size in sizes:
        pieces.add_rows(e[start:start + size], q[start:start + size], s[start:start + size])
        start += size
    for key, value in whole.sums.items():
        np.testing.assert_allclose(pieces.sums[key], value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(whole.sums["newey_west"], _newey_west_meat(s, 6), rtol=1e-12)


@pytest.mark.parametrize("count", [1, 3, 10])
def test_largest_rows_tie_to_the_earlier_row_as_a_stable_sort(count):
    rng = np.random.default_rng(count)
    values = rng.integers(0, 4, 200).astype(float)
    values[rng.integers(0, 200, 20)] = np.nan
    candidates = np.flatnonzero(np.isfinite(values))
    expected = candidates[np.argsort(-values[candidates], kind="stable")[:count]]
    np.testing.assert_array_equal(largest_positions(values, candidates, count), expected)
    few = candidates[:2]
    np.testing.assert_array_equal(largest_positions(values, few, count),
                                  few[np.argsort(-values[few], kind="stable")[:count]])


def test_largest_rows_equal_to_ten_digits_are_tied_and_the_earlier_wins():
    # one value rounded two ways in its last bits (as a Householder Q's first row rounds its leverage)
    values = np.array([0.5, 0.008180821455680177, 0.3, 0.008180821455680186, 0.008180821455680186])
    candidates = np.arange(5)
    np.testing.assert_array_equal(largest_positions(values, candidates, 3), [0, 2, 1])
    np.testing.assert_array_equal(largest_positions(values, np.array([1, 3, 4]), 1), [1])
    # a difference in the ninth digit is not a tie
    np.testing.assert_array_equal(largest_positions(np.array([1.0, 1.00000001]), np.arange(2), 1), [1])
