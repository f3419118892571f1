"""autograder/box_task.py's own machinery, in this process: each check's time limit starts and ends
with it, a failing check stays its own, arrays cross the box's border exactly or not at all."""
import signal
import time

import numpy as np
import pytest

from autograder import box_task


def test_a_check_that_hangs_is_stopped_at_its_limit():
    started = time.monotonic()
    with pytest.raises(box_task.CheckTimeout, match="stopped after 1 s"):
        with box_task.time_limit(1):
            while True:
                pass
    assert time.monotonic() - started < 3


def test_the_limit_ends_with_its_check():
    """A quick check's alarm must not go off later, in the next check or after the task."""
    fired = []

    def record(signum, frame):
        fired.append(signum)
    previous = signal.signal(signal.SIGALRM, record)
    try:
        with box_task.time_limit(1):
            pass
        assert signal.getsignal(signal.SIGALRM) == record   # the caller's handler is back
        time.sleep(1.6)   # an alarm left armed (or repeating every second) would go off here
        assert fired == [] and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_attempt_keeps_each_failure_its_own(monkeypatch):
    monkeypatch.setattr(box_task, "check_seconds", 1)

    def hangs():
        while True:
            pass

    def exits():
        raise SystemExit(0)
    assert box_task.attempt(lambda a, b: a + b, 2, 3) == {"value": 5}
    assert "CheckTimeout" in box_task.attempt(hangs)["error"]
    assert "SystemExit" in box_task.attempt(exits)["error"]
    assert "ZeroDivisionError" in box_task.attempt(lambda: 1 / 0)["error"]
    time.sleep(1.2)
    assert box_task.attempt(lambda: "after") == {"value": "after"}


@pytest.mark.parametrize("array", [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([-0.0, np.nan, np.inf]),
                                   np.zeros((0, 4), np.int64), np.array(True), np.arange(5, dtype=np.uint8)])
def test_arrays_cross_exactly(array):
    back = box_task.decode(box_task.encode(array))
    assert back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == np.ascontiguousarray(array).tobytes()


@pytest.mark.parametrize("value, problem", [
    ([1, 2], "not an encoded array"),
    ({"dtype": "<f8", "shape": [2], "data": "", "extra": 1}, "not an encoded array"),
    ({"dtype": "|O", "shape": [1], "data": ""}, "not a real-number dtype"),
    ({"dtype": "<c16", "shape": [1], "data": ""}, "not a real-number dtype"),
    ({"dtype": "<f8", "shape": [-1], "data": ""}, "not a shape"),
    ({"dtype": "<f8", "shape": [True], "data": ""}, "not a shape"),
    ({"dtype": "<f8", "shape": [2 ** 13, 2 ** 12], "data": ""}, "too large"),
    ({"dtype": "<f8", "shape": [2], "data": "AAAAAAAAAAA="}, "8 bytes for shape [2]"),
])
def test_a_forged_array_is_refused_by_name(value, problem):
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        box_task.decode(value)
