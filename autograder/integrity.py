"""Integrity flags over a graded class, for the staff only (flags.csv and the report, never a
student's results). Each flag is evidence to look at, not a verdict:

- shared wrong predictions: for a pair of students, of the private-test images the one with fewer
  mistakes got wrong, the share where the other predicted the same wrong class. Independently
  trained models share many mistakes (the same hard images, the same confusions: among the images
  both got wrong, two seeds of our own model agree on the class 84% of the time, as often as a copy
  with 15% of its rows changed); what a copy keeps and they do not is that nearly every mistake of
  the one is the same mistake in the other. A pair is flagged above SHARE_FLOOR and far above the
  class's own pairs (README, "Integrity flags": the rates measured on independent trainings and on
  edited copies);
- label lookup: a private-test accuracy no homework model reaches (the private images are CIFAR-10
  test images, whose labels are public);
- identical files: a submitted file byte-equal in two submissions, but for the starter's own files;
- code similarity: `make similarity`'s pairs.csv, when given, beside the above in one table.
"""
import csv
import dataclasses
import hashlib
import itertools
import os

import numpy as np

import hw2_submission
from autograder import intake

# Shared wrong predictions: a pair's share counts only when both got at least MIN_WRONG images wrong
# (fewer say nothing), and is flagged above SHARE_FLOOR and SPREADS robust standard deviations (1.4826
# x the median absolute deviation, at least SPREAD_FLOOR) above the median share of the class's pairs.
# SHARE_FLOOR lies between the independent trainings and the 15%-edited copies measured (README).
MIN_WRONG = 50
SHARE_FLOOR = 0.75
SPREADS = 6
SPREAD_FLOOR = 0.03
LOOKUP_ACCURACY = 0.96   # no homework model of the course reaches this on the private test
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
FLAG_COLUMNS = ["kind", "submission_a", "students_a", "submission_b", "students_b", "evidence", "code_similarity"]


def evidence(upload):
    """What the flags need of one upload, read (never run) as the grader reads it: each file's sha256
    and the predictions ("" when submission.csv is missing or unreadable) as a string of digits."""
    if os.path.isdir(upload):
        files, _ = intake.read_submission(upload)
    else:
        files, _, _ = hw2_submission.read_zip(upload)
    predictions, _ = intake.read_predictions(files["submission.csv"]) if "submission.csv" in files else (None, "")
    return {"files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
            "predictions": "" if predictions is None else "".join(map(str, predictions))}


@dataclasses.dataclass
class Flags:
    rows: list            # dicts of FLAG_COLUMNS
    shares: np.ndarray    # every judged pair's share of the same mistakes (the report's histogram)
    threshold: float      # the share above which a pair was flagged (nan without labels)
    accuracies: dict      # submission id -> private-test accuracy


def same_mistakes(predictions, labels):
    """(wrong, same_wrong): each student's count of wrong images (n,), and the n x n counts of the
    images both of a pair got wrong with the same class. predictions: (n, images) ints 0-9; labels: (images,)."""
    wrong = predictions != labels
    same_wrong = np.zeros((len(predictions), len(predictions)), np.float32)
    for category in range(10):
        chose = ((predictions == category) & wrong).astype(np.float32)
        same_wrong += chose @ chose.T
    return wrong.sum(axis=1), same_wrong.round().astype(np.int64)


def share_threshold(shares):
    """The share above which a pair stands out: above SHARE_FLOOR and far above the class's shares."""
    median = float(np.median(shares))
    spread = max(1.4826 * float(np.median(np.abs(shares - median))), SPREAD_FLOOR)
    return max(SHARE_FLOOR, median + SPREADS * spread)


