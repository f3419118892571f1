"""Grade a whole class as Gradescope grades each submission: gradebook, report, integrity flags.

    python autograder/regrade.py EXPORT --out DIR [--jobs N] [--shard K/N] [--autograder ZIP | --labels L
                                 --hidden-seed S] [--only PARTS] [--compare OLD.csv] [--similarity pairs.csv]
    python autograder/regrade.py merge DIR... --out DIR [--autograder ZIP | --labels L] [--compare ...]

EXPORT is Gradescope's "Download Submissions" export (its zip, or unpacked: submission_metadata.yml
beside one folder per submission) or a plain folder of NAME.zip, one per student (read by
autograder/submissions.py). Each submission is graded by autograder/grade.py in a process of its
own (its own temporary root and sandbox identity), with the same hidden seed and labels for the
whole class. What one grading leaves is files (README, "4. A whole class"):

    DIR/class.json          the class as read: submissions, submitters, rows that cannot be graded, notes
    DIR/results/ID.json     Gradescope's results.json of submission ID
    DIR/graded/ID.json      what was graded: the upload's sha256, the grader's fingerprint, seconds, peak
                            memory, the files' sha256 and the predictions (for the flags); written last
    DIR/logs/ID.txt         what the grader printed (for the staff)
    DIR/gradebook.csv, DIR/flags.csv, DIR/report.html, DIR/changes.csv (with --compare)

A second run grades only what has no record for the same upload and grader fingerprint, so an
interrupted regrade continues where it stopped. --shard K/N grades the submissions whose id hashes
to K (stable under any reordering); `merge` joins shards' folders into one gradebook.
"""
import argparse
import concurrent.futures
import csv
import dataclasses
import functools
import hashlib
import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PROJECT not in sys.path:
    sys.path.insert(0, PROJECT)

from tqdm import tqdm  # noqa: E402

from autograder import class_report, integrity, intake, package, sandbox, scoring  # noqa: E402
from autograder.submissions import ClassError, file_sha256, read_class, upload_sha256  # noqa: E402
from hw2_data import atomic_write, atomic_write_text  # noqa: E402

GRADER = os.path.join(PROJECT, "autograder", "grade.py")
CLASS_LEVEL_SOURCES = {"autograder/regrade.py", "autograder/integrity.py", "autograder/class_report.py"}
# A grading that takes longer is stopped and reported as the grader's failure: the grader's own box
# limits add up to well under this (BUDGETS in grade.py), so only a grader that hangs reaches it.
DEFAULT_TIMEOUT_SECONDS = 3600
TEST_COLUMNS = [exercise.number for exercise in scoring.EXERCISES] + ["7.3"]   # handout order
GRADEBOOK_COLUMNS = ["name", "sid", "email", "submission"] + TEST_COLUMNS + ["total", "status"]


# --------------------------------------------------------------------------- one grading

@dataclasses.dataclass(frozen=True)
class Grader:
    """How every submission of the class is graded, and its fingerprint (sources, seed, labels, parts)."""
    hidden_seed: int
    labels: str       # path or ""
    only: str         # grade.py's --only, or ""
    timeout: int
    threads: int = None   # grade.py's --threads: how this machine's cores are shared, no part of the points

    @functools.cached_property
    def fingerprint(self):
        """What a grading depends on: the sources the autograder zip carries but the class-level tools'
        (a changed report does not regrade the class), the seed, the parts, the labels' content."""
        digest = hashlib.sha256()
        for name in package.reference_files():
            if name not in CLASS_LEVEL_SOURCES:
                digest.update(name.encode() + b"\0" + file_sha256(os.path.join(PROJECT, name)).encode())
        digest.update(f"seed={self.hidden_seed} only={self.only}".encode())
        digest.update(file_sha256(self.labels).encode() if self.labels else b"no labels")
        return digest.hexdigest()

    def command(self, upload, results):
        return ([sys.executable, GRADER, upload, "--hidden-seed", str(self.hidden_seed), "--results", results]
                + (["--labels", self.labels] if self.labels else []) + (["--only", self.only] if self.only else [])
                + (["--threads", str(self.threads)] if self.threads else []))


class Running:
    """The graders running now, so that Ctrl-C stops them (each runs in a session of its own); once
    stopping, no grading starts and none that was stopped leaves a record."""
    def __init__(self):
        self.lock, self.processes, self.stopping = threading.Lock(), set(), False

    def add(self, process):
        with self.lock:
            if self.stopping:
                with_process_group(process.pid, signal.SIGKILL)
            self.processes.add(process)

    def remove(self, process):
        with self.lock:
            self.processes.discard(process)

    def stop_all(self):
        with self.lock:
            self.stopping = True
            for process in self.processes:
                with_process_group(process.pid, signal.SIGKILL)


