"""Regressions of the residuals on the regressors over row subsets, shared by two families.

Goldfeld-Quandt (heteroskedasticity) fits the two halves of the rows,
Rainbow (linearity) the central rows; both regress the residuals on the
model's regressors there. :func:`subset_regression` serves both from one
:class:`olscheck.numerics.lstsq.RowSegments` per fit, cut at every boundary either
test uses, so the rows are factored once.
"""

from __future__ import annotations

import math

from ..numerics.lstsq import FactoredLeastSquares, RowSegments

__all__ = ["central_rows", "subset_regression"]


def central_rows(n: int, fraction: float, center: float = 0.5) -> tuple[int, int]:
    """0-based [start, stop) of ``lmtest::raintest``'s central subset.

    R: from = ceiling(quantile(1:n, center - fraction/2)) with quantile's
    type 7 interpolation, to = from + floor(fraction·n) - 1. The
    interpolation is reproduced in floating point as R does it, so the
    ceiling lands on the same row.
    """
    probability = min(1.0, max(0.0, center - fraction / 2.0))
    index = 1.0 + (n - 1) * probability
    low = math.floor(index)
    high = math.ceil(index)
    value = float(low)
    if index > low:
        h = index - low
        value = (1.0 - h) * low + h * high
    first = math.ceil(value)
    size = math.floor(fraction * n)
    return first - 1, first - 1 + size


def subset_regression(fit, first: int, stop: int) -> FactoredLeastSquares:
    """``least_squares(fit.regressors[first:stop], fit.residuals[first:stop], fit.has_intercept)``, from shared segments.

    The segments of a fit are cut at 0, n/2 (Goldfeld-Quandt), Rainbow's
    default central rows and n, and at ``first`` and ``stop`` when a call
    asks for other rows (the segments are then rebuilt with those cuts).
    """
    segments = fit.shared.get("row_segments")
    if segments is None or not segments.covers(first, stop):
        cuts = {0, fit.n // 2, fit.n, *central_rows(fit.n, 0.5), first, stop}
        if segments is not None:
            cuts.update(segments.cuts)
        exponent = fit.design.column_exponents[fit.kept]
        segments = RowSegments(fit.regressors, fit.residuals, cuts, fit.has_intercept,
                               exponent[1:] if fit.has_intercept else exponent)
        fit.shared["row_segments"] = segments
    return segments.least_squares(first, stop)
