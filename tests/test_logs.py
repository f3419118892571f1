"""The public test scripts: they pass, and two fresh runs print the same log."""
import os
import re
import subprocess
import sys

import pytest

import hw2_utils

DURATION = re.compile(r"\d+:\d{2}:\d{2}(\.\d+)?|\d+(\.\d+)? ?s\b")


def run_script(name):
    result = subprocess.run([sys.executable, os.path.join("tests", name)], cwd=hw2_utils.ROOT,
                            env={**os.environ, "PYTHONPATH": hw2_utils.ROOT},
                            capture_output=True, text=True, timeout=1200)
    return result.returncode, result.stdout


@pytest.mark.parametrize("script", ["hw2_test_numpy.py", "hw2_test_cifar.py"])
def test_public_script_passes_and_is_deterministic(script):
    first_code, first = run_script(script)
    second_code, second = run_script(script)
    assert first_code == 0 and "FAIL" not in first, first
    assert second_code == 0
    assert DURATION.sub("<t>", first) == DURATION.sub("<t>", second)
    assert first.count("=== BEGIN") == first.count("=== END") > 0
