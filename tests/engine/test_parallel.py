"""olscheck.engine.parallel: threads that change no value."""

from __future__ import annotations

import threading

import pytest

from olscheck.engine import parallel


def _where(value):
    return value * 2, threading.current_thread().name


@pytest.mark.parametrize("cores", [1, 2])
def test_alongside_gives_the_call_s_value_and_its_error(monkeypatch, cores):
    monkeypatch.setattr(parallel, "available_cores", lambda: cores)
    value, thread = parallel.alongside(_where, 21).result()
    assert value == 42
    # on two cores the call ran on a thread of its own; on one, in the caller's thread when asked for
    assert (thread == threading.current_thread().name) == (cores == 1)

    def fails():
        raise ValueError("the step's own error")

    with pytest.raises(ValueError, match="the step's own error"):
        parallel.alongside(fails).result()


def test_in_order_yields_in_the_order_of_the_items_whatever_finishes_first():
    import time

    def slow_first(item):
        time.sleep(0.05 if item == 0 else 0.0)
        return item

    assert list(parallel.in_order(slow_first, range(6), workers=3)) == list(range(6))
