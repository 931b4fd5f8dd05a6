"""Exact rescaling by powers of two.

Every statistic in the battery is invariant to rescaling the residuals, a
column or the target, but their squares and fourth powers overflow beyond
about 1e77-1e154 and underflow below the reciprocal. Dividing by a power of
two near the largest magnitude is exact (only the exponent changes), so it
costs no digits and keeps every power finite and normal.
"""

from __future__ import annotations

import numpy as np

__all__ = ["binary_exponent", "binary_scaled", "divided_by_power_of_two"]


def binary_exponent(values: np.ndarray, axis: int | None = None):
    """The exponent e with ``2**e <= max|values| < 2**(e + 1)`` (0 for all-zero values).

    ``axis=None`` gives one int for the whole array; ``axis=0`` an int array
    with one exponent per column. ``2**e`` is finite even for values near
    1.8e308 (``frexp``'s exponent would be one more, and ``2**1024`` is inf).
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return 0 if axis is None else np.zeros(values.shape[1 - axis] if values.ndim > 1 else 0, dtype=int)
    # from the extremes rather than np.abs(values): no temporary of the data's size
    largest = np.maximum(np.abs(values.max(axis=axis)), np.abs(values.min(axis=axis)))
    exponent = np.where(largest > 0, np.frexp(largest)[1] - 1, 0).astype(int)
    return int(exponent) if axis is None else exponent


def divided_by_power_of_two(values: np.ndarray, exponent, out: np.ndarray | None = None) -> np.ndarray:
    """``values / 2**exponent`` (exponent broadcast over the last axis), correctly rounded as ``np.ldexp``.

    A multiplication by ``2**-exponent`` when that factor is a normal float
    (|exponent| <= 1022): the product is then the correctly rounded
    ``ldexp``, and numpy multiplies about twice as fast as it runs ``ldexp``.
    """
    exponent = np.asarray(exponent)
    if exponent.size == 0 or np.max(np.abs(exponent)) <= 1022:
        return np.multiply(values, np.ldexp(1.0, -exponent), out=out)
    return np.ldexp(values, -exponent, out=out)


def binary_scaled(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """``values`` divided by ``2**binary_exponent(values, axis)``: largest magnitude in [1, 2), exactly."""
    values = np.asarray(values, dtype=float)
    return divided_by_power_of_two(values, binary_exponent(values, axis))
