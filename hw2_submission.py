"""Build and verify submission.zip for the autograder (no TensorFlow needed).

    python hw2_submission.py build [--out submission/submission.zip] [--partial]
    python hw2_submission.py check ZIP [--partial]
    python hw2_submission.py logs [evaluation_numpy.txt ...] [--partial]   regenerate logs whose code changed

The zip holds, flat at its top level: the three exercise files, submission.csv,
the three evaluation logs, and every script used to train, preprocess and test
the own model. `check` verifies a zip: every file there and no folders,
links, duplicates, encrypted, corrupt or oversized members; the CSV's header,
row count and classes; every log complete (each test of its script, in order,
BEGIN ... OK ... END) with no FAIL; and every log's fingerprint (sha256 of the
sources it exercised, the username and the seed, printed in its first line)
recomputed from the files in the zip, so a log written by older code is caught.

--partial is for work in progress: a log whose run completed with failing tests
is kept as the log (the autograder credits each exercise on its own), and the
zip may hold failing tests and lack submission.csv; both are listed as
unfinished work, never silently accepted. Everything else is checked as before.
"""
import argparse
import ast
import collections
import csv
import functools
import hashlib
import io
import os
import re
import stat
import subprocess
import sys
import zipfile
import zlib

from hw2_data import PRIVATE_TEST_SIZE, atomic_write

ROOT = os.path.dirname(os.path.abspath(__file__))
EXERCISE_FILES = ("hw2_mnist.py", "hw2_numpy.py", "hw2_cifar.py")
# Each evaluation log and the public test script that writes it. What a log's fingerprint
# covers is derived from the script's imports (`log_sources`), never listed by hand.
LOGS = {
    "evaluation_numpy.txt": "tests/hw2_test_numpy.py",
    "evaluation_mnist.txt": "tests/hw2_test_mnist.py",
    "evaluation_cifar.txt": "tests/hw2_test_cifar.py",
}
OWN_MODEL = "hw2_cifar_my_model.py"


def read_project_file(name):
    with open(os.path.join(ROOT, name), "rb") as stream:
        return stream.read()


def project_file_or_none(name):
    return read_project_file(name) if os.path.isfile(os.path.join(ROOT, name)) else None


@functools.lru_cache(maxsize=32)
def imported_modules(source):
    """Top-level names (a frozenset) of the modules Python `source` (str or bytes) imports (absolute
    imports), anywhere in it. Kept for the last sources asked about: checking a zip asks about
    the same few files once per log and per file that imports them."""
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return frozenset(modules)


def local_imports(source):
    """File names of the project's own modules (hw2_*.py) that Python `source` imports, anywhere in it."""
    return sorted(f"{module}.py" for module in imported_modules(source) if module.startswith("hw2_"))


def imported_sources(source, read=project_file_or_none):
    """Sorted file names of every hw2_*.py module `source` imports, directly or through another.

    read(name) -> bytes, or None for a file that is not there (it is listed, not followed).
    """
    found, pending = set(), local_imports(source)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        data = read(name)
        if data is not None:
            try:
                pending += local_imports(data)
            except (SyntaxError, ValueError):
                pass   # a file that does not parse imports nothing we can see; its fingerprint still counts
    return sorted(found)


def log_sources(log_name, read=project_file_or_none):
    """Sorted file names a log's fingerprint covers: every module its test script imports, transitively."""
    return imported_sources(read_project_file(LOGS[log_name]), read)


def model_sources():
    """The own model's script and every module it imports: what its training runs."""
    return sorted({OWN_MODEL, *imported_sources(read_project_file(OWN_MODEL))})


def submission_files():
    """What the zip holds: the exercise files, submission.csv, the logs, the own model's training,
    preprocessing and support scripts (its sources and the data step), and every module a log covers."""
    return list(dict.fromkeys(EXERCISE_FILES + ("submission.csv",) + tuple(LOGS) + tuple(model_sources())
                              + ("get_dataset.sh",) + tuple(name for log in LOGS for name in log_sources(log))))