def with_process_group(pid, signal_number):
    try:
        os.killpg(pid, signal_number)
    except (ProcessLookupError, PermissionError):
        pass


def grade_submission(submission, grader, fingerprint, out, running):
    """Grade one submission with grade.py in a child process; write its results and record. Returns the
    record, or None when the regrade was stopped meanwhile (then nothing of this grading is left)."""
    for folder in ("results", "graded", "logs"):
        os.makedirs(os.path.join(out, folder), exist_ok=True)
    partial = os.path.join(out, "results", f"{submission.id}.json.grading")
    if os.path.exists(partial):
        os.remove(partial)
    start = time.monotonic()
    with open(os.path.join(out, "logs", f"{submission.id}.txt"), "wb") as log:
        process = subprocess.Popen(grader.command(submission.upload, partial), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        running.add(process)
        try:
            timed_out, usage = sandbox.wait_with_usage(process, start + grader.timeout)
            if timed_out:
                with_process_group(process.pid, signal.SIGKILL)
                _, usage = sandbox.wait_with_usage(process, math.inf)
        finally:
            running.remove(process)
    seconds = round(time.monotonic() - start, 1)
    if running.stopping:
        if os.path.exists(partial):
            os.remove(partial)
        return None
    failure = ""
    if timed_out:
        failure = f"the grader did not finish in {grader.timeout} s and was stopped (see logs/{submission.id}.txt)"
    elif not os.path.isfile(partial):
        failure = f"the grader exited with {process.returncode} and wrote no results " \
                  f"(see logs/{submission.id}.txt)"
    else:
        with open(partial) as stream:
            results = json.load(stream)
        if not results.get("tests"):
            failure = f"the grader failed on this submission: {results.get('output', '')} " \
                      f"(see logs/{submission.id}.txt)"
        os.replace(partial, os.path.join(out, "results", f"{submission.id}.json"))
    record = {"submission": submission.id, "upload_sha256": submission.sha256, "grader": fingerprint,
              "seconds": seconds, "peak_memory_bytes": usage.ru_maxrss * 1024, "failure": failure,
              **integrity.evidence(submission.upload)}
    atomic_write_text(os.path.join(out, "graded", f"{submission.id}.json"), json.dumps(record) + "\n")
    return record


def read_record(out, submission_id):
    try:
        with open(os.path.join(out, "graded", f"{submission_id}.json")) as stream:
            return json.load(stream)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def is_current(record, upload_sha256, grader):
    """Whether a record is this grader's grading of this very upload (anything else is graded again)."""
    return record is not None and record["upload_sha256"] == upload_sha256 and record["grader"] == grader


def in_shard(submission_id, shard):
    """Whether a submission belongs to shard (K, N): by its id's hash, whatever the order of the input."""
    index, count = shard
    return int.from_bytes(hashlib.sha256(submission_id.encode()).digest()[:8], "big") % count == index


def grade_class(klass, grader, out, jobs=1, shard=(0, 1)):
    """Grade every submission of this shard that has no up-to-date record; returns the seconds spent."""
    fingerprint = grader.fingerprint
    mine = [submission for submission in klass.submissions if in_shard(submission.id, shard)]
    todo = []
    for submission in mine:
        record = read_record(out, submission.id)
        if not is_current(record, submission.sha256, fingerprint):
            todo.append(submission)
    print(f"regrade: {len(mine)} submissions in shard {shard[0]}/{shard[1]}, {len(mine) - len(todo)} already "
          f"graded by this grader, {len(todo)} to grade, {jobs} at once")
    running = Running()
    start = time.monotonic()
    pool, futures = concurrent.futures.ThreadPoolExecutor(max_workers=jobs), []
    try:
        futures = [pool.submit(grade_submission, submission, grader, fingerprint, out, running) for submission in todo]
        with tqdm(total=len(mine), initial=len(mine) - len(todo), unit="submission", desc="regrade") as bar:
            for future in concurrent.futures.as_completed(futures):
                record = future.result()
                bar.update()
                if record and record["failure"]:
                    bar.write(f"{record['submission']}: {record['failure']}")
    except BaseException:   # Ctrl-C, SIGTERM or a crash here: stop the graders; what finished keeps its record
        running.stop_all()
        for future in futures:
            future.cancel()
        raise
    finally:
        pool.shutdown(wait=True)
    return time.monotonic() - start


# --------------------------------------------------------------------------- the class's files

def class_listing(klass, fingerprint):
    """class.json's content: the grader's fingerprint and everything about the class but where its
    uploads lie (shards on other machines read the same export from other paths and must agree)."""
    return {"grader": fingerprint, "submissions": [{"id": s.id, "sha256": s.sha256, "created_at": s.created_at,
                             "submitters": [dataclasses.asdict(who) for who in s.submitters]}
                            for s in sorted(klass.submissions, key=lambda s: s.id)],
            "ungraded": [{**dataclasses.asdict(who), "submission": submission_id, "reason": reason}
                         for who, submission_id, reason in klass.ungraded],
            "notes": klass.notes}


def gradebook_rows(listing, found):
    """Rows of the gradebook (dicts of GRADEBOOK_COLUMNS), one per submitter, sorted by name, sid, submission.
    found: submission id -> (record, results) as read_graded gives them."""
    rows = []
    for entry in listing["submissions"]:
        cells, status = {}, ""
        record, results = found[entry["id"]]
        if record is None or record["grader"] != listing["grader"]:
            status = "not graded yet by this grader: run regrade again (or merge every shard)"
        elif record["upload_sha256"] != entry["sha256"]:
            status = "not graded: the record is of another upload; run regrade again"
        elif record["failure"]:
            status = f"grader failed: {record['failure']}"
        else:
            for test in results["tests"]:
                if test["number"] in TEST_COLUMNS and test["max_score"] > 0:
                    cells[test["number"]] = f"{test['score']:g}"
            cells["total"] = f"{results['score']:g}"
            problems = results.get("extra_data", {}).get("read_problems", [])
            status = "graded" + (f" (reading the upload: {'; '.join(problems)})" if problems else "")
        for who in entry["submitters"]:
            rows.append({**who, "submission": entry["id"], **cells, "status": status})
    for entry in listing["ungraded"]:
        rows.append({**{key: entry[key] for key in ("name", "sid", "email", "submission")}, "status": entry["reason"]})
    return sorted(rows, key=lambda row: (row["name"].lower(), row["sid"], row["submission"]))


def read_graded(out, submission_id):
    """(record, results) of a submission graded in out (results None for a failed grading), or (None, None)."""
    record = read_record(out, submission_id)
    if record is None or record["failure"]:
        return record, None
    with open(os.path.join(out, "results", f"{submission_id}.json")) as stream:
        return record, json.load(stream)


def csv_text(columns, rows):
    """CSV text of rows (dicts) under columns; missing cells empty."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def read_gradebook(path):
    """Rows of a gradebook.csv written by regrade (any version that has the name and total columns)."""
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            rows = list(csv.DictReader(stream))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ClassError(f"--compare {path}: not readable ({error})") from None
    if not rows or not {"name", "sid", "total"} <= set(rows[0]):
        raise ClassError(f"--compare {path}: not a gradebook.csv (needs the columns name, sid, total)")
    return rows


def changes(old_rows, new_rows):
    """Every student whose points differ between two gradebooks: dicts with the tests that changed
    ("6.2: 2 -> 0; ...") and the totals before and after; keyed by sid, else email, else name."""
    def key(row):
        return row.get("sid") or row.get("email") or row["name"]
    old, new = {key(row): row for row in old_rows}, {key(row): row for row in new_rows}
    found = []
    for student in sorted(set(old) | set(new)):
        before, after = old.get(student), new.get(student)
        if before is None or after is None:
            row = before or after
            found.append({"name": row["name"], "sid": row.get("sid", ""), "changed": "only in the "
                          + ("new" if before is None else "old") + " gradebook",
                          "total_before": (before or {}).get("total", ""),
                          "total_after": (after or {}).get("total", "")})
            continue
        moved = [f"{column}: {before.get(column, '') or '-'} -> {after.get(column, '') or '-'}"
                 for column in TEST_COLUMNS + ["status"] if before.get(column, "") != after.get(column, "")]
        if moved:
            found.append({"name": after["name"], "sid": after.get("sid", ""), "changed": "; ".join(moved),
                          "total_before": before.get("total", ""), "total_after": after.get("total", "")})
    return found


def write_outputs(out, listing, labels, compare=None, similarity=None, lookup_accuracy=integrity.LOOKUP_ACCURACY):
    """gradebook.csv, flags.csv, changes.csv and report.html of the class graded in out."""
    old_rows = read_gradebook(compare) if compare else None   # before writing: it may be this very file
    found = {entry["id"]: read_graded(out, entry["id"]) for entry in listing["submissions"]}
    rows = gradebook_rows(listing, found)
    atomic_write_text(os.path.join(out, "gradebook.csv"), csv_text(GRADEBOOK_COLUMNS, rows))
    # The flags and the report count what the gradebook counts: this grader's records of these uploads.
    graded = {entry["id"]: found[entry["id"]] for entry in listing["submissions"]
              if is_current(found[entry["id"]][0], entry["sha256"], listing["grader"])}
    flags = integrity.flags(listing, {key: record for key, (record, _) in graded.items()},
                            intake.load_labels(labels) if labels else None, similarity, lookup_accuracy)
    atomic_write_text(os.path.join(out, "flags.csv"), csv_text(integrity.FLAG_COLUMNS, flags.rows))
    moved = None
    if compare:
        moved = changes(old_rows, rows)
        atomic_write_text(os.path.join(out, "changes.csv"),
                          csv_text(["name", "sid", "changed", "total_before", "total_after"], moved))
    class_report.write(os.path.join(out, "report.html"), rows, graded, flags, listing["notes"], moved)
    failed = [row for row in rows if not row["status"].startswith("graded")]
    print(f"regrade: {out}/gradebook.csv: {len(rows)} rows, {len(failed)} not graded or failed; "
          f"{len(flags.rows)} integrity flags (flags.csv); report.html"
          + (f"; {len(moved)} students change (changes.csv)" if moved is not None else ""))
    for row in failed:
        print(f"  {row['name']} ({row['submission']}): {row['status']}")
    return rows


# --------------------------------------------------------------------------- the commands

def grader_inputs(args, out):
    """(hidden seed, labels path or "") from --autograder ZIP (its hidden_seed.txt and
    private_test_y.npy, the labels copied into out/ private to the staff) or --hidden-seed/--labels."""
    if args.autograder:
        try:
            with zipfile.ZipFile(args.autograder) as archive:
                seed = int(archive.read("hidden_seed.txt").decode().strip())
                labels = archive.read("private_test_y.npy")
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
            raise ClassError(f"--autograder {args.autograder}: not an autograder zip with hidden_seed.txt and "
                             f"private_test_y.npy ({error}); build it with `make autograder LABELS=...`") from None
        path = os.path.join(out, "private_test_y.npy")

        def write_private(tmp_path):   # the labels stay the staff's
            with os.fdopen(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as stream:
                stream.write(labels)
        atomic_write(path, write_private)
        if args.hidden_seed is not None and args.hidden_seed != seed:
            raise ClassError("--hidden-seed differs from the autograder zip's; give one of them")
        return seed, path
    if args.labels and not os.path.isfile(args.labels):
        raise ClassError(f"no such labels file: {args.labels}")
    return args.hidden_seed, os.path.abspath(args.labels) if args.labels else ""


def parse_shard(text):
    match = re.fullmatch(r"(\d+)/(\d+)", text or "")
    if not match or not int(match[1]) < int(match[2]):
        raise argparse.ArgumentTypeError(f"--shard {text}: expected K/N with 0 <= K < N, e.g. 0/16")
    return int(match[1]), int(match[2])


def threads_per_grading(jobs, cores=None):
    """Each of `jobs` gradings at once gets an equal share of this machine's cores for its boxes' threads
    (at least one); a grading alone keeps TensorFlow's default (None: every core)."""
    if jobs == 1:
        return None
    cores = cores or len(os.sched_getaffinity(0))
    return max(1, cores // jobs)


def regrade(args):
    os.makedirs(args.out, exist_ok=True)
    seed, labels = grader_inputs(args, args.out)
    if seed is None:
        raise ClassError("no hidden seed: give --autograder autograder/autograder.zip (the one Gradescope runs; "
                         "`make autograder LABELS=...`) or --hidden-seed S, so every submission sees the same cases")
    if args.only:
        selected = {part.strip() for part in args.only.split(",")}
        if not selected <= scoring.ALL_PARTS:
            raise ClassError(f"--only: no such part {', '.join(sorted(selected - scoring.ALL_PARTS))}; "
                             f"the parts are {', '.join(sorted(scoring.ALL_PARTS))}")
    if labels:
        try:
            intake.load_labels(labels)   # once, before the class: every grading would fail alike
        except intake.GraderError as error:
            raise ClassError(str(error)) from None
    else:
        print("regrade: no labels (--autograder or --labels): 7.3 scores 0 and the prediction flags are left out")
    klass = read_class(args.export, args.out)
    for submission in klass.submissions:
        submission.sha256 = upload_sha256(submission.upload)
    grader = Grader(seed, labels, args.only or "", args.timeout, threads_per_grading(args.jobs))
    listing = class_listing(klass, grader.fingerprint)
    atomic_write_text(os.path.join(args.out, "class.json"), json.dumps(listing, indent=1) + "\n")
    seconds = grade_class(klass, grader, args.out, args.jobs, args.shard)
    print(f"regrade: graded in {seconds:.0f} s")
    write_outputs(args.out, listing, labels, args.compare, args.similarity, args.lookup_accuracy)
    return 0


def merge(args):
    """Join shards' folders into args.out: their class.json must agree; records and results are copied."""
    listings = []
    for folder in args.folders:
        try:
            with open(os.path.join(folder, "class.json")) as stream:
                listings.append(json.load(stream))
        except (OSError, json.JSONDecodeError) as error:
            raise ClassError(f"{folder}: no readable class.json ({error}); give folders written by regrade") from None
    for folder, listing in zip(args.folders[1:], listings[1:]):
        if listing.get("grader") != listings[0].get("grader"):
            raise ClassError(f"{folder} was graded by another grader than {args.folders[0]} (sources, seed, labels "
                             "or --only differ); regrade every shard with the same autograder and options")
        if listing != listings[0]:
            raise ClassError(f"{folder}/class.json differs from {args.folders[0]}/class.json: shards of different "
                             "exports (or of an export read differently); regrade them from the same export")
    os.makedirs(args.out, exist_ok=True)
    for entry in listings[0]["submissions"]:
        for folder in args.folders:
            record = read_record(folder, entry["id"])
            if not is_current(record, entry["sha256"], listings[0]["grader"]):
                continue
            for kind, suffix in (("results", ".json"), ("logs", ".txt"), ("graded", ".json")):   # the record last
                source = os.path.join(folder, kind, entry["id"] + suffix)
                if os.path.isfile(source) and os.path.abspath(folder) != os.path.abspath(args.out):
                    atomic_write(os.path.join(args.out, kind, entry["id"] + suffix),
                                 functools.partial(shutil.copyfile, source))
            break
    atomic_write_text(os.path.join(args.out, "class.json"), json.dumps(listings[0], indent=1) + "\n")
    _, labels = grader_inputs(args, args.out)
    write_outputs(args.out, listings[0], labels, args.compare, args.similarity, args.lookup_accuracy)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    merging = bool(argv) and argv[0] == "merge"
    parser = argparse.ArgumentParser(prog="regrade.py" + (" merge" if merging else ""),
                                     description=__doc__.splitlines()[0])
    if merging:
        parser.add_argument("folders", nargs="+", help="the shards' --out folders")
    else:
        parser.add_argument("export", help="Gradescope's export (zip or folder) or a folder of NAME.zip")
        parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once on this machine "
                            "(each grading needs 2-3 GB and about one core; the cores are divided among them)")
        parser.add_argument("--shard", type=parse_shard, default=(0, 1), help="grade only the K-th of N parts "
                            "(0 <= K < N; stable under reordering); `merge` joins the parts")
        parser.add_argument("--hidden-seed", type=int, help="the hidden cases' seed (or --autograder)")
        parser.add_argument("--only", help="grade only these parts, e.g. 7.3 after new labels (grade.py's --only)")
        parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_SECONDS,
                            help="seconds one grading may take before it is stopped and reported as the grader's "
                                 f"failure (default {DEFAULT_TIMEOUT_SECONDS})")
    parser.add_argument("--out", required=True, help="folder for results, records, gradebook.csv, report.html")
    parser.add_argument("--autograder", help="autograder.zip: its hidden seed and private labels (as on Gradescope)")
    parser.add_argument("--labels", help="private_test_y.npy, without --autograder")
    parser.add_argument("--compare", help="an older gradebook.csv: whose points change (changes.csv, the report)")
    parser.add_argument("--similarity", help="`make similarity`'s pairs.csv, shown beside the flags")
    parser.add_argument("--lookup-accuracy", type=float, default=integrity.LOOKUP_ACCURACY,
                        help="flag a private-test accuracy above this as looked-up labels "
                             f"(default {integrity.LOOKUP_ACCURACY})")
    args = parser.parse_args(argv[1:] if merging else argv)
    if not merging and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if merging:
        args.hidden_seed = None
    # Ctrl-C, and a cancelled SLURM job's SIGTERM, stop the regrade; SIGINT too when it was started in the
    # background (a shell starts those with SIGINT ignored, and Python would keep ignoring it).
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.default_int_handler)
    try:
        return merge(args) if merging else regrade(args)
    except ClassError as error:
        print(f"regrade: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("regrade: stopped; what finished is kept, run the same command again to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
