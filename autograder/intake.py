"""Reading an upload as the grader does: its files, its evaluation logs, its submission.csv, the labels.

Trusted code that only reads bytes: nothing here imports or runs student code, so the grading
process and the class-level tools (autograder/regrade.py) may call it on any upload.
"""
import csv
import dataclasses
import io
import os
import stat

import numpy as np

import hw2_submission as submission   # the reference's, trusted; no TensorFlow
from hw2_data import PRIVATE_TEST_SIZE


class GraderError(RuntimeError):
    """The grader cannot grade (its own set-up is wrong); the message says the fix."""



def read_submission(folder):
    """(files, problems) of an upload: the zip itself (one .zip in the folder) or its files.

    Both are read with the same bounds as `hw2_submission.read_zip`; plain files are opened
    without following links. Files in subfolders are not part of a submission and are named.
    """
    entries = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    zips = [name for name in entries if name.lower().endswith(".zip")]
    expected = set(submission.submission_files())
    if len(zips) == 1 and not expected & set(entries):
        files, _, problems = submission.read_zip(os.path.join(folder, zips[0]))
        return files, problems
    if len(zips) > 1 and not expected & set(entries):
        return {}, [f"the upload holds {len(zips)} zips ({', '.join(zips)}); upload one submission.zip"]
    files, problems, total = {}, [], 0
    for name in entries:
        path = os.path.join(folder, name)
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as error:
            problems.append(f"{name}: not a plain file ({error.strerror}); upload the file itself")
            continue
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            os.close(descriptor)
            problems.append(f"{name}/: folders are not read; upload the files at the top level" if stat.S_ISDIR(mode)
                            else f"{name}: not a plain file")
            continue
        with os.fdopen(descriptor, "rb") as stream:
            data, total, too_big = submission.read_bounded(stream, total, whole="the upload")
        if too_big:
            problems.append(f"{name}: {too_big}")
            continue
        files[name] = data
    return files, problems



@dataclasses.dataclass
class SubmittedLog:
    """A log as submitted: each test's (outcome, printed) and why the log cannot count at all ("" if it can)."""
    outcomes: dict
    problem: str



def submitted_log(log_name, files, expected_tests):
    data = files.get(log_name)
    if data is None:
        return SubmittedLog({}, f"{log_name} is missing")
    lines = data.decode("utf-8", "replace").splitlines()
    problems = submission.log_header_problems(log_name, lines, files.get)
    if problems:
        return SubmittedLog({}, problems[0])
    outcomes, problem = submission.log_outcomes(lines[1:], expected_tests)
    return SubmittedLog(outcomes, f"{log_name}: {problem}; regenerate it with `make {log_name}`" if problem else "")



def read_predictions(data):
    """(predicted class per Id as an int array, "") or (None, the problem) of submission.csv's bytes.

    Rows may come in any order; the Ids must be exactly 0..PRIVATE_TEST_SIZE-1, once each, the
    categories integers 0-9.
    """
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as error:
        return None, f"submission.csv is not a readable CSV ({error})"
    if not rows or [cell.strip() for cell in rows[0]] != ["Id", "Category"]:
        return None, "submission.csv: the header must be 'Id,Category'"
    predictions = np.full(PRIVATE_TEST_SIZE, -1)
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        cells = [cell.strip() for cell in row]
        if len(cells) != 2 or not all(cell.isdigit() and cell.isascii() for cell in cells):
            return None, f"submission.csv line {line}: expected 'Id,Category' integers, got {row[:3]}"
        number, category = int(cells[0]), int(cells[1])
        if number >= PRIVATE_TEST_SIZE or category > 9:
            return None, f"submission.csv line {line}: Id must be 0-{PRIVATE_TEST_SIZE - 1} and Category 0-9"
        if predictions[number] != -1:
            return None, f"submission.csv line {line}: Id {number} appears twice"
        predictions[number] = category
    missing = np.flatnonzero(predictions < 0)
    if len(missing):
        return None, f"submission.csv lacks {len(missing)} Ids (first: {missing[0]}); predict every private-test image"
    return predictions, ""



def load_labels(path):
    """The private labels (PRIVATE_TEST_SIZE ints 0-9), None when there are none; GraderError when broken."""
    if not path or not os.path.exists(path):
        return None
    try:
        labels = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise GraderError(f"{path}: not a .npy array ({error}); write it with `python hw2_data.py private-labels`")
    if labels.shape != (PRIVATE_TEST_SIZE,) or labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 9:
        raise GraderError(f"{path}: expected {PRIVATE_TEST_SIZE} class ids 0-9, got {labels.dtype} {labels.shape}")
    return labels