# Reading an uploaded zip stops at these sizes, counted while decompressing (a header can lie).
# The real members are tens of kilobytes: the largest, a log or hw2_utils.py, well under 1 MiB.
MAX_MEMBER_BYTES = 8 * 2 ** 20
MAX_TOTAL_BYTES = 32 * 2 ** 20
MAX_MEMBERS = 64
SUPPORTED_COMPRESSION = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}

FINGERPRINT = re.compile(r"^=== FINGERPRINT (?P<digest>[0-9a-f]{64}) user=(?P<user>\S+) seed=(?P<seed>\S+) "
                         r"sources=(?P<sources>\S+) ===$")
MARKER = re.compile(r"^=== (?P<kind>BEGIN|END) (?P<test>\S+) ===$")
# Durations a log prints (1:02:03, 4.5s, 12 s): the only numbers that differ between two runs of the same code.
DURATION = re.compile(r"\d+:\d{2}:\d{2}(\.\d+)?|\d+(\.\d+)? ?s\b")


def fingerprint(sources, andrew_username, seed):
    """sha256 hex of (username, seed, and each (name, bytes) of `sources` in name order)."""
    digest = hashlib.sha256(f"{andrew_username}\0{seed}\0".encode())
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + hashlib.sha256(sources[name]).digest())
    return digest.hexdigest()


def fingerprint_line(log_name, andrew_username, seed, read=read_project_file):
    """The header line of `log_name`: its sources' fingerprint, read from the project (or `read(name)`)."""
    names = log_sources(log_name, read)
    digest = fingerprint({name: read(name) for name in names}, andrew_username, seed)
    return f"=== FINGERPRINT {digest} user={andrew_username} seed={seed} sources={','.join(names)} ==="


def read_identity(utils_source):
    """(ANDREW_USERNAME, SEED) assigned at the top level of hw2_utils.py's source (bytes), read with ast.

    Nothing is executed. Raises ValueError when the file does not parse or a
    value is not a literal.
    """
    try:
        tree = ast.parse(utils_source)
    except (SyntaxError, ValueError) as error:
        raise ValueError(f"hw2_utils.py does not parse ({error})") from error
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("ANDREW_USERNAME", "SEED"):
                    try:
                        values[target.id] = ast.literal_eval(node.value)
                    except ValueError as error:
                        raise ValueError(f"hw2_utils.py: {target.id} must be a literal ({error})") from error
    missing = [name for name in ("ANDREW_USERNAME", "SEED") if name not in values]
    if missing:
        raise ValueError(f"hw2_utils.py assigns no {' or '.join(missing)} at its top level")
    return values["ANDREW_USERNAME"], values["SEED"]


def script_tests(script_source):
    """Names of the test methods (test*) of the TestCase classes in a public test script, in order."""
    names = []
    for node in ast.parse(script_source).body:
        if isinstance(node, ast.ClassDef):
            names += [item.name for item in node.body
                      if isinstance(item, ast.FunctionDef) and item.name.startswith("test")]
    return names


# --------------------------------------------------------------------------- reading a zip safely

