"""olscheck.options: one validated object for a check's settings."""

import numpy as np
import pytest

import olscheck
from olscheck.errors import ConfigurationError
from olscheck.options import Options
from olscheck.thresholds import DEFAULT_THRESHOLDS


@pytest.mark.parametrize("argument, value", [
    ("seed", -1), ("seed", 1.5), ("seed", True), ("breusch_godfrey_order", 0), ("chunk_rows", 0),
    ("workers", "2"), ("exact_rows", -3), ("intercept", "yes"), ("probe", 1), ("streaming", "no"),
    ("durbin_watson_exact", 0), ("progress", "print"), ("alpha", "0.05"), ("thresholds", [0.1]), ("plots", "yes"),
])
def test_each_bad_argument_is_named(argument, value):
    with pytest.raises(ConfigurationError) as raised:
        Options.of(**{argument: value})
    assert argument in str(raised.value)


def test_numpy_scalars_are_accepted_and_become_python_values():
    options = Options.of(seed=np.int64(3), breusch_godfrey_order=np.int32(2), intercept=np.bool_(False),
                         alpha=np.float64(0.1))
    assert (options.seed, options.breusch_godfrey_order, options.intercept) == (3, 2, False)
    assert type(options.seed) is int and options.thresholds.alpha == 0.1


def test_alpha_and_threshold_overrides_resolve_to_one_thresholds_object():
    options = Options.of(alpha=0.01, thresholds={"vif_warn": 7.0})
    assert options.thresholds.alpha == 0.01 and options.thresholds.vif_warn == 7.0
    assert options.thresholds.vif_fail == DEFAULT_THRESHOLDS.vif_fail


def test_check_and_check_streaming_refuse_the_same_bad_argument_the_same_way():
    import pandas as pd

    frame = pd.DataFrame({"y": [1.0, 2.0, 3.5, 4.0, 5.5, 6.1], "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    from olscheck.engine import check_streaming

    messages = []
    for run in (lambda: olscheck.check(frame, target="y", seed=-1),
                lambda: check_streaming(frame, target="y", seed=-1)):
        with pytest.raises(ConfigurationError) as raised:
            run()
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
