"""autograder/regrade.py: a whole class graded from Gradescope's export or a folder of zips.

The synthetic class (class_uploads) holds what a real semester holds: the reference, the starter,
partial work, a broken exercise, a stale log, an attack, copied and looked-up CSVs, a group
submission, a student who submitted twice, unreadable and hostile zips, an empty folder and a
metadata entry without its folder. The expensive grading (Part II's relu in real boxes, and 7.3)
runs once; the rest of the class-level rules run on 7.3 alone, which runs no student code (under a
second a submission)."""
import csv
import dataclasses
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import hw2_submission
import hw2_utils
from autograder import integrity, regrade, sandbox, submissions
from hw2_data import PRIVATE_TEST_SIZE
from commands import run_main
from predictions import csv_bytes, edited, predictions_with
from staff import starter
from test_grade import forged_log

ROOT = hw2_utils.ROOT
REGRADE = os.path.join(ROOT, "autograder", "regrade.py")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the box's user switch needs root (CI runs as root)")
SEED = 5


# --------------------------------------------------------------------------- the synthetic class

def zip_bytes(files):
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"regrade-test-{os.getpid()}.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with open(path, "rb") as stream:
        data = stream.read()
    os.remove(path)
    return data


def numpy_work(numpy_source=None):
    """The reference's Part II files (hw2_numpy.py replaced by numpy_source) and their all-OK log."""
    files = {name: hw2_submission.read_project_file(name)
             for name in hw2_submission.log_sources("evaluation_numpy.txt")}
    if numpy_source is not None:
        files["hw2_numpy.py"] = numpy_source.encode()
    files["evaluation_numpy.txt"] = forged_log("evaluation_numpy.txt", files)
    return files


ATTACK = '''
import os
for path in ("/autograder/source/private_test_y.npy", "/autograder/results/results.json"):
    try:
        open(path, "a").write('{"score": 100}')
    except OSError:
        pass
print("=== BEGIN test_relu ===\\nOK\\n=== END test_relu ===")
'''


def class_uploads(labels):
    """id -> (submitters [(name, sid, email)], created_at, upload: {name: bytes} | None for an empty
    folder | "missing"), and id -> the expected 6.2 and 7.3 points and status start (None: no row)."""
    reference = predictions_with(labels, 0.85, seed=1)
    relu_broken = hw2_submission.read_project_file("hw2_numpy.py").decode().replace(
        "def relu(x):", "def relu(x):\n    return x.copy()\n\n\ndef _unused(x):", 1)
    stale = numpy_work()
    stale["hw2_numpy.py"] += b"\n# edited after the log was written\n"
    given = {name: text.encode() for name, (text, _) in starter.starter_files().items()
             if name in hw2_submission.submission_files()}
    attacked = numpy_work(hw2_submission.read_project_file("hw2_numpy.py").decode() + ATTACK)
    slip = zip_bytes({"../hw2_numpy.py": b"print('outside')\n", "submission.csv": csv_bytes(
        predictions_with(labels, 0.83, seed=13))})
    csv_of = lambda accuracy, seed: {"submission.csv": csv_bytes(predictions_with(labels, accuracy, seed))}  # noqa
    person = lambda name, sid: (name, sid, f"{name.lower()}@andrew.cmu.edu")  # noqa
    uploads = {
        "submission_1001": ([person("Ada", "1001")], "2020-03-20 21:00:00.000000000 -0400",
                            {"submission.zip": zip_bytes({**numpy_work(), "submission.csv": csv_bytes(reference)})}),
        "submission_1002": ([person("Ben", "1002")], "2020-03-20 21:01:00 -0400", given),
        "submission_1003": ([person("Cy", "1003")], "2020-03-20 21:02:00 -0400", numpy_work()),
        "submission_1004": ([person("Di", "1004")], "2020-03-20 21:03:00 -0400",
                            {**numpy_work(relu_broken), **csv_of(0.78, 4)}),
        "submission_1005": ([person("Ed", "1005")], "2020-03-20 21:04:00 -0400", {**stale, **csv_of(0.81, 5)}),
        "submission_1006": ([person("Fay", "1006")], "2020-03-20 21:05:00 -0400", {**attacked, **csv_of(0.72, 6)}),
        "submission_1007": ([person("Gus", "1007")], "2020-03-20 21:06:00 -0400",
                            {"submission.csv": csv_bytes(edited(reference, 0.05, 7), seed=7)}),
        "submission_1008": ([person("Hal", "1008")], "2020-03-20 21:07:00 -0400",
                            {"submission.csv": csv_bytes(labels)}),
        "submission_1009": ([person("Ivy", "1009"), person("Jo", "1010")], "2020-03-20 21:08:00 -0400",
                            {"submission.zip": zip_bytes({**numpy_work(), **csv_of(0.76, 9)})}),
        "submission_1011": ([person("Ken", "1011")], "2020-03-19 10:00:00 -0400", csv_of(0.5, 11)),
        "submission_1111": ([person("Ken", "1011")], "2020-03-21 10:00:00 -0400", csv_of(0.74, 111)),
        "submission_1012": ([person("Lu", "1012")], "2020-03-20 21:09:00 -0400",
                            {"submission.zip": b"PK\x03\x04 this is not a zip"}),
        "submission_1013": ([person("Mo", "1013")], "2020-03-20 21:10:00 -0400", {"submission.zip": slip}),
        "submission_1014": ([person("Ned", "1014")], "2020-03-20 21:11:00 -0400", None),
        "submission_1015": ([person("Oz", "1015")], "2020-03-20 21:12:00 -0400", "missing"),
        "submission_1016": ([person("Pat", "1016")], "2020-03-20 21:13:00 -0400", csv_of(0.8, 16)),
        "submission_1017": ([person("Quinn", "1017")], "2020-03-20 21:14:00 -0400",
                            {"submission.csv": csv_bytes(edited(reference, 0.15, 17), seed=17)}),
        "submission_1018": ([person("Ray", "1018")], "2020-03-20 21:15:00 -0400", csv_of(0.84, 18)),
    }
    expected = {   # id -> (6.2, 7.3, status start); "" for no points. Gus's copy is right on 80.84%, Quinn's 72.26%
        "submission_1001": ("2", "10", "graded"), "submission_1002": ("0", "0", "graded"),
        "submission_1003": ("2", "0", "graded"), "submission_1004": ("0", "5", "graded"),
        "submission_1005": ("0", "8", "graded"), "submission_1006": ("2", "3", "graded"),
        "submission_1007": ("0", "8", "graded"), "submission_1008": ("0", "10", "graded"),
        "submission_1009": ("2", "5", "graded"), "submission_1111": ("0", "3", "graded"),
        "submission_1012": ("0", "0", "graded (reading the upload: submission.zip: not a readable zip"),
        "submission_1013": ("0", "10", "graded (reading the upload: ../hw2_numpy.py: folders are not allowed"),
        "submission_1014": ("", "", "not graded: the submission folder is empty"),
        "submission_1015": ("", "", "not graded: the export has no folder submission_1015/"),
        "submission_1016": ("0", "8", "graded"), "submission_1017": ("0", "3", "graded"),
        "submission_1018": ("0", "10", "graded"),
    }
    return uploads, expected


def write_export(folder, uploads):
    """Gradescope's export layout: a top folder holding submission_metadata.yml and a folder per submission."""
    top = folder / "assignment_739_export"
    lines = []
    for submission_id, (submitters, created, files) in uploads.items():
        lines.append(f"{submission_id}:")
        lines.append("  :submitters:")
        for name, sid, email in submitters:
            lines += [f"  - :name: {name}", f"    :sid: '{sid}'", f"    :email: {email}"]
        lines += [f"  :created_at: {created}", "  :score: 0.0"]
        if files == "missing":
            continue
        (top / submission_id).mkdir(parents=True)
        for name, data in (files or {}).items():
            (top / submission_id / name).write_bytes(data)
    (top / submissions.METADATA).write_text("\n".join(lines) + "\n")
    return top


def write_folder_of_zips(folder, uploads):
    """One NAME.zip per student (NAME the submission's first submitter), as `make similarity` reads them."""
    folder.mkdir()
    for submitters, _, files in uploads.values():
        if isinstance(files, dict):
            data = files["submission.zip"] if set(files) == {"submission.zip"} else zip_bytes(files)
            (folder / f"{submitters[0][0]}.zip").write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def labels_file(tmp_path_factory):
    labels = np.random.default_rng(99).integers(0, 10, PRIVATE_TEST_SIZE)
    path = tmp_path_factory.mktemp("labels") / "private_test_y.npy"
    np.save(path, labels)
    return labels, str(path)


def run_regrade(*args, env=None):
    return run_main(regrade.main, *args, env=env)