def read_zip(zip_path, max_member=MAX_MEMBER_BYTES, max_total=MAX_TOTAL_BYTES, max_members=MAX_MEMBERS):
    """Read the members of an uploaded zip with every size bounded; returns (files, refused, problems).

    files: name -> bytes of each member that is a plain file at the top level
    and read whole with a good CRC; refused: the names of the members that are
    not (each has its message in problems). problems: a message per member refused:
    folders or paths (traversal, absolute), links, duplicate names, encrypted
    or corrupt members, unknown compression, a member over `max_member` bytes
    or the zip over `max_total` bytes (counted while decompressing), too many
    members. Never raises for a bad zip.
    """
    try:
        archive = zipfile.ZipFile(zip_path)
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        return {}, set(), [f"{os.path.basename(str(zip_path))}: not a readable zip ({error})"]
    files, refused, problems, total = {}, set(), [], 0

    def refuse(name, reason):
        refused.add(name)
        problems.append(f"{name}: {reason}")

    with archive:
        members = archive.infolist()
        if len(members) > max_members:
            return {}, set(), [f"the zip has {len(members)} entries, more than {max_members}; "
                               "zip only the submission files"]
        counts = collections.Counter(info.filename for info in members)
        for name, count in counts.items():
            if count > 1:
                refuse(name, f"appears {count} times in the zip; keep one")
        for info in members:
            name = info.filename
            if name in refused:
                continue
            if "/" in name or "\\" in name or name in ("", ".", "..") or name.startswith("/"):
                refuse(name, "folders are not allowed, files must be at the top level of the zip")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                refuse(name, "a symbolic link; zip the file itself")
                continue
            if info.flag_bits & 0x1:
                refuse(name, "encrypted; zip it without a password")
                continue
            if info.compress_type not in SUPPORTED_COMPRESSION:
                refuse(name, f"compressed with method {info.compress_type}, which zip readers "
                             "do not all know; use the default (deflate)")
                continue
            try:
                with archive.open(info) as stream:   # read to the end (and the CRC checked) when small enough
                    data, total, too_big = read_bounded(stream, total, max_member, max_total)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError,
                    ValueError) as error:
                refuse(name, f"corrupt in the zip ({error}); build the zip again")
                continue
            if too_big:
                refuse(name, too_big)
                continue
            files[name] = data
    return files, refused, problems


def read_bounded(stream, total, max_member=MAX_MEMBER_BYTES, max_total=MAX_TOTAL_BYTES, whole="the zip's content"):
    """(data, total, problem) of one submission file read from `stream`, never past the bounds: at most
    max_member bytes for the file and max_total for the submission, `total` being what was read
    before (what is read counts, refused or not). data is None and problem says why when a bound
    is hit, else problem is "". whole: what max_total bounds, for the message."""
    limit = max(0, min(max_member, max_total - total))
    data = stream.read(limit + 1)
    total += len(data)
    if len(data) <= limit:
        return data, total, ""
    too_big = (f"larger than {max_member // 2 ** 20} MiB" if limit == max_member else
               f"makes {whole} larger than {max_total // 2 ** 20} MiB")
    return None, total, f"{too_big}; a submission file is never that large"


# --------------------------------------------------------------------------- checks

