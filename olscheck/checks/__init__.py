"""One module per assumption family. Each function takes a fitted
:class:`olscheck.model.fit.LinearFit` and a :class:`olscheck.thresholds.Thresholds`
and returns a :class:`olscheck.report.result.TestResult` (or, for collinearity and
influence, a small frozen summary plus results)."""
