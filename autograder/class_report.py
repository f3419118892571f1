"""report.html of a graded class: one self-contained page (figures embedded) for the course staff.

Order: what the staff must act on first (the grader's own failures and the rows nobody could
grade), then the distribution of totals, each exercise's mean and share at full marks, 7.3's
private accuracy against its tiers, the grading time per submission, the integrity flags, the
changes against an older gradebook, and the notes on how the export was read.
"""
import base64
import html
import io

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from autograder import integrity, scoring  # noqa: E402
from hw2_data import atomic_write_text  # noqa: E402

MAX_POINTS = {exercise.number: exercise.points for exercise in scoring.EXERCISES}
MAX_POINTS["7.3"] = scoring.OWN_MODEL_TIERS[0][1]


def figure_html(draw, alt):
    """An <img> of the figure draw(axes) makes, as an embedded PNG."""
    figure, axes = plt.subplots(figsize=(7, 3.2))
    draw(axes)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def table_html(header, rows):
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def exercise_summary(rows):
    """[(exercise, graded count, mean points, max points, share at full marks)] over the graded rows."""
    summary = []
    for number, most in MAX_POINTS.items():
        points = np.array([float(row[number]) for row in rows if row.get(number, "") != ""])
        if len(points):
            summary.append((number, len(points), f"{points.mean():.2f}", f"{most:g}", f"{np.mean(points >= most):.0%}"))
    return summary


def write(path, rows, graded, flags, notes, changes=None):
    """Write report.html. rows: the gradebook's; graded: submission id -> (record, results);
    flags: integrity.Flags; notes: how the export was read; changes: regrade.changes() or None."""
    problems = [row for row in rows if not row["status"].startswith("graded")]
    totals = np.array([float(row["total"]) for row in rows if row.get("total", "") != ""])
    seconds = sorted(((record["seconds"], key) for key, (record, _) in graded.items()), reverse=True)
    parts = [f"<h1>hw2: the class graded</h1><p>{len(rows)} students, {len(graded)} submissions graded, "
             f"{len(problems)} rows not graded or failed, {len(flags.rows)} integrity flags.</p>"]
    parts.append("<h2>The grader's failures and ungraded rows</h2>" + (
        table_html(["name", "sid", "submission", "status"],
                   [(row["name"], row["sid"], row["submission"], row["status"]) for row in problems])
        if problems else "<p>None: every submission was graded.</p>"))
    if len(totals):
        parts.append("<h2>Totals</h2>" + figure_html(lambda axes: (
            axes.hist(totals, bins=np.arange(0, scoring.MAX_SCORE + 2) - 0.5, color="tab:blue"),
            axes.set_xlabel(f"auto-graded points (of {scoring.MAX_SCORE:g})"), axes.set_ylabel("students")),
            "histogram of totals") + f"<p>mean {totals.mean():.2f}, median {np.median(totals):g}</p>")
        parts.append("<h2>Per exercise</h2>" + table_html(
            ["exercise", "students graded", "mean points", "of", "at full marks"], exercise_summary(rows)))
    accuracies = np.array(list(flags.accuracies.values()))
    if len(accuracies):
        def accuracy_figure(axes):
            axes.hist(accuracies, bins=np.linspace(0, 1, 51), color="tab:green")
            for low, points in scoring.OWN_MODEL_TIERS:
                axes.axvline(low, color="black", linestyle="--", linewidth=0.8)
                axes.text(low, axes.get_ylim()[1] * 0.9, f" {points}", fontsize=8)
            axes.set_xlabel("7.3 private-test accuracy (dashed: tiers, with their points)")
            axes.set_ylabel("submissions")
        parts.append("<h2>7.3: private-test accuracy</h2>" + figure_html(accuracy_figure, "7.3 accuracy"))
    if seconds:
        parts.append("<h2>Grading time</h2>" + figure_html(lambda axes: (
            axes.bar(range(len(seconds)), [value for value, _ in seconds], color="tab:gray"),
            axes.set_xlabel("submissions, slowest first"), axes.set_ylabel("seconds")), "grading seconds")
            + table_html(["submission", "seconds", "peak memory (MB)"],
                         [(key, f"{value:.0f}", f"{graded[key][0]['peak_memory_bytes'] / 1e6:.0f}")
                          for value, key in seconds[:10]]))
    parts.append("<h2>Integrity flags (staff only)</h2>")
    if len(flags.shares):
        parts.append(figure_html(lambda axes: (
            axes.hist(flags.shares, bins=np.linspace(0, 1, 41), color="tab:orange"),
            axes.axvline(flags.threshold, color="red", linestyle="--"),
            axes.set_xlabel("share of the images both got wrong with the same wrong class (dashed: flagged above)"),
            axes.set_ylabel("pairs")), "shared wrong predictions"))
    parts.append(table_html(integrity.FLAG_COLUMNS, [[row.get(column, "") for column in integrity.FLAG_COLUMNS]
                                                     for row in flags.rows]) if flags.rows else "<p>No flags.</p>")
    if changes is not None:
        parts.append("<h2>Changes against the older gradebook</h2>" + (table_html(
            ["name", "sid", "changed", "total before", "total after"],
            [(row["name"], row["sid"], row["changed"], row["total_before"], row["total_after"]) for row in changes])
            if changes else "<p>No student's points change.</p>"))
    if notes:
        parts.append("<h2>How the export was read</h2><ul>" + "".join(f"<li>{html.escape(note)}</li>"
                                                                      for note in notes) + "</ul>")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}")
    atomic_write_text(path, f"<!doctype html><html><head><meta charset='utf-8'><title>hw2 class report</title>"
                            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n")