def read_csv(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def by_submission(rows):
    found = {}
    for row in rows:
        found.setdefault(row["submission"], []).append(row)
    return found


# --------------------------------------------------------------------------- the whole class, in real boxes

@needs_root
@pytest.mark.grading
def test_a_class_export_is_graded_row_by_row_with_flags_and_a_report(tmp_path, labels_file):
    labels, labels_path = labels_file
    uploads, expected = class_uploads(labels)
    export = write_export(tmp_path, uploads)
    out = tmp_path / "out"
    process = run_regrade(export.parent, "--out", out, "--labels", labels_path, "--hidden-seed", SEED,
                          "--only", "6.2,7.3", "--jobs", 2)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    rows = read_csv(out / "gradebook.csv")
    assert list(rows[0]) == regrade.GRADEBOOK_COLUMNS
    found = by_submission(rows)
    assert set(found) == set(expected), sorted(set(found) ^ set(expected))
    for submission_id, (relu, own_model, status) in expected.items():
        for row in found[submission_id]:
            assert (row["6.2"], row["7.3"]) == (relu, own_model), (submission_id, row)
            assert row["status"].startswith(status), (submission_id, row["status"])
            assert row["total"] == ("" if not relu else f"{int(relu) + int(own_model)}"), row
            assert all(row[column] == "" for column in regrade.TEST_COLUMNS if column not in ("6.2", "7.3"))
    # The group: one row per member, the group's points; Ken's older submission is not graded, and said so.
    assert [row["name"] for row in found["submission_1009"]] == ["Ivy", "Jo"]
    assert [row["sid"] for row in rows].count("1011") == 1 and "submission_1011" not in found
    listing = json.loads((out / "class.json").read_text())
    assert any("1011" in note and "kept the latest, submission_1111" in note for note in listing["notes"])
    assert not (out / "graded" / "submission_1011.json").exists()
    # What the grader said about the attack and the stale log, in Gradescope's results.
    stale = json.loads((out / "results" / "submission_1005.json").read_text())
    assert "stale" in next(test["output"] for test in stale["tests"] if test["number"] == "6.2")
    for submission_id in ("submission_1001", "submission_1006"):
        record = json.loads((out / "graded" / f"{submission_id}.json").read_text())
        assert record["seconds"] > 0 and record["peak_memory_bytes"] > 10 * 2 ** 20 and record["failure"] == ""
    flags = read_csv(out / "flags.csv")
    flagged = {(row["submission_a"], row["submission_b"]): row["kind"] for row in flags}
    assert "shared wrong predictions" in flagged[("submission_1001", "submission_1007")]   # 5% of rows changed
    assert "shared wrong predictions" in flagged[("submission_1001", "submission_1017")]   # 15%
    assert ("submission_1008", "") in flagged and flagged[("submission_1008", "")] == "label lookup"
    assert "identical files" in flagged[("submission_1001", "submission_1003")]            # the same hw2_numpy.py
    independent = {"submission_1004", "submission_1005", "submission_1006", "submission_1009", "submission_1016",
                   "submission_1018", "submission_1111", "submission_1013"}
    for (a, b), kind in flagged.items():
        if a in independent or b in independent:
            assert "shared wrong predictions" not in kind, (a, b, kind)
    report = (out / "report.html").read_text()
    assert report.count("data:image/png;base64,") >= 4 and "<script" not in report
    assert report.index("failures") < report.index("Totals") < report.index("Integrity flags")
    assert "submission_1015" in report and "Ken (1011) is in submission_1011" in report
    # A second run grades nothing again and writes the same gradebook.
    again = run_regrade(export.parent, "--out", out, "--labels", labels_path, "--hidden-seed", SEED,
                        "--only", "6.2,7.3", "--jobs", 2)
    assert again.returncode == 0 and "0 to grade" in again.stdout, again.stdout[-2000:]
    assert read_csv(out / "gradebook.csv") == rows


# --------------------------------------------------------------------------- the class-level rules, on 7.3 alone

# The mechanics (shards, jobs, resuming, comparing) on a part of the class: a grading of 7.3 costs
# about a second, most of it the grader's start.
SMALL_CLASS = ("submission_1001", "submission_1003", "submission_1007", "submission_1008", "submission_1009",
               "submission_1011", "submission_1111", "submission_1014", "submission_1016")


@pytest.fixture(scope="module")
def export(tmp_path_factory, labels_file):
    labels, labels_path = labels_file
    uploads, expected = class_uploads(labels)
    uploads = {key: uploads[key] for key in SMALL_CLASS}
    return write_export(tmp_path_factory.mktemp("export"), uploads), uploads, expected


def test_a_folder_of_zips_is_graded_by_student_name(tmp_path, labels_file):
    labels, labels_path = labels_file
    uploads, expected = class_uploads(labels)
    folder = write_folder_of_zips(tmp_path / "zips", uploads)
    out = tmp_path / "out"
    process = run_regrade(folder, "--out", out, "--labels", labels_path, "--hidden-seed", SEED, "--only", "7.3")
    assert process.returncode == 0, process.stderr[-3000:]
    rows = {row["name"]: row for row in read_csv(out / "gradebook.csv")}
    names = {uploads[key][0][0][0]: key for key in uploads if isinstance(uploads[key][2], dict)}
    assert set(rows) == set(names)
    for name, key in names.items():
        assert rows[name]["7.3"] == expected[key][1] and rows[name]["submission"] == name, (name, rows[name])
        assert rows[name]["sid"] == "" and rows[name]["6.2"] == ""
    assert rows["Lu"]["status"].startswith("graded (reading the upload: Lu.zip: not a readable zip")
    assert rows["Mo"]["status"].startswith("graded (reading the upload: ../hw2_numpy.py: folders are not allowed")
    # A folder and a zip of one name: the first in name order (the folder) is graded, the zip is a row
    # that says why.
    (folder / "Ada").mkdir()
    (folder / "Ada" / "submission.csv").write_bytes(csv_bytes(predictions_with(labels, 0.5, 1)))
    again = run_regrade(folder, "--out", out, "--labels", labels_path, "--hidden-seed", SEED, "--only", "7.3")
    assert again.returncode == 0 and "1 to grade" in again.stdout, again.stdout[-2000:]
    ada = [row for row in read_csv(out / "gradebook.csv") if row["name"] == "Ada"]
    assert [row["7.3"] for row in ada] == ["0", ""] and "Ada.zip has the name of another" in ada[1]["status"]


def test_an_export_zip_without_metadata_is_graded_as_folders_with_a_note(tmp_path, export, labels_file):
    top, uploads, expected = export
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as stream:
        for path in sorted(top.rglob("*")):
            if path.name != submissions.METADATA:
                stream.write(path, path.relative_to(top.parent))   # folders too: an empty one stays
    out = tmp_path / "out"
    process = run_regrade(archive, "--out", out, "--labels", labels_file[1], "--hidden-seed", SEED, "--only", "7.3")
    assert process.returncode == 0, process.stderr[-3000:]
    rows = by_submission(read_csv(out / "gradebook.csv"))
    assert rows["submission_1001"][0]["7.3"] == "10" and rows["submission_1001"][0]["name"] == "submission_1001"
    assert "submission_1011" in rows and "submission_1111" in rows   # no sids: nothing to tell them apart
    assert rows["submission_1014"][0]["status"].startswith("not graded: the submission folder is empty")
    notes = json.loads((out / "class.json").read_text())["notes"]
    assert any("no submission_metadata.yml" in note for note in notes)


def test_three_shards_merged_equal_one_run_byte_for_byte(tmp_path, export, labels_file):
    top, _, _ = export
    common = ["--labels", labels_file[1], "--hidden-seed", SEED, "--only", "7.3"]
    whole = run_regrade(top.parent, "--out", tmp_path / "whole", *common, "--jobs", 2)
    assert whole.returncode == 0, whole.stderr[-3000:]
    graded = set()
    for k in range(3):
        shard = run_regrade(top.parent, "--out", tmp_path / f"shard{k}", *common, "--shard", f"{k}/3")
        assert shard.returncode == 0, shard.stderr[-3000:]
        graded.update(path.stem for path in (tmp_path / f"shard{k}" / "graded").glob("*.json"))
    shards = [tmp_path / f"shard{k}" for k in range(3)]
    sizes = [len(list((shard / "graded").glob("*.json"))) for shard in shards]
    listed = json.loads((tmp_path / "whole" / "class.json").read_text())["submissions"]
    assert sum(sizes) == len(graded) == len(listed), sizes   # disjoint, and together the class
    merged = run_regrade("merge", *shards, "--out", tmp_path / "merged", "--labels", labels_file[1])
    assert merged.returncode == 0, merged.stderr[-3000:]
    assert (tmp_path / "merged" / "gradebook.csv").read_bytes() == (tmp_path / "whole" / "gradebook.csv").read_bytes()
    assert (tmp_path / "merged" / "flags.csv").read_bytes() == (tmp_path / "whole" / "flags.csv").read_bytes()
    # with every grading's results, record and log, and the class as the shards read it
    for kind in ("results", "graded", "logs"):
        names = sorted(os.listdir(tmp_path / "whole" / kind))
        assert names and sorted(os.listdir(tmp_path / "merged" / kind)) == names, kind
    assert (tmp_path / "merged" / "class.json").read_text() == (tmp_path / "whole" / "class.json").read_text()
    # A shard alone says which rows wait for the others.
    alone = by_submission(read_csv(tmp_path / "shard0" / "gradebook.csv"))
    assert any(rows[0]["status"].startswith("not graded yet by this grader") for rows in alone.values())
    # Shards are the same for any order of the input: the assignment depends on the id alone.
    assert all(regrade.in_shard(key, (k, 3)) for k in range(3) for key in
               (path.stem for path in (shards[k] / "graded").glob("*.json")))
    # Shards of another export are refused.
    other = tmp_path / "other"
    shutil.copytree(shards[1], other)
    listing = json.loads((other / "class.json").read_text())
    listing["submissions"].pop()
    (other / "class.json").write_text(json.dumps(listing))
    refused = run_regrade("merge", shards[0], other, "--out", tmp_path / "bad")
    assert refused.returncode == 2 and "differs" in refused.stderr
    # Shards graded by another grader (here: another seed) are refused too.
    reseeded = run_regrade(top.parent, "--out", tmp_path / "reseeded", *common[:2], "--hidden-seed", SEED + 1,
                           "--only", "7.3", "--shard", "2/3")
    assert reseeded.returncode == 0, reseeded.stderr[-2000:]
    refused = run_regrade("merge", shards[0], shards[1], tmp_path / "reseeded", "--out", tmp_path / "bad")
    assert refused.returncode == 2 and "another grader" in refused.stderr
    # A shard graded by another grader into a folder of older records counts none of them.
    assert not all(regrade.in_shard(key, (0, 3)) for key in flagged_in(tmp_path / "whole"))   # flagged before
    mixed = run_regrade(top.parent, "--out", tmp_path / "whole", *common[:2], "--hidden-seed", SEED + 1,
                        "--only", "7.3", "--shard", "0/3")
    assert mixed.returncode == 0, mixed.stderr[-2000:]
    rows = read_csv(tmp_path / "whole" / "gradebook.csv")
    waiting = [row for row in rows if row["status"].startswith("not graded yet by this grader")]
    assert {row["submission"] for row in waiting} == {entry["id"] for entry in listed
                                                      if not regrade.in_shard(entry["id"], (0, 3))}
    assert all(regrade.in_shard(key, (0, 3)) for key in flagged_in(tmp_path / "whole"))   # nor do the flags


def flagged_in(out):
    return {row[side] for row in read_csv(out / "flags.csv") for side in ("submission_a", "submission_b")} - {""}


def test_jobs_2_and_jobs_1_give_the_same_gradebook_and_compare_finds_who_moves(tmp_path, export, labels_file):
    top, _, _ = export
    labels, labels_path = labels_file
    common = ["--hidden-seed", SEED, "--only", "7.3"]
    one = run_regrade(top.parent, "--out", tmp_path / "one", "--labels", labels_path, *common, "--jobs", 1)
    two = run_regrade(top.parent, "--out", tmp_path / "two", "--labels", labels_path, *common, "--jobs", 2)
    assert one.returncode == two.returncode == 0, one.stderr[-2000:] + two.stderr[-2000:]
    assert (tmp_path / "one" / "gradebook.csv").read_bytes() == (tmp_path / "two" / "gradebook.csv").read_bytes()
    # Two at once share the cores: each grading's boxes get half (the points do not depend on it).
    shared = f"threads per box: {max(1, len(os.sched_getaffinity(0)) // 2)}\n"
    for out, told in (("one", "threads per box: every core\n"), ("two", shared)):
        logs = [path.read_text() for path in (tmp_path / out / "logs").iterdir()]
        assert logs and all(told in log for log in logs), (out, logs[0])
    # New labels (one image in ten relabeled): whose 7.3 moves, before it is deployed.
    relabeled = labels.copy()
    relabeled[::10] = (relabeled[::10] + 1) % 10
    np.save(tmp_path / "new_labels.npy", relabeled)
    # Compared with the gradebook this very run replaces (it is read first).
    new = run_regrade(top.parent, "--out", tmp_path / "two", "--labels", tmp_path / "new_labels.npy", *common,
                      "--compare", tmp_path / "two" / "gradebook.csv")
    assert new.returncode == 0, new.stderr[-2000:]
    old_rows = {row["sid"]: row for row in read_csv(tmp_path / "one" / "gradebook.csv")}
    new_rows = {row["sid"]: row for row in read_csv(tmp_path / "two" / "gradebook.csv")}
    moved = {row["sid"]: row for row in read_csv(tmp_path / "two" / "changes.csv")}
    expected_moves = {sid for sid in old_rows if old_rows[sid]["7.3"] != new_rows[sid]["7.3"]}
    assert expected_moves and set(moved) == expected_moves
    for sid in expected_moves:
        assert moved[sid]["changed"] == f"7.3: {old_rows[sid]['7.3']} -> {new_rows[sid]['7.3']}"
        assert (moved[sid]["total_before"], moved[sid]["total_after"]) == (old_rows[sid]["total"],
                                                                           new_rows[sid]["total"])
    assert "Changes against the older gradebook" in (tmp_path / "two" / "report.html").read_text()


def test_an_interrupted_regrade_continues_where_it_stopped(tmp_path, export, labels_file):
    top, _, _ = export
    common = ["--labels", labels_file[1], "--hidden-seed", SEED, "--only", "7.3"]
    for attempt in range(3):   # a machine busy enough to starve this process may let the run end first
        out = tmp_path / f"out{attempt}"
        # Started as a shell starts a background job (SIGINT ignored, which Python keeps): Ctrl-C or
        # `kill -INT` must stop it all the same.
        process = subprocess.Popen([sys.executable, REGRADE, str(top.parent), "--out", str(out), *map(str, common)],
                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        records = out / "graded"
        while process.poll() is None and not (records.exists() and list(records.glob("*.json"))):
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)   # Ctrl-C (SIGTERM, as a killed SLURM job gets, is handled alike)
        if process.wait(timeout=60) != 0:
            break
    assert process.returncode == 130, process.stderr.read()[-2000:]
    done = {path.stem: path.stat().st_mtime_ns for path in records.glob("*.json")}
    listed = len(json.loads((out / "class.json").read_text())["submissions"])
    assert 1 <= len(done) < listed, (len(done), listed)
    assert not list((out / "results").glob("*.grading"))                 # no half-written results
    assert {path.stem for path in (out / "results").glob("*.json")} == set(done)
    again = run_regrade(top.parent, "--out", out, *common)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{len(done)} already graded" in again.stdout
    assert all((records / f"{key}.json").stat().st_mtime_ns == stamp for key, stamp in done.items())
    whole = run_regrade(top.parent, "--out", tmp_path / "whole", *common)
    assert whole.returncode == 0
    assert (out / "gradebook.csv").read_bytes() == (tmp_path / "whole" / "gradebook.csv").read_bytes()
    # A changed upload or another grader (here: another seed) grades again.
    upload = top / "submission_1016" / "submission.csv"
    upload.write_bytes(upload.read_bytes().replace(b"Id,Category\n", b"Id,Category\n\n"))
    try:
        changed = run_regrade(top.parent, "--out", out, *common)
        assert "1 to grade" in changed.stdout, changed.stdout[-1500:]
    finally:
        upload.write_bytes(upload.read_bytes().replace(b"Id,Category\n\n", b"Id,Category\n"))
    other_seed = run_regrade(top.parent, "--out", out, *common[:2], "--hidden-seed", SEED + 1, "--only", "7.3")
    assert "0 already graded" in other_seed.stdout, other_seed.stdout[-1500:]


# --------------------------------------------------------------------------- bad input

def write_metadata(folder, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / submissions.METADATA).write_text(text)
    (folder / "submission_1").mkdir(exist_ok=True)
    (folder / "submission_1" / "submission.csv").write_text("Id,Category\n")
    return folder


@pytest.mark.parametrize("text, refusal", [
    ("!!python/object/apply:os.system ['touch {canary}']\n", "not plain YAML"),
    ("submission_1: !!python/object/new:os.system ['touch {canary}']\n", "not plain YAML"),
    ("- submission_1\n- submission_2\n", "expected a mapping"),
    ("submission_1: [unclosed\n", "not plain YAML"),
])
def test_metadata_that_is_not_plain_data_is_refused_and_builds_nothing(tmp_path, text, refusal):
    canary = tmp_path / "canary"
    folder = write_metadata(tmp_path / "export", text.format(canary=canary))
    process = run_regrade(folder, "--out", tmp_path / "out", "--hidden-seed", SEED, "--only", "7.3")
    assert process.returncode == 2 and refusal in process.stderr, process.stderr
    assert not canary.exists()
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_bad_metadata_entries_get_named_rows_and_the_rest_is_graded(tmp_path, labels_file):
    folder = tmp_path / "export"
    write_metadata(folder, "\n".join([
        "submission_1:", "  :submitters:", "  - :name: Good", "    :sid: '1'",
        "submission_2: just text",
        "submission_3:", "  :submitters: []",
        "../escape:", "  :submitters:", "  - :name: Sly", "    :sid: '3'",
        "submission_4:", "  :submitters:", "  - [not, a, mapping]",
    ]) + "\n")
    (folder / "submission_1" / "submission.csv").write_bytes(csv_bytes(labels_file[0]))
    (folder / "stray_folder").mkdir()
    out = tmp_path / "out"
    process = run_regrade(folder, "--out", out, "--labels", labels_file[1], "--hidden-seed", SEED, "--only", "7.3")
    assert process.returncode == 0, process.stderr
    rows = by_submission(read_csv(out / "gradebook.csv"))
    assert rows["submission_1"][0]["7.3"] == "10"
    assert "without a list of :submitters:" in rows["submission_2"][0]["status"]
    assert "without a list of :submitters:" in rows["submission_3"][0]["status"]
    assert "unsafe folder" in rows["../escape"][0]["status"] and rows["../escape"][0]["name"] == "Sly"
    assert "no :name: or :sid:" in rows["submission_4"][0]["status"]
    notes = json.loads((out / "class.json").read_text())["notes"]
    assert any("stray_folder/" in note for note in notes)


def test_a_hostile_export_zip_is_refused_before_anything_is_written_outside(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as stream:
        stream.writestr("../../outside.txt", "x")
    process = run_regrade(archive, "--out", tmp_path / "out", "--hidden-seed", SEED)
    assert process.returncode == 2 and "would land outside" in process.stderr
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path.parent / "outside.txt").exists()
    (tmp_path / "not.zip").write_text("plain text")
    process = run_regrade(tmp_path / "not.zip", "--out", tmp_path / "out", "--hidden-seed", SEED)
    assert process.returncode == 2 and "not a zip" in process.stderr


def test_a_grader_that_hangs_or_fails_is_a_named_row_never_a_silent_0(tmp_path, export, labels_file):
    top, _, _ = export
    out = tmp_path / "hang"
    process = run_regrade(top.parent, "--out", out, "--hidden-seed", SEED, "--only", "7.3", "--timeout", 0,
                          "--jobs", 2)
    assert process.returncode == 0, process.stderr[-2000:]
    rows = read_csv(out / "gradebook.csv")
    graded_ids = {row["submission"] for row in rows if "not graded" not in row["status"]}
    assert graded_ids and all(row["status"].startswith("grader failed: the grader did not finish in 0 s")
                              and row["total"] == "" for row in rows if row["submission"] in graded_ids)
    # The grader failing on its own set-up (no data where it looks): "contact the course staff", no points.
    two = tmp_path / "two"
    two.mkdir()
    for name in ("ada", "ben"):
        shutil.copyfile(top / "submission_1001" / "submission.zip", two / f"{name}.zip")
    failing = run_regrade(two, "--out", tmp_path / "fail", "--hidden-seed", SEED, "--only", "6.2",
                          env={"HW2_DATA_DIR": str(tmp_path / "no-data")})
    assert failing.returncode == 0, failing.stderr[-2000:]
    rows = read_csv(tmp_path / "fail" / "gradebook.csv")
    assert len(rows) == 2 and all(row["status"].startswith("grader failed: the grader failed on this submission") and
                        row["total"] == "" and row["6.2"] == "" for row in rows)


def test_without_a_seed_or_with_a_wrong_shard_or_labels_it_says_the_fix(tmp_path, export):
    top, _, _ = export
    process = run_regrade(top.parent, "--out", tmp_path / "out")
    assert process.returncode == 2 and "--hidden-seed" in process.stderr and "--autograder" in process.stderr
    process = run_regrade(top.parent, "--out", tmp_path / "out", "--hidden-seed", 1, "--shard", "3/3")
    assert process.returncode == 2 and "0 <= K < N" in process.stderr
    process = run_regrade(top.parent, "--out", tmp_path / "out", "--hidden-seed", 1, "--only", "6.9")
    assert process.returncode == 2 and "no such part 6.9" in process.stderr
    (tmp_path / "labels.npy").write_bytes(b"not an array")
    process = run_regrade(top.parent, "--out", tmp_path / "out", "--hidden-seed", 1,
                          "--labels", tmp_path / "labels.npy")
    assert process.returncode == 2 and "not a .npy array" in process.stderr
    assert not (tmp_path / "out" / "graded").exists()


def test_the_autograder_zip_gives_the_seed_and_the_labels(tmp_path, export, labels_file):
    top, _, _ = export
    archive = tmp_path / "autograder.zip"
    with zipfile.ZipFile(archive, "w") as stream:
        stream.writestr("hidden_seed.txt", f"{SEED}\n")
        stream.write(labels_file[1], "private_test_y.npy")
    out = tmp_path / "out"
    process = run_regrade(top.parent, "--out", out, "--autograder", archive, "--only", "7.3")
    assert process.returncode == 0, process.stderr[-2000:]
    rows = by_submission(read_csv(out / "gradebook.csv"))
    assert rows["submission_1008"][0]["7.3"] == "10"
    assert rows["submission_1014"][0]["status"] == "not graded: the submission folder is empty (nothing uploaded)"
    assert os.stat(out / "private_test_y.npy").st_mode & 0o077 == 0   # the labels stay the staff's


# --------------------------------------------------------------------------- the flags' rules, directly

def test_same_mistakes_are_counted_exactly():
    labels = np.array([0, 1, 2, 3, 4, 5])
    predictions = np.array([[0, 2, 3, 3, 5, 6],    # wrong on 1, 2, 4, 5
                            [0, 2, 4, 3, 5, 5],    # wrong on 1, 2, 4
                            [0, 1, 2, 3, 4, 5]])   # never wrong
    wrong, same = integrity.same_mistakes(predictions, labels)
    assert wrong.tolist() == [4, 3, 0]
    assert same[0, 1] == same[1, 0] == 2              # images 1 and 4 the same wrong class, 2 not
    assert same[0, 0] == 4 and same[0, 2] == 0


def test_a_pair_is_flagged_only_far_above_the_class_and_above_the_floor():
    shares = np.array([0.60, 0.62, 0.65, 0.58, 0.61, 0.63, 0.59, 0.64])
    threshold = integrity.share_threshold(shares)
    assert threshold == pytest.approx(0.615 + 6 * 0.03)   # median + 6 x max(1.4826 x MAD 0.02, floor 0.03)
    assert integrity.share_threshold(np.full(10, 0.3)) == 0.75   # the floor: a class of strangers
    wide = np.array([0.5, 0.6, 0.7, 0.8, 0.9])   # MAD 0.1: the spread is 0.14826
    assert integrity.share_threshold(wide) == pytest.approx(0.7 + 6 * 1.4826 * 0.1)


def listing_of(*ids):
    return {"submissions": [{"id": key, "sha256": "", "created_at": "",
                             "submitters": [{"name": f"name-{key}", "sid": f"sid-{key}", "email": f"{key}@x"}]}
                            for key in ids], "ungraded": [], "notes": []}


def test_identical_files_count_but_the_starters_own_files_do_not():
    given = integrity.starter_digests()
    name = next(iter(given))
    records = {"a": {"files": {name: given[name], "hw2_numpy.py": "1" * 64, "empty.txt": integrity.EMPTY_SHA256}},
               "b": {"files": {name: given[name], "hw2_numpy.py": "1" * 64, "empty.txt": integrity.EMPTY_SHA256}},
               "c": {"files": {name: given[name], "hw2_numpy.py": "2" * 64}}}
    assert integrity.identical_files(records) == [("a", "b", ["hw2_numpy.py"])]


def test_code_similarity_joins_the_flags_by_name_sid_or_id(tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("student_a,student_b,similarity\nname-a,sid-b,0.91\nc,name-a,0.49\nname-c,nobody,0.99\n")
    records = {key: {"files": {}, "predictions": ""} for key in "abc"}
    found = integrity.flags(listing_of("a", "b", "c"), records, None, str(pairs))
    assert [(row["submission_a"], row["submission_b"], row["kind"], row["code_similarity"]) for row in found.rows] \
        == [("a", "b", "code similarity", "0.91")]   # 0.49 is under similarity.py's 0.5; "nobody" is no one


def test_a_copy_that_keeps_every_mistake_is_flagged_and_strangers_are_not():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 10, 2000)

    def student(accuracy, seed):
        return predictions_with(labels, accuracy, seed)
    original = student(0.9, 1)                       # 200 mistakes
    copy = edited(original, 0.2, 2)                  # 400 rows changed: most of the mistakes kept
    strangers = [student(accuracy, 10 + index) for index, accuracy in enumerate((0.7, 0.75, 0.8, 0.85, 0.72))]
    students = {"original": original, "copy": copy, **{f"s{index}": p for index, p in enumerate(strangers)}}
    records = {key: {"files": {}, "predictions": "".join(map(str, p))} for key, p in students.items()}
    found = integrity.flags(listing_of(*students), records, labels)
    assert [(row["submission_a"], row["submission_b"]) for row in found.rows] == [("copy", "original")]
    assert "of the 200 mistakes of the one with fewer" in found.rows[0]["evidence"]
    assert len(found.shares) == 21 and np.median(found.shares) < 0.1


def test_label_lookup_is_flagged_above_its_option_only():
    labels = np.arange(200) % 10
    near = labels.copy()
    near[:6] = (near[:6] + 1) % 10          # 97% right
    records = {"a": {"files": {}, "predictions": "".join(map(str, near))},
               "b": {"files": {}, "predictions": "".join(map(str, labels))}}
    kinds = {row["submission_a"]: row["kind"] for row in integrity.flags(listing_of("a", "b"), records, labels).rows}
    assert kinds == {"a": "label lookup", "b": "label lookup"}
    strict = integrity.flags(listing_of("a", "b"), records, labels, lookup_accuracy=0.98).rows
    assert [row["submission_a"] for row in strict] == ["b"]


def test_the_flags_of_a_small_class_in_full(tmp_path):
    """Every column of every row, written out: a copy that keeps exactly MIN_WRONG (50) mistakes and a
    file, joined with its code similarity; a lookup above 96% (96.5%) and one at exactly 96% (not
    flagged); a group, one member without an sid; strangers."""
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 10, 1000)
    original = labels.copy()
    original[:50] = (original[:50] + 1 + rng.integers(0, 9, 50)) % 10          # exactly 50 mistakes
    lookup, at_the_option = labels.copy(), labels.copy()
    lookup[:35] = (lookup[:35] + 1) % 10                                         # 96.5% right
    at_the_option[:40] = (at_the_option[:40] + 1) % 10                           # 96.0% right
    students = {"s1": original, "s2": original.copy(), "s3": lookup, "s4": at_the_option,
                **{f"s{5 + k}": predictions_with(labels, 0.7, 40 + k) for k in range(4)}}
    records = {key: {"files": {"hw2_numpy.py": f"{index:064x}", "submission.csv": f"{index + 100:064x}"},
                     "predictions": "".join(map(str, p))} for index, (key, p) in enumerate(students.items())}
    records["s2"]["files"] = dict(records["s1"]["files"])
    listing = listing_of(*students)
    listing["submissions"][0]["submitters"] = [{"name": "Ada", "sid": "1", "email": "a@x"},
                                               {"name": "Ben", "sid": "", "email": "b@x"}]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("student_a,student_b,similarity\nAda,name-s2,0.934\n")
    found = integrity.flags(listing, records, labels, str(pairs))
    assert found.accuracies["s3"] == 0.965 and found.accuracies["s4"] == 0.96 and found.accuracies["s1"] == 0.95
    assert found.rows[0] == {"kind": "label lookup", "submission_a": "s3", "students_a": "name-s3 (sid-s3)",
                             "evidence": "private-test accuracy 96.50%, above 96%: no homework model reaches it; "
                                         "the labels are public CIFAR-10 test labels"}
    copy = found.rows[1]
    evidence = copy.pop("evidence").split("; byte-identical ")
    assert copy == {"kind": "shared wrong predictions, identical files", "submission_a": "s1",
                    "students_a": "Ada (1); Ben", "submission_b": "s2", "students_b": "name-s2 (sid-s2)",
                    "code_similarity": "0.93"}
    assert evidence[0].startswith("50 of the 50 mistakes of the one with fewer are the same mistake in the other "
                                  "(100%; the class's pairs: median ") and evidence[0].endswith(", flagged above 75%)")
    assert evidence[1] == "hw2_numpy.py, submission.csv"
    assert len(found.rows) == 2 and found.threshold == 0.75
    # Judged: the 15 pairs of s1, s2 (exactly 50 mistakes) and the strangers; s3 and s4 made too few.
    assert len(found.shares) == 15 and np.median(found.shares) < 0.2


