"""olscheck.numerics.scaling: exact power-of-two rescaling, against math.frexp."""

import math

import numpy as np

from olscheck.numerics.scaling import binary_exponent, binary_scaled


def test_exponent_brackets_the_largest_magnitude():
    for largest in (1.0, 1.5, 2.0, 3e-300, 5e-324, 1.7976931348623157e308):
        values = np.array([0.0, -largest, largest / 3])
        e = binary_exponent(values)
        assert e == math.frexp(largest)[1] - 1
        assert 1.0 <= largest / math.ldexp(1.0, e) < 2.0  # 2**e is finite even near 1.8e308


def test_columns_scale_exactly_and_zero_columns_stay():
    x = np.array([[1.0, 0.0, -3e300], [6.0, 0.0, 1.5e308]])
    scaled = binary_scaled(x, axis=0)
    assert list(binary_exponent(x, axis=0)) == [2, 0, 1023]
    np.testing.assert_array_equal(scaled[:, 1], 0.0)
    np.testing.assert_array_equal(scaled * np.ldexp(1.0, binary_exponent(x, axis=0)), x)  # exact round trip
    assert np.all((np.abs(scaled).max(axis=0) >= 1) | (scaled == 0).all(axis=0))
    assert np.all(np.abs(scaled).max(axis=0) < 2)
