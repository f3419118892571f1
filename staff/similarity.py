"""The similarity check over a semester's submissions (`make similarity SUBMISSIONS=folder`).

    python staff/similarity.py FOLDER [--out similarity] [--threshold 0.5]

FOLDER holds one zip per student, named by student (`jdoe.zip` -> jdoe). Each
zip is read with the submission checker's bounds (hw2_submission.read_zip:
nothing is extracted or run). Compared per student: the three exercise files,
each against the same file of every other student, and the own-model scripts
(hw2_cifar_my_model.py and any other .py that is not one of the starter's
support modules) as one document, so a model split over other file names is
still compared as a whole. copydetect (MOSS-style winnowing over tokens, names
and comments filtered out) finds the shared fragments; everything the starter
holds is boilerplate and never counts.

A pair's similarity is the larger of two shares: the share of student A's
compared code (in fingerprinted tokens, given code excluded, at least
MIN_SHARED_BASIS) found in B's, and of B's in A's; a short submission copied
whole from a long one is then as visible as the long one. Writes OUT/pairs.csv
(student_a,student_b,similarity: every pair, most similar first) and
OUT/report.html (copydetect's report of the file pairs above the threshold, the
copied code highlighted), and prints the pairs above the threshold and every zip
it skipped, with the reason.
"""
import argparse
import csv
import io
import itertools
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import hw2_submission  # noqa: E402
from hw2_data import atomic_write, atomic_write_text  # noqa: E402
from staff import starter  # noqa: E402

# The pair similarity above which a pair is printed and shown in the report. README ("Similarity
# check") gives the values measured on copies and on independent solutions that set it.
THRESHOLD = 0.5
# A share is taken of at least this much code (copydetect's tokens: characters of the filtered code,
# about 45 lines of Python): two students who wrote almost nothing beyond the given code would
# otherwise be 100% alike for the few fragments where given pieces meet.
MIN_SHARED_BASIS = 500
OWN_MODEL_DOCUMENT = "own_model.py"   # the own-model scripts of one student, concatenated
COMPARED = hw2_submission.EXERCISE_FILES + (OWN_MODEL_DOCUMENT,)


def starter_python():
    """name -> text of every Python file of the starter: the code everyone was given."""
    return {name: text for name, (text, _) in starter.starter_files().items() if name.endswith(".py")}


def support_modules(given):
    """The starter's Python files other than the ones students complete: never compared."""
    return set(given) - set(hw2_submission.EXERCISE_FILES) - {hw2_submission.OWN_MODEL}


def documents(files, support):
    """name in COMPARED -> text of one submission's files (name -> bytes); own-model scripts joined."""
    def text(data):
        return data.decode("utf-8", "replace")
    found = {name: text(files[name]) for name in hw2_submission.EXERCISE_FILES if name in files}
    own = sorted(name for name in files
                 if name.endswith(".py") and name not in found and name not in support)
    if own:
        found[OWN_MODEL_DOCUMENT] = "\n".join(text(files[name]) for name in own)
    return found


def read_submissions(folder, support):
    """(student -> documents, skipped, notes) of the zips in folder, in name order.

    skipped: (file name, reason) of each file not compared at all; notes: (file
    name, problem) of each member refused in a zip whose other files are compared.
    """
    students, skipped, notes = {}, [], []
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if not entry.endswith(".zip") or not os.path.isfile(path):
            skipped.append((entry, "not a .zip file"))
            continue
        files, _, problems = hw2_submission.read_zip(path)
        found = documents(files, support)
        if not found:
            reason = ("; ".join(problem.removeprefix(f"{entry}: ") for problem in problems) if problems else
                      f"holds none of {', '.join(hw2_submission.EXERCISE_FILES)} or a model script")
            skipped.append((entry, reason))
            continue
        students[entry[:-len(".zip")]] = found
        notes += [(entry, problem) for problem in problems]
    return students, skipped, notes


def write_tree(top, documents_by_owner):
    """Write owner/name files under top for copydetect, which reads folders."""
    for owner, found in documents_by_owner.items():
        os.makedirs(os.path.join(top, owner), exist_ok=True)
        for name, text in found.items():
            with open(os.path.join(top, owner, name), "w", encoding="utf-8") as stream:
                stream.write(text)


