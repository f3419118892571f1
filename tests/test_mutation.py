"""`make mutation`'s set-up and its report: mutmut's copy of the project holds every module the tests
import, and the score counts what it says it counts."""
import glob
import os
import tomllib

import hw2_utils
import mutation_report

ROOT = hw2_utils.ROOT


def mutmut_config():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as stream:
        return tomllib.load(stream)["tool"]["mutmut"]


def test_mutmuts_copy_holds_every_module_and_file_the_tests_read():
    config = mutmut_config()
    copied = {path.rstrip("/") for path in config["source_paths"] + config["also_copy"]}
    modules = {os.path.basename(path) for path in glob.glob(os.path.join(ROOT, "hw2_*.py"))}
    assert modules <= copied, sorted(modules - copied)
    assert {"autograder", "staff", "pytest.ini", "Makefile", "requirements.txt"} <= copied
    for path in copied:
        assert os.path.exists(os.path.join(ROOT, path)), path
    for test in config["pytest_add_cli_args_test_selection"]:
        assert not test.startswith("tests/") or os.path.isfile(os.path.join(ROOT, test)), test


def test_the_score_leaves_out_equivalent_and_unrun_mutants():
    statuses = {"a.py": {"a.f__1": "killed", "a.f__2": "survived", "a.f__3": "timeout", "a.f__4": "not checked"},
                "b.py": {"b.g__1": "survived", "b.g__2": "no tests", "b.g__3": "segfault", "b.g__4": "killed"}}
    report = mutation_report.summarize(statuses, {"b.g__1": "changes nothing", "gone__1": "was removed"})
    total = report["total"]
    # judged: 6 (one not checked, one timed out: neither caught nor survived); caught: killed x2, segfault;
    # equivalent: b.g__1
    assert total["caught"] == 3 and total["equivalent"] == 1 and total["survivors"] == ["a.f__2", "b.g__2"]
    assert total["timed_out"] == 1 and total["not_checked"] == 1 and total["score"] == round(3 / 5, 4)
    assert report["files"]["a.py"]["score"] == round(1 / 2, 4) and report["files"]["b.py"]["score"] == round(2 / 3, 4)
    assert report["equivalent_not_found"] == ["gone__1"]
    assert mutation_report.summarize({}, {})["total"]["score"] is None


def test_an_equivalent_entry_counts_only_for_the_mutant_it_was_written_for():
    diff = "--- a.py\n+++ a.py\n@@ -1 +1 @@\n-    x = f(a, 1)\n+    x = f(a, 2)\n"
    assert mutation_report.still_mutates(diff, "x = f(a, 2)")
    assert not mutation_report.still_mutates(diff, "x = f(a, 1)")       # the original line, not the mutant's
    assert not mutation_report.still_mutates(diff, "a.py")               # the header is no changed line


def test_every_equivalent_entry_says_which_line_and_why():
    import json
    with open(mutation_report.EQUIVALENT) as stream:
        entries = json.load(stream)
    for name, entry in entries.items():
        assert set(entry) == {"mutated", "why"} and entry["mutated"].strip() and entry["why"].strip(), name
