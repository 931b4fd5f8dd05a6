"""One module per assumption family. Each function takes a fitted
:class:`olscheck.model.LinearFit` and a :class:`olscheck.thresholds.Thresholds`
and returns a :class:`olscheck.result.TestResult` (or, for collinearity and
influence, a small frozen summary plus results)."""