def test_without_labels_no_prediction_is_judged_and_the_rest_is_flagged(tmp_path):
    """No labels: no accuracies, no shares, no lookup, whatever the predictions; identical files and a
    similarity exactly at similarity.py's 0.5, named by submission id, still flag; a record without
    files (a failed grading) is no one's twin."""
    right = "".join(str(i % 10) for i in range(300))
    records = {"a": {"files": {"hw2_numpy.py": "1" * 64}, "predictions": right},
               "b": {"files": {"hw2_numpy.py": "1" * 64}, "predictions": right},
               "c": {"predictions": ""}, "d": {"files": {}, "predictions": right}}
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("student_a,student_b,similarity\nc,d,0.5\n")
    found = integrity.flags(listing_of("a", "b", "c", "d"), records, None, str(pairs))
    assert found.accuracies == {} and len(found.shares) == 0 and np.isnan(found.threshold)
    assert found.rows == [
        {"kind": "identical files", "submission_a": "a", "students_a": "name-a (sid-a)", "submission_b": "b",
         "students_b": "name-b (sid-b)", "evidence": "byte-identical hw2_numpy.py", "code_similarity": ""},
        {"kind": "code similarity", "submission_a": "c", "students_a": "name-c (sid-c)", "submission_b": "d",
         "students_b": "name-d (sid-d)", "evidence": "", "code_similarity": "0.50"}]
    labels = np.array([0, 1, 2])
    thirds = {"a": {"files": {}, "predictions": "012"}, "b": {"files": {}, "predictions": "011"}}
    assert integrity.flags(listing_of("a", "b"), thirds, labels).accuracies == {"a": 1.0, "b": 0.6667}


