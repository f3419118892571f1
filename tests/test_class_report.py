"""report.html (autograder/class_report.py) from inputs written here by hand: every section's text word
for word, and every figure's drawing calls (matplotlib stands in: a recorder that draws nothing)."""
import io
import re

import numpy as np
import pytest

from autograder import class_report, integrity


class Recorder:
    """Stands in for a matplotlib figure and its axes: records each call (numpy arrays as lists)."""

    def __init__(self, calls):
        self.calls = calls

    def __getattr__(self, name):
        def record(*args, **kwargs):
            plain = [arg.tolist() if isinstance(arg, np.ndarray) else arg for arg in args]
            self.calls.append((name, plain, {key: value.tolist() if isinstance(value, np.ndarray) else value
                                             for key, value in kwargs.items()}))
            if name == "get_ylim":
                return (0.0, 10.0)
            if name == "savefig":
                args[0].write(b"PNG")
        return record


@pytest.fixture
def drawn(monkeypatch):
    """The calls each figure made, in order, one list per figure."""
    figures = []

    def subplots(**settings):
        assert settings == {"figsize": (7, 3.2)}
        figures.append([])
        return Recorder(figures[-1]), Recorder(figures[-1])
    monkeypatch.setattr(class_report.plt, "subplots", subplots)
    monkeypatch.setattr(class_report.plt, "close", lambda figure: None)
    return figures


FULL = {"5.1": "3", "5.2": "5", "6.1": "5", "6.2": "2", "6.3": "3", "6.4": "2", "7.1": "2", "7.2": "2", "7.3": "10"}
ROWS = [{"name": "Ann", "sid": "1", "email": "a@x", "submission": "s1", **FULL, "total": "34", "status": "graded"},
        {"name": "Bo", "sid": "2", "email": "", "submission": "s2", **FULL, "6.2": "0", "7.3": "6", "total": "28",
         "status": "graded (reading the upload: x: a link)"},
        {"name": "Cy <i>", "sid": "3", "email": "", "submission": "s3", "status": "grader failed: boom"},
        {"name": "Di", "sid": "4", "email": "", "submission": "", "status": "not graded: empty"}]
GRADED = {"s1": ({"seconds": 120.4, "peak_memory_bytes": 1.5e9}, {}),
          "s2": ({"seconds": 80.6, "peak_memory_bytes": 9.04e8}, {})}
FLAGS = integrity.Flags(rows=[{"kind": "same wrong predictions", "submission_a": "s1", "students_a": "Ann (1)",
                               "submission_b": "s2", "students_b": "Bo (2)", "evidence": "x < y"}],
                        shares=np.array([0.1, 0.5]), threshold=0.3, accuracies={"s1": 0.84, "s2": 0.5})
CHANGES = [{"name": "Bo", "sid": "2", "changed": "6.2: 2 -> 0", "total_before": "30", "total_after": "28"}]
PNG = 'src="data:image/png;base64,UE5H"'   # b"PNG", what the recorder saves


def sections(path):
    """The report's head and body, the body cut before each <h2>."""
    text = path.read_text()
    assert text.endswith("</body></html>\n")
    head, body = text[:text.index("<body>")], text[text.index("<body>") + 6:-len("</body></html>\n")]
    return head, re.split(r"(?=<h2>)", body)


def table(header, *rows):
    return ("<table><tr>" + "".join(f"<th>{cell}</th>" for cell in header) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows) + "</table>")