def compare(students, boilerplate, threshold, work):
    """(pairs, report html): pairs [(a, b, similarity)] for every pair of students, most similar first.

    boilerplate: name -> text of the code everyone was given (any names: its fragments are
    discounted wherever they appear); work: an empty scratch folder.
    """
    import copydetect
    submitted, given = os.path.join(work, "submitted"), os.path.join(work, "starter")
    write_tree(submitted, students)
    write_tree(given, {"starter": boilerplate})
    detector = copydetect.CopyDetector(test_dirs=[submitted], ref_dirs=[submitted], boilerplate_dirs=[given],
                                       extensions=["py"], same_name_only=True, ignore_leaf=True,
                                       display_t=threshold, truncate=True, autoopen=False, silent=True)
    detector.run()
    owner = {path: os.path.basename(os.path.dirname(path)) for path in detector.test_files}
    coverage = {path: detector.file_data[path].token_coverage for path in detector.test_files}
    total = {student: 0 for student in students}
    for path, tokens in coverage.items():
        total[owner[path]] += tokens
    found_in = {}   # (a, b) -> tokens of a's code found in b's
    for i, path in enumerate(detector.test_files):
        for j, other in enumerate(detector.ref_files):
            share = detector.similarity_matrix[i, j, 0]
            if share > 0:
                key = (owner[path], owner[other])
                found_in[key] = found_in.get(key, 0) + share * coverage[path]

    def share(a, b):
        return found_in.get((a, b), 0) / max(total[a], MIN_SHARED_BASIS)
    pairs = [(a, b, float(max(share(a, b), share(b, a)))) for a, b in itertools.combinations(sorted(students), 2)]
    pairs.sort(key=lambda pair: (-pair[2], pair[0], pair[1]))
    report = detector.generate_html_report(output_mode="return")
    return pairs, report.replace(submitted + os.sep, "")


def empty_report(reason):
    return f"<!DOCTYPE html>\n<html><body><h1>Similarity check</h1><p>{reason}</p></body></html>\n"


def write_results(out, pairs, report):
    """OUT/pairs.csv and OUT/report.html, each written atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_a", "student_b", "similarity"])
    writer.writerows((a, b, f"{similarity:.4f}") for a, b, similarity in pairs)
    atomic_write_text(os.path.join(out, "pairs.csv"), buffer.getvalue())

    def write_html(tmp_path):
        with open(tmp_path, "w", encoding="utf-8") as stream:
            stream.write(report)
    atomic_write(os.path.join(out, "report.html"), write_html)


def run(folder, out, threshold=THRESHOLD):
    """Compare every pair of submissions in folder; returns (pairs, skipped, notes) (`read_submissions`).

    Writes OUT/pairs.csv and OUT/report.html.
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder} is not a folder; give the folder holding one zip per student")
    given = starter_python()
    support = support_modules(given)
    students, skipped, notes = read_submissions(folder, support)
    # The starter's documents as students' are made, and every given module besides (a student who
    # pastes hw2_train's loop into their model script pastes given code).
    boilerplate = {**{name.replace("/", "_"): text for name, text in given.items()},
                   **documents({name: text.encode() for name, text in given.items()}, support)}
    if len(students) < 2:
        pairs, report = [], empty_report(f"{len(students)} submission(s) to compare in {folder}: nothing to compare.")
    else:
        with tempfile.TemporaryDirectory() as work:
            pairs, report = compare(students, boilerplate, threshold, work)
    write_results(out, pairs, report)
    return pairs, skipped, notes


def main(argv=None):
    parser = argparse.ArgumentParser(description="Similarity of every pair of submissions (copydetect).")
    parser.add_argument("folder", help="folder of submission zips, one per student, named by student")
    parser.add_argument("--out", default="similarity", help="folder for pairs.csv and report.html")
    parser.add_argument("--threshold", type=float, default=THRESHOLD,
                        help=f"pairs above this similarity are printed and reported (default {THRESHOLD})")
    args = parser.parse_args(argv)
    if not 0 <= args.threshold <= 1:
        parser.error(f"--threshold is a share of code in [0, 1], got {args.threshold}")
    try:
        pairs, skipped, notes = run(args.folder, args.out, args.threshold)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for name, reason in skipped:
        print(f"skipped: {name}: {reason}")
    for name, problem in notes:
        print(f"note: {name}: compared without a refused member: {problem}")
    flagged = [pair for pair in pairs if pair[2] > args.threshold]
    for a, b, similarity in flagged:
        print(f"similar: {a} and {b}: {similarity:.2f}")
    print(f"{len(pairs)} pairs compared, {len(flagged)} above {args.threshold}: "
          f"{os.path.join(args.out, 'pairs.csv')}, {os.path.join(args.out, 'report.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