def test_evidence_reads_an_upload_as_the_grader_does(tmp_path):
    csv_data = csv_bytes(np.arange(PRIVATE_TEST_SIZE) % 10)
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "submission.csv").write_bytes(csv_data)
    (folder / "hw2_numpy.py").write_bytes(b"x = 1\n")
    expected = {"files": {"hw2_numpy.py": hashlib.sha256(b"x = 1\n").hexdigest(),
                          "submission.csv": hashlib.sha256(csv_data).hexdigest()},
                "predictions": "0123456789" * (PRIVATE_TEST_SIZE // 10)}
    assert integrity.evidence(str(folder)) == expected
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as stream:
        stream.writestr("submission.csv", csv_data)
        stream.writestr("hw2_numpy.py", b"x = 1\n")
    assert integrity.evidence(str(archive)) == expected
    (folder / "submission.csv").write_bytes(b"not a csv\n")
    assert integrity.evidence(str(folder))["predictions"] == ""
    (folder / "submission.csv").unlink()
    assert integrity.evidence(str(folder)) == {"files": {"hw2_numpy.py": expected["files"]["hw2_numpy.py"]},
                                               "predictions": ""}


def test_keep_latest_keeps_each_students_newest_and_drops_empty_submissions():
    ada, ben = submissions.Submitter("Ada", "1", "a@x"), submissions.Submitter("Ben", "2", "b@x")
    klass = submissions.Class([submissions.Submission("old", "", [ada, ben], "2020-03-01T00:00:00+00:00"),
                           submissions.Submission("new", "", [ada], "2020-03-02T00:00:00+00:00"),
                           submissions.Submission("newest_ben", "", [ben], "2020-03-03T00:00:00+00:00")], [], [])
    kept = submissions.keep_latest(klass)
    assert [(s.id, [who.name for who in s.submitters]) for s in kept.submissions] == [("new", ["Ada"]),
                                                                                       ("newest_ben", ["Ben"])]
    assert sum("kept the latest" in note for note in kept.notes) == 2
    assert any(note.startswith("old: every submitter has a later submission") for note in kept.notes)


def test_changes_name_each_test_that_moved_and_who_is_only_on_one_side():
    row = lambda sid, relu, total: {"name": f"n{sid}", "sid": sid, "email": "", "6.2": relu, "total": total,  # noqa
                                    "status": "graded"}
    old = [row("1", "2", "12"), row("2", "2", "12"), row("3", "0", "0"), row("5", "2", "2")]
    new = [row("1", "2", "12"), row("2", "0", "10"), row("4", "2", "2"), {**row("5", "2", "2"), "status": "graded "
                                                                          "(reading the upload: x: a link)"}]
    found = {entry["sid"]: entry for entry in regrade.changes(old, new)}
    assert set(found) == {"2", "3", "4", "5"}
    assert found["5"]["changed"] == "status: graded -> graded (reading the upload: x: a link)"
    assert found["2"]["changed"] == "6.2: 2 -> 0" and (found["2"]["total_before"], found["2"]["total_after"]) == \
        ("12", "10")
    assert found["3"]["changed"] == "only in the old gradebook" and found["4"]["changed"] == "only in the new gradebook"


def test_a_student_is_the_same_by_sid_else_email_else_name_whatever_else_changed():
    """Between two gradebooks a student is matched by sid; without one by email; without either by name.
    A renamed student with the same sid, or the same email, is one student whose points moved."""
    def row(name, sid, email, relu):
        return {"name": name, "sid": sid, "email": email, "6.2": relu, "total": relu, "status": "graded"}
    old = [row("Ann", "1", "ann@x", "2"), row("Bo", "", "bo@x", "2"), row("Cy", "", "", "2")]
    new = [row("Ann Lee", "1", "ann.lee@x", "0"), row("Bo Chen", "", "bo@x", "0"), row("Cy", "", "", "0")]
    assert regrade.changes(old, new) == [
        {"name": "Ann Lee", "sid": "1", "changed": "6.2: 2 -> 0", "total_before": "2", "total_after": "0"},
        {"name": "Cy", "sid": "", "changed": "6.2: 2 -> 0", "total_before": "2", "total_after": "0"},
        {"name": "Bo Chen", "sid": "", "changed": "6.2: 2 -> 0", "total_before": "2", "total_after": "0"}]
    assert regrade.changes(old, [row("Cy", "", "cy@x", "2")])[0] == {   # now with an email: another key
        "name": "Ann", "sid": "1", "changed": "only in the old gradebook", "total_before": "2", "total_after": ""}
    assert regrade.changes([], old[:1]) == [
        {"name": "Ann", "sid": "1", "changed": "only in the new gradebook", "total_before": "", "total_after": "2"}]
    # an older gradebook without a column, or a cell left empty (not graded): "-"
    older = [{"name": "Ann", "sid": "1", "total": "2", "status": "graded"}]
    newer = [{**row("Ann", "1", "", ""), "7.3": "10", "total": "12"}]
    assert regrade.changes(older, newer) == [
        {"name": "Ann", "sid": "1", "changed": "7.3: - -> 10", "total_before": "2", "total_after": "12"}]
    assert regrade.changes(newer, older)[0]["changed"] == "7.3: 10 -> -"


def test_compare_reads_only_a_gradebook_and_says_what_is_wrong_with_any_other_file(tmp_path):
    path = tmp_path / "gradebook.csv"
    refusals = {b"": "not a gradebook.csv (needs the columns name, sid, total)",
                b"name,sid,total\n": "not a gradebook.csv (needs the columns name, sid, total)",
                b"name,total\nAnn,3\n": "not a gradebook.csv (needs the columns name, sid, total)",
                b"name,sid,total\n\xff\xfe,1,3\n": "not readable ('utf-8' codec can't decode byte 0xff in "
                                                    "position 15: invalid start byte)"}
    for text, refusal in refusals.items():
        path.write_bytes(text)
        with pytest.raises(submissions.ClassError) as refused:
            regrade.read_gradebook(str(path))
        assert str(refused.value) == f"--compare {path}: {refusal}"
    with pytest.raises(submissions.ClassError, match=r"^--compare .*: not readable \(\[Errno 21\] Is a directory"):
        regrade.read_gradebook(str(tmp_path))
    # the three columns alone, one row, a name with a line break in it (quoted, as csv writes it)
    path.write_text(regrade.csv_text(["name", "sid", "total"], [{"name": "Lee\r\nJr", "sid": "7", "total": "3"}]),
                    newline="")
    assert regrade.read_gradebook(str(path)) == [{"name": "Lee\r\nJr", "sid": "7", "total": "3"}]


def test_shards_split_any_class_into_disjoint_parts_that_cover_it():
    ids = [f"submission_{index}" for index in range(300)]
    parts = [[key for key in ids if regrade.in_shard(key, (k, 4))] for k in range(4)]
    assert sorted(sum(parts, [])) == sorted(ids) and all(40 < len(part) < 110 for part in parts)
    assert parts[2] == [key for key in reversed(ids) if regrade.in_shard(key, (2, 4))][::-1]


def test_the_graders_fingerprint_covers_what_grading_depends_on_and_not_the_class_tools(tmp_path):
    from autograder import package
    assert regrade.CLASS_LEVEL_SOURCES <= set(package.reference_files())   # the exclusions name real files
    assert "autograder/grade.py" not in regrade.CLASS_LEVEL_SOURCES
    labels = tmp_path / "labels.npy"
    np.save(labels, np.zeros(PRIVATE_TEST_SIZE, np.int64))
    base = regrade.Grader(1, str(labels), "", 60).fingerprint
    assert base == regrade.Grader(1, str(labels), "", 5).fingerprint            # the timeout is no part of it
    assert base == regrade.Grader(1, str(labels), "", 60, 1).fingerprint        # nor the threads per box
    assert base != regrade.Grader(2, str(labels), "", 60).fingerprint
    assert base != regrade.Grader(1, str(labels), "7.3", 60).fingerprint
    assert base != regrade.Grader(1, "", "", 60).fingerprint
    np.save(labels, np.ones(PRIVATE_TEST_SIZE, np.int64))
    assert base != regrade.Grader(1, str(labels), "", 60).fingerprint          # the labels' content, not their path


def test_an_errors_first_line_or_its_kind_is_what_a_refusal_quotes():
    assert submissions.first_line(ValueError("  while scanning\n  at line 3\n")) == "while scanning"
    assert submissions.first_line(ValueError(" \n ")) == "ValueError"
    assert submissions.first_line(KeyError()) == "KeyError"


def test_gradings_at_once_divide_the_cores_among_their_boxes():
    assert regrade.threads_per_grading(1) is None and regrade.threads_per_grading(1, cores=8) is None
    assert [regrade.threads_per_grading(jobs, cores=8) for jobs in (2, 3, 4, 8, 9)] == [4, 2, 2, 1, 1]
    assert regrade.threads_per_grading(2, cores=2) == 1
    assert regrade.Grader(1, "", "", 60, 4).command("u.zip", "r.json")[-2:] == ["--threads", "4"]
    assert "--threads" not in regrade.Grader(1, "", "", 60).command("u.zip", "r.json")


def export_zip(path, members):
    """Write a zip of members (name or ZipInfo -> bytes) at path; returns the path as text."""
    path.write_bytes(zip_bytes(members))
    return str(path)


def tree(folder):
    return sorted(os.path.relpath(os.path.join(top, name), folder) + ("/" if name in dirs else "")
                  for top, dirs, files in os.walk(folder) for name in dirs + files)


def test_an_export_zip_is_unpacked_once_and_again_only_when_it_changes(tmp_path, monkeypatch):
    """Unpacked into WORK/export beside a marker of the zip's sha256; the same zip again reuses it, a
    changed zip (or a missing marker) unpacks afresh, and nothing is left beside them or where it runs."""
    here, work = tmp_path / "here", tmp_path / "work"
    here.mkdir(), work.mkdir()
    monkeypatch.chdir(here)
    first = export_zip(tmp_path / "first.zip", {"top/submission_1/hw2_numpy.py": b"x = 1\n",
                                                "top/submission_1/": b"",   # a folder's entry after its file
                                                "top/./submission_2/": b""})
    folder = work / "export"
    assert submissions.unpack_export(first, str(work)) == str(folder)
    assert tree(folder) == ["top/", "top/submission_1/", "top/submission_1/hw2_numpy.py", "top/submission_2/"]
    assert (folder / "top/submission_1/hw2_numpy.py").read_bytes() == b"x = 1\n"
    assert sorted(os.listdir(work)) == ["export", "export.sha256"]
    assert (work / "export.sha256").read_text() == hashlib.sha256(open(first, "rb").read()).hexdigest() + "\n"
    (folder / "seen").write_text("left by the first unpacking")
    assert submissions.unpack_export(first, str(work)) == str(folder) and (folder / "seen").exists()   # reused
    (work / "export.sha256").unlink()
    assert submissions.unpack_export(first, str(work)) == str(folder) and not (folder / "seen").exists()
    (folder / "seen").write_text("left by the second unpacking")
    second = export_zip(tmp_path / "second.zip", {"top/submission_3/hw2_numpy.py": b"x = 3\n"})
    assert submissions.unpack_export(second, str(work)) == str(folder)
    assert tree(folder) == ["top/", "top/submission_3/", "top/submission_3/hw2_numpy.py"]
    assert (work / "export.sha256").read_text() == hashlib.sha256(open(second, "rb").read()).hexdigest() + "\n"
    assert sorted(os.listdir(work)) == ["export", "export.sha256"] and os.listdir(here) == []


def link_member(name):
    info = zipfile.ZipInfo(name)
    info.external_attr = (0o120777) << 16   # a symbolic link, as zip -y stores one
    return info


@pytest.mark.parametrize("members, refusal", [
    ({"/etc/cron.d/x": b"x"}, "member '/etc/cron.d/x' would land outside the export; download the export "
                              "from Gradescope again"),
    ({"top/ok.py": b"", "top/../../x": b"x"}, "member 'top/../../x' would land outside the export; download "
                                              "the export from Gradescope again"),
    ({"top\\x.py": b"x"}, "member 'top\\\\x.py' would land outside the export; download the export from "
                          "Gradescope again"),
    ({link_member("top/link"): b"/etc/passwd"}, "member 'top/link' is a link; an export holds files"),
])
def test_an_export_member_that_would_land_outside_or_link_is_refused_word_for_word(tmp_path, members, refusal):
    work = tmp_path / "work"
    work.mkdir()
    archive = export_zip(tmp_path / "export.zip", members)
    with pytest.raises(submissions.ClassError) as refused:
        submissions.unpack_export(archive, str(work))
    assert str(refused.value) == f"{archive}: {refusal}"
    assert os.listdir(work) == []   # the part unpacked before it is gone too


def test_an_export_that_unpacks_past_the_limit_is_refused_and_one_at_it_is_not(tmp_path, monkeypatch):
    """The limit counts every member's bytes together, in chunks of any size."""
    monkeypatch.setattr(submissions, "EXPORT_MAX_BYTES", 3 * 2 ** 20 + 7)
    work = tmp_path / "work"
    work.mkdir()
    over = export_zip(tmp_path / "over.zip", {"top/a": bytes(2 ** 20 + 5), "top/b": bytes(2 ** 21 + 3)})
    with pytest.raises(submissions.ClassError) as refused:
        submissions.unpack_export(over, str(work))
    assert str(refused.value) == f"{over}: unpacks to more than 0 GiB" and os.listdir(work) == []
    at = export_zip(tmp_path / "at.zip", {"top/a": bytes(2 ** 20 + 5), "top/b": bytes(2 ** 21 + 2)})
    assert submissions.unpack_export(at, str(work)) == str(work / "export")
    assert os.path.getsize(work / "export" / "top" / "b") == 2 ** 21 + 2
    broken = tmp_path / "broken.zip"
    broken.write_bytes(open(at, "rb").read()[:-30])   # the end of its directory cut off
    with pytest.raises(submissions.ClassError, match=r"broken.zip: cannot be unpacked \(.*\); download the export again$"):
        submissions.unpack_export(str(broken), str(work))
    assert not [name for name in os.listdir(work) if name.startswith("export.part")]   # its part removed


def live_processes_of_group(group):
    """pids of the processes of a process group that are not zombies (a killed orphan may be one a while)."""
    return [pid for pid, (_, _, state, _) in sandbox.process_table().items()
            if state != "Z" and group_of(pid) == group]


def group_of(pid):
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def reap_adopted(group):
    """Wait for the processes of a process group that were left to this process (a box made it their
    reaper): other tests count what is left to it."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = [pid for pid, (parent, _, _, _) in sandbox.process_table().items()
                if parent == os.getpid() and group_of(pid) == group]
        if not left:
            return
        for pid in left:
            os.waitpid(pid, 0)


def test_stopping_kills_each_running_graders_group_and_any_grader_started_after():
    """What Ctrl-C does to the graders (regrade.Running): every one added and not yet removed is killed
    with its process group (its boxes); once stopping, a grader added is killed at once."""
    def grader():   # a stand-in grader with a child of its own, in a session of its own as regrade starts them
        return subprocess.Popen(["sh", "-c", "sleep 60 & wait"], start_new_session=True)
    running = regrade.Running()
    first, finished = grader(), grader()
    running.add(first)
    running.add(finished)
    running.remove(finished)
    running.stop_all()
    assert running.stopping and first.wait(timeout=10) == -signal.SIGKILL
    assert live_processes_of_group(first.pid) == []   # its child went with it
    assert finished.poll() is None   # removed: not the regrade's any more
    os.killpg(finished.pid, signal.SIGKILL)
    finished.wait()
    late = grader()
    running.add(late)
    assert late.wait(timeout=10) == -signal.SIGKILL
    for group in (first.pid, finished.pid, late.pid):   # the killed children this process may have adopted
        reap_adopted(group)


def test_the_graders_inputs_come_from_the_autograder_zip_or_the_options_and_each_mistake_is_named(tmp_path, monkeypatch):
    """regrade.grader_inputs on its own: (seed, labels path), the zip's labels copied private to the staff."""
    import argparse

    def inputs(**given):
        options = {"autograder": None, "hidden_seed": None, "labels": None, **given}
        return regrade.grader_inputs(argparse.Namespace(**options), str(out))
    out = tmp_path / "out"
    out.mkdir()
    labels = np.arange(10) % 7
    archive = tmp_path / "autograder.zip"
    buffer = io.BytesIO()
    np.save(buffer, labels)
    with zipfile.ZipFile(archive, "w") as stream:
        stream.writestr("hidden_seed.txt", " 41\n")
        stream.writestr("private_test_y.npy", buffer.getvalue())
    for seed in (None, 41):
        assert inputs(autograder=str(archive), hidden_seed=seed) == (41, str(out / "private_test_y.npy"))
    assert (out / "private_test_y.npy").read_bytes() == buffer.getvalue()
    assert os.stat(out / "private_test_y.npy").st_mode & 0o777 == 0o600
    assert sorted(os.listdir(out)) == ["private_test_y.npy"]
    for other in (42, 0):
        with pytest.raises(submissions.ClassError) as refused:
            inputs(autograder=str(archive), hidden_seed=other)
        assert str(refused.value) == "--hidden-seed differs from the autograder zip's; give one of them"
    broken = {"seedless.zip": {"private_test_y.npy": b""}, "labelless.zip": {"hidden_seed.txt": b"41"},
              "wordy.zip": {"hidden_seed.txt": b"forty-one", "private_test_y.npy": b""}}
    for name, members in broken.items():
        with zipfile.ZipFile(tmp_path / name, "w") as stream:
            for member, data in members.items():
                stream.writestr(member, data)
    (tmp_path / "plain.zip").write_text("not a zip")
    for name in [*broken, "plain.zip", "missing.zip"]:
        with pytest.raises(submissions.ClassError) as refused:
            inputs(autograder=str(tmp_path / name))
        assert str(refused.value).startswith(f"--autograder {tmp_path / name}: not an autograder zip with "
                                             "hidden_seed.txt and private_test_y.npy (")
        assert str(refused.value).endswith("); build it with `make autograder LABELS=...`")
    assert inputs(hidden_seed=5) == (5, "")
    monkeypatch.chdir(tmp_path)   # a relative --labels: the graders, started elsewhere, get its full path
    np.save(tmp_path / "labels.npy", labels)
    assert inputs(hidden_seed=5, labels="labels.npy") == (5, str(tmp_path / "labels.npy"))
    for wrong in (tmp_path / "nowhere.npy", out):   # nothing there, a folder
        with pytest.raises(submissions.ClassError) as refused:
            inputs(hidden_seed=5, labels=str(wrong))
        assert str(refused.value) == f"no such labels file: {wrong}"


def test_merge_refuses_folders_that_are_not_shards_of_one_grading_word_for_word(tmp_path):
    """Hand-written class.json files: none, unreadable, another grader's, another export's."""
    def shard(name, listing=None, text=None):
        folder = tmp_path / name
        folder.mkdir()
        if listing is not None or text is not None:
            (folder / "class.json").write_text(text if text is not None else json.dumps(listing))
        return folder
    listing = {"grader": "g1", "submissions": [{"id": "s1", "sha256": "0" * 64, "created_at": "", "submitters": []}],
               "ungraded": [], "notes": []}
    first = shard("first", listing)
    refusals = {
        shard("empty"): f"{tmp_path / 'empty'}: no readable class.json ([Errno 2] No such file or directory: "
                        f"'{tmp_path / 'empty' / 'class.json'}'); give folders written by regrade",
        shard("broken", text="{"): f"{tmp_path / 'broken'}: no readable class.json (Expecting property name enclosed "
                                   "in double quotes: line 1 column 2 (char 1)); give folders written by regrade",
        shard("regraded", {**listing, "grader": "g2"}): f"{tmp_path / 'regraded'} was graded by another grader than "
                                                         f"{first} (sources, seed, labels or --only differ); regrade "
                                                         "every shard with the same autograder and options",
        shard("other", {**listing, "notes": ["a note"]}): f"{tmp_path / 'other'}/class.json differs from "
                                                           f"{first}/class.json: shards of different exports (or of an "
                                                           "export read differently); regrade them from the same export"}
    for folder, refusal in refusals.items():
        refused = run_regrade("merge", first, folder, "--out", tmp_path / "out")
        assert (refused.returncode, refused.stdout, refused.stderr) == (2, "", f"regrade: error: {refusal}\n")
    assert not (tmp_path / "out").exists()


def test_a_shard_is_k_of_n_with_k_below_n():
    import argparse
    assert regrade.parse_shard("0/1") == (0, 1) and regrade.parse_shard("15/16") == (15, 16)
    for text in ("3/3", "0/0", "1/ 2", "-1/2", "1/2/3", "a/b", "", "02"):
        with pytest.raises(argparse.ArgumentTypeError) as refused:
            regrade.parse_shard(text)
        assert str(refused.value) == f"--shard {text}: expected K/N with 0 <= K < N, e.g. 0/16"


def test_a_folder_of_submissions_is_read_name_by_name_with_each_refusal_said(tmp_path):
    """submissions.read_folder on its own: NAME.zip files and NAME/ folders are submissions (NAME the
    student); a second of one name, an unsafe name and an empty folder are named rows; anything else
    is a note; nothing at all is an error."""
    folder, work = tmp_path / "class", tmp_path / "work"
    folder.mkdir(), work.mkdir()
    for name in ("Cy.ZIP", "ann.zip", "bad name.zip", "zed.zip"):
        (folder / name).write_bytes(b"PK")
    for name in ("ann", "bo"):
        (folder / name).mkdir()
        (folder / name / "hw2_numpy.py").write_text("x = 1\n")
    (folder / "empty").mkdir()
    (folder / "link.zip").symlink_to(folder / "zed.zip")
    (folder / "notes.txt").write_text("grade these")
    (folder / submissions.METADATA).write_text("")   # not a submission
    klass = submissions.read_folder(str(folder), str(work), ["before"])
    who = submissions.Submitter
    assert [(s.id, s.upload, s.submitters) for s in klass.submissions] == [
        (name, str(folder / entry), [who(name, "", "")]) for name, entry in (("Cy", "Cy.ZIP"), ("ann", "ann"),
                                                                            ("bo", "bo"), ("zed", "zed.zip"))]
    assert klass.ungraded == [
        (who("ann", "", ""), "ann", "not graded: ann.zip has the name of another submission here (ann); keep one of them"),
        (who("bad name", "", ""), "bad name", "not graded: the name must be letters, digits and _.@+- (it names the "
                                              "result files); rename the zip"),
        (who("empty", "", ""), "empty", "not graded: the submission folder is empty (nothing uploaded)")]
    assert klass.notes == ["before", "link.zip: neither a zip nor a folder of uploaded files: skipped",
                           "notes.txt: neither a zip nor a folder of uploaded files: skipped"]
    nothing = tmp_path / "nothing"
    (nothing / "empty").mkdir(parents=True)   # only rows nobody can grade: still a class, with its rows
    assert submissions.read_folder(str(nothing), str(work), []).ungraded == [
        (who("empty", "", ""), "empty", "not graded: the submission folder is empty (nothing uploaded)")]
    (nothing / "empty").rmdir()
    (nothing / "notes.txt").write_text("")
    with pytest.raises(submissions.ClassError) as refused:
        submissions.read_folder(str(nothing), str(work), [])
    assert str(refused.value) == f"{nothing} holds no submissions: give Gradescope's export or a folder of NAME.zip"


def test_an_exports_submitters_need_a_name_or_an_sid_each():
    who = submissions.Submitter
    read = submissions.metadata_submitters
    for entry in ("text", {}, {":submitters": "Ann"}, {":submitters": []}):
        assert read(entry) == ([], "without a list of :submitters:")
    assert read({":submitters": [{":name": " Ann ", ":sid": 7, ":email": None}, {":sid": "8"}, {":name": "Cy"}]}) == (
        [who("Ann", "7", ""), who("", "8", ""), who("Cy", "", "")], "")
    for person in ({":email": "x@y"}, {":name": "", ":sid": None}, "Ann"):
        assert read({":submitters": [{":name": "Bo"}, person]}) == (
            [], f"with a submitter that has no :name: or :sid: ({str(person)[:80]})")


def test_gradebook_rows_say_for_each_student_what_was_graded_or_why_not():
    """regrade.gradebook_rows from a hand-written listing and records: a row per submitter, sorted by
    name (any case), sid, submission; cells only for the tests that carry points."""
    def entry(submission_id, *people):
        return {"id": submission_id, "sha256": f"sha-{submission_id}",
                "submitters": [{"name": name, "sid": sid, "email": f"{sid}@x"} for name, sid in people]}
    listing = {"grader": "g1", "submissions": [
        entry("s1", ("bo", "2"), ("Ann", "1")), entry("s2", ("Cy", "3")), entry("s3", ("Di", "4")),
        entry("s4", ("Ed", "5")), entry("s5", ("Fay", "6"))],
        "ungraded": [{"name": "ann", "sid": "0", "email": "", "submission": "s9", "reason": "not graded: empty"}]}
    record = {"grader": "g1", "failure": ""}
    results = {"score": 12.0, "tests": [
        {"number": "6.1", "score": 4.0, "max_score": 5}, {"number": "6.2", "score": 2.0, "max_score": 2},
        {"number": "7.3", "score": 6, "max_score": 10}, {"number": "7.3", "score": 0, "max_score": 0},
        {"number": "5.3", "score": 0, "max_score": 0}],
        "extra_data": {"read_problems": ["x.py: a link", "y/: folders are not read"]}}
    found = {"s1": ({**record, "upload_sha256": "sha-s1"}, results),
             "s2": ({**record, "upload_sha256": "sha-other"}, None),
             "s3": ({**record, "upload_sha256": "sha-s3", "grader": "g0"}, None),
             "s4": (None, None),
             "s5": ({**record, "upload_sha256": "sha-s5", "failure": "it hung"}, None)}
    rows = regrade.gradebook_rows(listing, found)
    graded = {"6.1": "4", "6.2": "2", "7.3": "6", "total": "12",
              "status": "graded (reading the upload: x.py: a link; y/: folders are not read)"}
    waiting = "not graded yet by this grader: run regrade again (or merge every shard)"
    assert rows == [
        {"name": "ann", "sid": "0", "email": "", "submission": "s9", "status": "not graded: empty"},
        {"name": "Ann", "sid": "1", "email": "1@x", "submission": "s1", **graded},
        {"name": "bo", "sid": "2", "email": "2@x", "submission": "s1", **graded},
        {"name": "Cy", "sid": "3", "email": "3@x", "submission": "s2",
         "status": "not graded: the record is of another upload; run regrade again"},
        {"name": "Di", "sid": "4", "email": "4@x", "submission": "s3", "status": waiting},
        {"name": "Ed", "sid": "5", "email": "5@x", "submission": "s4", "status": waiting},
        {"name": "Fay", "sid": "6", "email": "6@x", "submission": "s5", "status": "grader failed: it hung"}]
    del results["extra_data"]
    assert regrade.gradebook_rows({**listing, "submissions": listing["submissions"][:1], "ungraded": []},
                                  found)[0]["status"] == "graded"


STAND_IN_GRADER = """
import json, os, sys, time
upload, results = sys.argv[1:]
mode = os.path.basename(upload).split(".")[0]
print("grading", mode, flush=True)
print("and its traceback", file=sys.stderr, flush=True)
if mode == "ok":
    json.dump({"score": 2, "output": "", "tests": [{"number": "6.2", "score": 2, "max_score": 2}]}, open(results, "w"))
elif mode == "failed":
    json.dump({"score": 0, "output": "the grader broke", "tests": []}, open(results, "w"))
elif mode == "hangs":
    time.sleep(60)
elif mode == "paced":   # how many gradings run at once: each marks itself running for a while
    running = os.path.join(os.path.dirname(upload), "running")
    os.makedirs(running, exist_ok=True)
    mine = os.path.join(running, os.path.basename(results))
    open(mine, "w").close()
    time.sleep(1.0)
    print("at once:", len(os.listdir(running)))
    os.remove(mine)
sys.exit(3)
"""


@dataclasses.dataclass(frozen=True)
class StandInGrader(regrade.Grader):
    def command(self, upload, results):
        return [sys.executable, "-c", STAND_IN_GRADER, upload, results]


def test_one_grading_leaves_its_results_record_and_log_or_names_why_not(tmp_path):
    """grade_submission with a stand-in grader: results moved in place, a record of what was graded, what
    it printed; a grader that wrote no results, one that failed, one past its time: each a failure with
    its reason, and no results file; a partial file of an earlier try removed first."""
    out = tmp_path / "out"
    grader = StandInGrader(hidden_seed=1, labels="", only="", timeout=2)
    records = {}
    for mode in ("ok", "failed", "silent", "hangs"):
        upload = tmp_path / f"{mode}.zip"
        upload.write_bytes(zip_bytes({"hw2_numpy.py": b"x = 1\n"}))
        submission = submissions.Submission(f"sub_{mode}", str(upload), [])
        submission.sha256 = f"sha-{mode}"
        os.makedirs(out / "results", exist_ok=True)
        (out / "results" / f"sub_{mode}.json.grading").write_text("left by an earlier, stopped try")
        records[mode] = regrade.grade_submission(submission, grader, "fp", str(out), regrade.Running())
        assert json.loads((out / "graded" / f"sub_{mode}.json").read_text()) == records[mode]
        assert (out / "logs" / f"sub_{mode}.txt").read_text() == f"grading {mode}\nand its traceback\n"
    assert sorted(os.listdir(out / "results")) == ["sub_failed.json", "sub_ok.json"]
    assert json.loads((out / "results" / "sub_ok.json").read_text())["tests"][0]["score"] == 2
    assert {mode: record["failure"] for mode, record in records.items()} == {
        "ok": "",
        "failed": "the grader failed on this submission: the grader broke (see logs/sub_failed.txt)",
        "silent": "the grader exited with 3 and wrote no results (see logs/sub_silent.txt)",
        "hangs": "the grader did not finish in 2 s and was stopped (see logs/sub_hangs.txt)"}
    ok = records["ok"]
    assert (ok["submission"], ok["upload_sha256"], ok["grader"]) == ("sub_ok", "sha-ok", "fp")
    assert 0 <= ok["seconds"] < 2 <= records["hangs"]["seconds"] < 10
    assert ok["peak_memory_bytes"] > 2 ** 20
    assert {key: ok[key] for key in integrity.evidence(str(tmp_path / "ok.zip"))} == \
        integrity.evidence(str(tmp_path / "ok.zip"))
    # stopped meanwhile (Ctrl-C): nothing of the grading is left, not even its record
    stopping = regrade.Running()
    stopping.stop_all()
    submission = submissions.Submission("sub_stopped", str(tmp_path / "ok.zip"), [])
    submission.sha256 = "sha-stopped"
    assert regrade.grade_submission(submission, grader, "fp", str(out), stopping) is None
    assert not (out / "graded" / "sub_stopped.json").exists()
    assert not [name for name in os.listdir(out / "results") if name.startswith("sub_stopped")]


def test_a_class_grades_only_what_has_no_current_record_in_its_shard(tmp_path, capsys):
    """grade_class with the stand-in grader: every submission once; again, none; a changed upload, only
    that one; a shard, only its own."""
    out = tmp_path / "out"
    grader = StandInGrader(hidden_seed=1, labels="", only="", timeout=30)
    upload = tmp_path / "ok.zip"
    upload.write_bytes(zip_bytes({"hw2_numpy.py": b"x = 1\n"}))
    klass = submissions.Class([submissions.Submission(f"s{k}", str(upload), []) for k in range(5)], [], [])
    for submission in klass.submissions:
        submission.sha256 = "sha"

    def graded_now():
        logs = out / "logs"
        found = sorted(name[:-len(".txt")] for name in os.listdir(logs)) if logs.exists() else []
        shutil.rmtree(logs, ignore_errors=True)
        return found
    regrade.grade_class(klass, grader, str(out), jobs=2)
    assert graded_now() == ["s0", "s1", "s2", "s3", "s4"]
    assert capsys.readouterr().out.splitlines()[0] == \
        "regrade: 5 submissions in shard 0/1, 0 already graded by this grader, 5 to grade, 2 at once"
    regrade.grade_class(klass, grader, str(out))
    assert graded_now() == []
    assert capsys.readouterr().out.splitlines()[0] == \
        "regrade: 5 submissions in shard 0/1, 5 already graded by this grader, 0 to grade, 1 at once"
    klass.submissions[3].sha256 = "another upload"
    regrade.grade_class(klass, grader, str(out))
    assert graded_now() == ["s3"]
    shutil.rmtree(out)
    regrade.grade_class(klass, grader, str(out), shard=(1, 2))
    mine = [s.id for s in klass.submissions if regrade.in_shard(s.id, (1, 2))]
    assert graded_now() == mine and 0 < len(mine) < 5


def test_jobs_gradings_run_at_once_and_never_more(tmp_path):
    """--jobs N: N gradings at once (each marks itself running for a second and counts the others), never more."""
    upload = tmp_path / "paced.zip"
    upload.write_bytes(zip_bytes({"hw2_numpy.py": b"x = 1\n"}))
    for jobs, count in ((1, 2), (2, 3)):
        out = tmp_path / f"out{jobs}"
        klass = submissions.Class([submissions.Submission(f"s{k}", str(upload), []) for k in range(count)], [], [])
        for submission in klass.submissions:
            submission.sha256 = "sha"
        regrade.grade_class(klass, StandInGrader(hidden_seed=1, labels="", only="", timeout=60), str(out), jobs=jobs)
        seen = [int((out / "logs" / name).read_text().split("at once: ")[1]) for name in os.listdir(out / "logs")]
        assert len(seen) == count and max(seen) == jobs, (jobs, seen)