def test_every_section_of_a_class_says_what_the_staff_act_on_in_order(tmp_path, drawn):
    path = tmp_path / "report.html"
    class_report.write(str(path), ROWS, GRADED, FLAGS, ["a note <b>"], CHANGES)
    head, body = sections(path)
    assert head == ("<!doctype html><html><head><meta charset='utf-8'><title>hw2 class report</title><style>"
                    "body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
                    "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}</style></head>")
    assert body == [
        "<h1>hw2: the class graded</h1><p>4 students, 2 submissions graded, 2 rows not graded or failed, "
        "1 integrity flags.</p>",
        "<h2>The grader's failures and ungraded rows</h2>" + table(
            ["name", "sid", "submission", "status"], ["Cy &lt;i&gt;", "3", "s3", "grader failed: boom"],
            ["Di", "4", "", "not graded: empty"]),
        f'<h2>Totals</h2><img alt="histogram of totals" {PNG}><p>mean 31.00, median 31</p>',
        "<h2>Per exercise</h2>" + table(
            ["exercise", "students graded", "mean points", "of", "at full marks"],
            ["5.1", 2, "3.00", 3, "100%"], ["5.2", 2, "5.00", 5, "100%"], ["6.1", 2, "5.00", 5, "100%"],
            ["6.2", 2, "1.00", 2, "50%"], ["6.3", 2, "3.00", 3, "100%"], ["6.4", 2, "2.00", 2, "100%"],
            ["7.1", 2, "2.00", 2, "100%"], ["7.2", 2, "2.00", 2, "100%"], ["7.3", 2, "8.00", 10, "50%"]),
        f'<h2>7.3: private-test accuracy</h2><img alt="7.3 accuracy" {PNG}>',
        f'<h2>Grading time</h2><img alt="grading seconds" {PNG}>' + table(
            ["submission", "seconds", "peak memory (MB)"], ["s1", 120, 1500], ["s2", 81, 904]),
        f'<h2>Integrity flags (staff only)</h2><img alt="shared wrong predictions" {PNG}>' + table(
            integrity.FLAG_COLUMNS, ["same wrong predictions", "s1", "Ann (1)", "s2", "Bo (2)", "x &lt; y", ""]),
        "<h2>Changes against the older gradebook</h2>" + table(
            ["name", "sid", "changed", "total before", "total after"], ["Bo", "2", "6.2: 2 -&gt; 0", "30", "28"]),
        "<h2>How the export was read</h2><ul><li>a note &lt;b&gt;</li></ul>"]
    saved = ("savefig", [None], {"format": "png", "dpi": 90})

    def plain(calls):   # the BytesIO each figure is saved to, left out
        return [(name, [None if isinstance(arg, io.BytesIO) else arg for arg in args], kwargs)
                for name, args, kwargs in calls]
    totals, accuracy, seconds, shares = (plain(calls) for calls in drawn)
    assert totals == [("hist", [[34.0, 28.0]], {"bins": [k - 0.5 for k in range(36)], "color": "tab:blue"}),
                      ("set_xlabel", ["auto-graded points (of 34)"], {}), ("set_ylabel", ["students"], {}),
                      ("tight_layout", [], {}), saved]
    assert accuracy[0][:2] == ("hist", [[0.84, 0.5]]) and accuracy[0][2]["color"] == "tab:green"
    np.testing.assert_allclose(accuracy[0][2]["bins"], [k / 50 for k in range(51)])
    tiers = [[("axvline", [low], {"color": "black", "linestyle": "--", "linewidth": 0.8}), ("get_ylim", [], {}),
              ("text", [low, 9.0, f" {points}"], {"fontsize": 8})] for low, points in
             ((0.83, 10), (0.8, 8), (0.75, 5), (0.7, 3))]
    assert accuracy[1:] == [*sum(tiers, []),
                            ("set_xlabel", ["7.3 private-test accuracy (dashed: tiers, with their points)"], {}),
                            ("set_ylabel", ["submissions"], {}), ("tight_layout", [], {}), saved]
    assert seconds == [("bar", [range(2), [120.4, 80.6]], {"color": "tab:gray"}),
                       ("set_xlabel", ["submissions, slowest first"], {}), ("set_ylabel", ["seconds"], {}),
                       ("tight_layout", [], {}), saved]
    assert shares[0][:2] == ("hist", [[0.1, 0.5]]) and shares[0][2]["color"] == "tab:orange"
    np.testing.assert_allclose(shares[0][2]["bins"], [k / 40 for k in range(41)])
    assert shares[1:] == [("axvline", [0.3], {"color": "red", "linestyle": "--"}),
                          ("set_xlabel", ["share of the images both got wrong with the same wrong class "
                                          "(dashed: flagged above)"], {}),
                          ("set_ylabel", ["pairs"], {}), ("tight_layout", [], {}), saved]


def test_a_class_with_nothing_to_show_says_so_and_draws_nothing(tmp_path, drawn):
    """Nobody graded yet, no flags, no change, no note: each section says so or is left out."""
    path = tmp_path / "report.html"
    class_report.write(str(path), [], {}, integrity.Flags([], np.zeros(0), float("nan"), {}), [], [])
    _, body = sections(path)
    assert body == ["<h1>hw2: the class graded</h1><p>0 students, 0 submissions graded, 0 rows not graded or "
                    "failed, 0 integrity flags.</p>",
                    "<h2>The grader's failures and ungraded rows</h2><p>None: every submission was graded.</p>",
                    "<h2>Integrity flags (staff only)</h2><p>No flags.</p>",
                    "<h2>Changes against the older gradebook</h2><p>No student's points change.</p>"]
    assert drawn == []
    class_report.write(str(path), ROWS[:1], GRADED, FLAGS, [], None)   # no --compare: no changes section
    assert not any("Changes" in section for section in sections(path)[1])
    # pairs judged and none flagged: their shares are drawn all the same
    class_report.write(str(path), [], {}, integrity.Flags([], np.array([0.2]), 0.9, {}), [], None)
    assert sections(path)[1][2] == f'<h2>Integrity flags (staff only)</h2><img alt="shared wrong predictions" {PNG}>' \
                                   "<p>No flags.</p>"


def test_the_time_table_lists_the_ten_slowest_gradings_slowest_first(tmp_path, drawn):
    graded = {f"s{k:02d}": ({"seconds": float(k), "peak_memory_bytes": 1e6 * k}, {}) for k in range(12)}
    path = tmp_path / "report.html"
    class_report.write(str(path), [], graded, integrity.Flags([], np.zeros(0), float("nan"), {}), [], None)
    timing = next(section for section in sections(path)[1] if section.startswith("<h2>Grading time"))
    assert timing == f'<h2>Grading time</h2><img alt="grading seconds" {PNG}>' + table(
        ["submission", "seconds", "peak memory (MB)"], *[[f"s{k:02d}", k, k] for k in range(11, 1, -1)])
    assert drawn[0][0] == ("bar", [range(12), [float(k) for k in range(11, -1, -1)]], {"color": "tab:gray"})