def check_csv(data):
    """Problems of submission.csv's bytes: header Id,Category, PRIVATE_TEST_SIZE rows, Id 0.., classes 0-9."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as error:
        return [f"submission.csv: not a readable CSV ({error}); write it with save_csv"]
    if not rows or [cell.strip() for cell in rows[0]] != ["Id", "Category"]:
        return [f"submission.csv: the header must be 'Id,Category', got {rows[0][:3] if rows else 'nothing'}"]
    body = [row for row in rows[1:] if row]
    if len(body) != PRIVATE_TEST_SIZE:
        return [f"submission.csv: {len(body)} rows, expected {PRIVATE_TEST_SIZE} (one per private-test image)"]
    for number, row in enumerate(body):
        if len(row) != 2 or row[0].strip() != str(number) or row[1].strip() not in set("0123456789"):
            return [f"submission.csv: row {number + 2} is {row[:3]}, expected [{number}, a class 0-9]"]
    return []


def log_outcomes(lines, expected_tests):
    """(outcomes, problem) of a log's body (its lines after the fingerprint).

    outcomes: each expected test -> (outcome, printed): outcome "OK", "FAIL" or
    None (none between its BEGIN and END), printed the lines the test printed
    before it; problem: why the log as a whole cannot count (cut, out of order,
    tests its script does not define), else "" (then every expected test has
    its block, in order).
    """
    markers = [(i, m["kind"], m["test"]) for i, m in ((i, MARKER.match(line)) for i, line in enumerate(lines)) if m]
    expected = [(kind, test) for test in expected_tests for kind in ("BEGIN", "END")]
    found = [(kind, test) for _, kind, test in markers]
    if found != expected:
        for position, want in enumerate(expected):
            got = found[position] if position < len(found) else None
            if got != want:
                where = f"found {got[0]} {got[1]}" if got else "the log ends"
                return {}, f"incomplete or out of order: expected {want[0]} {want[1]}, {where}"
        return {}, f"has tests its script does not define ({found[len(expected)][1]})"
    outcomes = {}
    for (begin, _, test), (end, _, _) in zip(markers[0::2], markers[1::2]):
        block = lines[begin + 1:end]
        outcome = "OK" if block[-1:] == ["OK"] else "FAIL" if "FAIL" in block else None
        printed = block[:-1] if outcome == "OK" else block[:block.index("FAIL")] if outcome else block
        outcomes[test] = (outcome, "\n".join(printed))
    return outcomes, ""


def check_log_tests(log_name, lines, expected_tests):
    """(problems, failing) of a log's body: every expected test, in order, as BEGIN ... OK|FAIL ... END,
    nothing cut (problems); failing: a message per test that ran and failed (unfinished work)."""
    regenerate = f"regenerate it with `make {log_name}`"
    outcomes, problem = log_outcomes(lines, expected_tests)
    if problem:
        return [f"{log_name}: {problem}; {regenerate}"], []
    return ([f"{log_name}: test {test} has no outcome (OK or FAIL); {regenerate}"
             for test, (outcome, _) in outcomes.items() if outcome is None],
            [f"{log_name}: test {test} failed" for test, (outcome, _) in outcomes.items() if outcome == "FAIL"])


def log_header_problems(log_name, lines, read):
    """Problems of a log's fingerprint line (lines[0]): missing, stale (other sources than the
    submission's files, read(name) -> bytes or None), or another username or seed than hw2_utils.py's."""
    match = FINGERPRINT.match(lines[0]) if lines else None
    if not match:
        return [f"{log_name}: no fingerprint header; regenerate it with `make {log_name}`"]
    sources, expected_sources = match["sources"].split(","), log_sources(log_name, read)
    if sources != expected_sources:
        return [f"{log_name}: fingerprints {', '.join(sources)}, but its script imports "
                f"{', '.join(expected_sources)}; regenerate it with `make {log_name}`"]
    missing = [name for name in sources if read(name) is None]
    if missing:
        return [f"{log_name}: exercised {', '.join(missing)}, which the zip lacks"]
    problems = []
    expected = fingerprint({name: read(name) for name in sources}, match["user"], match["seed"])
    if expected != match["digest"]:
        problems.append(f"{log_name}: stale, written by other code than the zip holds "
                        f"({', '.join(sources)}); regenerate it with `make {log_name}`")
    try:
        user, seed = read_identity(read("hw2_utils.py"))
    except ValueError as error:
        return problems + [f"{log_name}: cannot tell the username and seed: {error}"]
    if (str(user), str(seed)) != (match["user"], match["seed"]):
        problems.append(f"{log_name}: written as user={match['user']} seed={match['seed']}, but "
                        f"hw2_utils.py says {user} / {seed}")
    return problems


def check_log(log_name, text, read, expected_tests):
    """(problems, failing) of one evaluation log: problems: not complete, a missing or stale
    fingerprint; failing: its failing tests (unfinished work, which `--partial` accepts).

    read(name) -> bytes of a file of the submission, or None; expected_tests:
    the test names of the log's script, in order (`script_tests`).
    """
    lines = text.splitlines()
    header = log_header_problems(log_name, lines, read)
    if not (lines and FINGERPRINT.match(lines[0])):
        return header, []   # without its header, the rest of the file is not a log
    problems, failing = check_log_tests(log_name, lines[1:], expected_tests)
    return problems + header, failing


# Files a work-in-progress zip may lack: the predictions come last, from the student's own training.
UNFINISHED_MAY_LACK = ("submission.csv",)


def examine(zip_path, tests_dir=None, partial=False):
    """(problems, unfinished) of the zip at zip_path, two lists of messages.

    unfinished: failing tests and a missing submission.csv, which a finished
    submission must not have but work in progress (partial) may; without
    partial they are problems too, and unfinished is empty. problems:
    everything else (a zip the autograder cannot grade as it stands). tests_dir:
    where the public test scripts are (the expected tests of each log; default ROOT/tests).
    """
    tests_dir = tests_dir or os.path.join(ROOT, "tests")
    files, refused, problems = read_zip(zip_path)
    absent = [name for name in submission_files() if name not in files and name not in refused]
    unfinished = [f"{name}: missing" for name in absent if name in UNFINISHED_MAY_LACK]
    problems += [f"{name}: missing" for name in absent if name not in UNFINISHED_MAY_LACK]
    if "submission.csv" in files:
        problems += check_csv(files["submission.csv"])
    for log_name, script in LOGS.items():
        if log_name in files:
            with open(os.path.join(tests_dir, os.path.basename(script)), "rb") as stream:
                expected_tests = script_tests(stream.read())
            log_problems, failing = check_log(log_name, files[log_name].decode("utf-8", "replace"), files.get,
                                              expected_tests)
            problems += log_problems
            unfinished += failing
    return (problems, unfinished) if partial else (problems + unfinished, [])


def check(zip_path, tests_dir=None, partial=False):
    """Problems found in the zip at zip_path, as a list of messages (empty: the zip is good).

    partial: unfinished work (`examine`) is not a problem.
    """
    return examine(zip_path, tests_dir, partial)[0]


def build(out_path, partial=False):
    """Write the zip to out_path and check it; returns (problems, unfinished): written when problems is empty.

    partial: failing tests and a missing submission.csv are unfinished work,
    listed but not problems. The zip is checked under its temporary name and
    renamed only when good: a failing build leaves a file already at out_path
    untouched. Raises FileNotFoundError naming any missing file.
    """
    names = [name for name in submission_files()
             if not (partial and name in UNFINISHED_MAY_LACK and not os.path.isfile(os.path.join(ROOT, name)))]
    missing = [name for name in names if not os.path.isfile(os.path.join(ROOT, name))]
    if missing:
        raise FileNotFoundError(f"cannot build the submission, missing: {', '.join(missing)} (run `make`)")
    problems, unfinished = [], []

    def write(tmp_path):
        with zipfile.ZipFile(tmp_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in names:
                archive.write(os.path.join(ROOT, name), arcname=name)

    def good_zip_only(tmp_path):
        found, not_done = examine(tmp_path, partial=partial)
        problems.extend(found)
        unfinished.extend(not_done)
        return None if problems else out_path

    atomic_write(out_path, write, choose=good_zip_only)
    return problems, unfinished


def log_state(log_name, andrew_username, seed, path=None):
    """"passed", "failed" (complete, some test failed) or None (missing, cut, or written by other
    sources or identity) for the log in the project, or for the file at `path` read as that log."""
    path = path or os.path.join(ROOT, log_name)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as stream:
        lines = stream.read().splitlines()
    if lines[:1] != [fingerprint_line(log_name, andrew_username, seed)]:
        return None
    problems, failing = check_log_tests(log_name, lines[1:], script_tests(read_project_file(LOGS[log_name])))
    return None if problems else "failed" if failing else "passed"


def update_logs(log_names, python=sys.executable, partial=False):
    """Run the public test script of each log that is not current; returns the names that failed.

    The decision is by content (the fingerprint), not by file times: a log whose
    sources, username and seed are unchanged is never run again. A run's output
    is written atomically to the log when every test passed (or, with partial,
    when the run completed with failing tests, which are then listed), else to
    LOG.failed and the log stays as it was.
    """
    andrew_username, seed = read_identity(read_project_file("hw2_utils.py"))
    accepted = ("passed", "failed") if partial else ("passed",)
    failed = []
    for log_name in log_names:
        state = log_state(log_name, andrew_username, seed)
        if state in accepted:
            print(f"{log_name}: up to date" + (" (with failing tests)" if state == "failed" else ""))
            continue
        print(f"{log_name}: running {LOGS[log_name]}", flush=True)
        status = {}

        def run(tmp_path):
            with open(tmp_path, "w") as out:
                status["code"] = subprocess.run([python, os.path.join(ROOT, LOGS[log_name])], stdout=out,
                                                cwd=ROOT).returncode

        def choose(tmp_path):   # a whole log of this code and identity counts; failing tests only if partial
            state = log_state(log_name, andrew_username, seed, tmp_path)   # exit 0 alone is not a whole log
            keep = state == "passed" and status["code"] == 0 or partial and state is not None
            return log_path if keep else failed_path

        log_path, failed_path = os.path.join(ROOT, log_name), os.path.join(ROOT, log_name + ".failed")
        # One run: its output becomes the log if it counts, else LOG.failed (the log stays).
        if atomic_write(log_path, run, choose=choose) == log_path:
            if os.path.exists(failed_path):
                os.remove(failed_path)
            if status["code"] != 0:
                print(f"{log_name}: written, with failing tests (see the FAIL blocks in it)")
        else:
            failed.append(log_name)
            print(f"{log_name}: tests failed (exit {status['code']}); see {log_name}.failed", file=sys.stderr)
    return failed


def report(zip_path, problems, unfinished=()):
    """Print the problems (stderr), the unfinished work and ok (stdout); returns the exit status."""
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    if problems:
        print(f"{zip_path}: {len(problems)} problem(s); the autograder would not accept it", file=sys.stderr)
        return 1
    for item in unfinished:
        print(f"unfinished: {item}")
    if unfinished:
        print(f"{zip_path}: ok as work in progress ({len(unfinished)} unfinished item(s) above: "
              "the autograder gives them no credit)")
    else:
        print(f"{zip_path}: ok (the {len(submission_files())} files, logs complete and matching the code)")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    partial_help = "work in progress: failing tests and a missing submission.csv are listed, not refused"
    build_parser = commands.add_parser("build", help="write the zip if it passes the check")
    build_parser.add_argument("--out", default=os.path.join(ROOT, "submission", "submission.zip"),
                              help="where to write it (default submission/submission.zip)")
    build_parser.add_argument("--partial", action="store_true", help=partial_help)
    check_parser = commands.add_parser("check", help="check a zip")
    check_parser.add_argument("zip", help="the zip to check, as the autograder will read it")
    check_parser.add_argument("--partial", action="store_true", help=partial_help)
    logs_parser = commands.add_parser("logs", help="regenerate each evaluation log whose code changed")
    logs_parser.add_argument("log", nargs="*", help=f"any of {', '.join(sorted(LOGS))} (default: all)")
    logs_parser.add_argument("--partial", action="store_true",
                             help="keep a log whose run completed with failing tests (work in progress)")
    args = parser.parse_args(argv)
    unknown = [name for name in getattr(args, "log", []) if name not in LOGS]
    if unknown:
        parser.error(f"no such log: {', '.join(unknown)}; the logs are {', '.join(sorted(LOGS))}")
    if args.command == "check":
        return report(args.zip, *examine(args.zip, partial=args.partial))
    if args.command == "logs":
        try:
            return 1 if update_logs(args.log or sorted(LOGS), partial=args.partial) else 0
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    try:
        problems, unfinished = build(args.out, partial=args.partial)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if problems:
        print(f"{args.out}: not written (a zip already there is unchanged)", file=sys.stderr)
    return report(args.out, problems, unfinished)


if __name__ == "__main__":
    sys.exit(main())