def flags(listing, records, labels, similarity_csv=None, lookup_accuracy=LOOKUP_ACCURACY):
    """Flags of a graded class. listing: class.json's content; records: submission id -> its record
    (regrade.py's graded/ID.json); labels: the private labels or None (no prediction flags)."""
    who = {entry["id"]: "; ".join(f"{person['name']} ({person['sid']})" if person["sid"] else person["name"]
                                  for person in entry["submitters"]) for entry in listing["submissions"]}
    pairs = {}   # (a, b) -> {"kind": [...], "evidence": [...], "code_similarity": ""}

    def pair_of(a, b):
        return pairs.setdefault(tuple(sorted((a, b))), {"kind": [], "evidence": [], "code_similarity": ""})

    def add(a, b, kind, text):
        pair = pair_of(a, b)
        pair["kind"].append(kind)
        pair["evidence"].append(text)

    rows, shares, threshold, accuracies = [], np.zeros(0), float("nan"), {}
    with_predictions = sorted(key for key, record in records.items() if record.get("predictions"))
    if labels is not None and with_predictions:
        predictions = np.array([[int(digit) for digit in records[key]["predictions"]] for key in with_predictions])
        accuracies = dict(zip(with_predictions, (predictions == labels).mean(axis=1).round(4).tolist()))
        for key in with_predictions:
            if accuracies[key] > lookup_accuracy:
                rows.append({"kind": "label lookup", "submission_a": key, "students_a": who.get(key, key),
                             "evidence": f"private-test accuracy {accuracies[key]:.2%}, above {lookup_accuracy:.0%}: "
                                         "no homework model reaches it; the labels are public CIFAR-10 test labels"})
        wrong, same_wrong = same_mistakes(predictions, labels)
        first, second = np.triu_indices(len(with_predictions), k=1)
        fewer = np.minimum(wrong[first], wrong[second])
        judged = fewer >= MIN_WRONG
        shares = same_wrong[first, second][judged] / fewer[judged]
        if len(shares):
            threshold = share_threshold(shares)
            for i, j, count, value in zip(first[judged], second[judged], fewer[judged], shares):
                if value > threshold:
                    add(with_predictions[i], with_predictions[j], "shared wrong predictions",
                        f"{same_wrong[i, j]} of the {count} mistakes of the one with fewer are the same mistake "
                        f"in the other ({value:.0%}; the class's pairs: median {np.median(shares):.0%}, "
                        f"flagged above {threshold:.0%})")
    for a, b, names in identical_files(records):
        add(a, b, "identical files", "byte-identical " + ", ".join(names))
    for a, b, similarity in similar_code(similarity_csv, listing):
        pair = pair_of(a, b)
        pair["code_similarity"] = f"{similarity:.2f}"
        if not pair["kind"]:
            pair["kind"].append("code similarity")
    for (a, b), pair in sorted(pairs.items()):
        rows.append({"kind": ", ".join(pair["kind"]), "submission_a": a, "students_a": who.get(a, a),
                     "submission_b": b, "students_b": who.get(b, b), "evidence": "; ".join(pair["evidence"]),
                     "code_similarity": pair["code_similarity"]})
    return Flags(rows, shares, threshold, accuracies)


def starter_digests():
    """name -> sha256 of each file as the starter gives it: handing those in unchanged is no evidence."""
    from staff import starter
    return {name: hashlib.sha256(text.encode()).hexdigest() for name, (text, _) in starter.starter_files().items()}


def identical_files(records):
    """(a, b, [file names]) for each pair of submissions holding byte-identical submitted files."""
    given = starter_digests()
    holders = {}
    for key, record in records.items():
        for name, digest in record.get("files", {}).items():
            if digest != given.get(name) and digest != EMPTY_SHA256:
                holders.setdefault((name, digest), []).append(key)
    shared = {}
    for (name, _), keys in holders.items():
        for a, b in itertools.combinations(sorted(keys), 2):
            shared.setdefault((a, b), []).append(name)
    return [(a, b, sorted(names)) for (a, b), names in sorted(shared.items())]



def similar_code(path, listing):
    """(submission a, submission b, similarity) of pairs.csv's pairs above staff/similarity.py's threshold;
    its students (zip names) are matched to submissions by id, name, sid or email."""
    if not path:
        return []
    from staff import similarity
    owner = {}
    for entry in listing["submissions"]:
        owner[entry["id"]] = entry["id"]
        for person in entry["submitters"]:
            for key in (person["name"], person["sid"], person["email"]):
                if key:
                    owner.setdefault(key, entry["id"])
    found = []
    with open(path, newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            value = float(row["similarity"])
            a, b = owner.get(row["student_a"]), owner.get(row["student_b"])
            if value >= similarity.THRESHOLD and a and b and a != b:
                found.append((a, b, value))
    return found

