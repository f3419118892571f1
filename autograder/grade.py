"""Grade one hw2 submission as Gradescope's autograder does, and write results.json.

    python autograder/grade.py ZIP --labels LABELS --results OUT.json    (one zip, locally: `make grade`)
    python autograder/grade.py                                           (Gradescope: grades $AUTOGRADER_ROOT)

Every path derives from one root, $AUTOGRADER_ROOT (default /autograder): ROOT/submission holds
the upload (the zip itself or its files), ROOT/source the unpacked autograder (this reference, the
private labels, the hidden-case seed), ROOT/results/results.json the answer. Given a ZIP, the grader
builds a temporary root the same way and grades it through the same code.

What earns points (README, "How a submission is graded"):
- each exercise's checks run the student's code in the box (autograder/sandbox.py, as an
  unprivileged user, no network, limits) and are judged here: Part II against the reference on
  hidden inputs, Part I and 7.1/7.2 against the reference's structure and numbers the grader
  computes itself; partial credit in proportion to the checks passed;
- an exercise's points also need every public test covering it to be OK both in the submitted log
  and in a re-run of that log's script on the submitted code (a missing, cut or stale log costs the
  exercises it covers and nothing else);
- 7.3: submission.csv against the private labels, in tiers.
The grading process never imports student code; results.json is always written, also when the
grader itself fails.
"""
import argparse
import ast
import contextlib
import dataclasses
import io
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import zlib

import numpy as np

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # the reference solution
if PROJECT not in sys.path:
    sys.path.insert(0, PROJECT)

import hw2_submission as submission  # noqa: E402  (the reference's, trusted; no TensorFlow)
from autograder import box_task, hidden, sandbox  # noqa: E402
from autograder.intake import GraderError, read_submission, submitted_log  # noqa: E402
from autograder.scoring import (ALL_PARTS, EXERCISES, MANUAL, MAX_SCORE, Grading, exercise_entries,  # noqa: E402
                                failure_results, own_model_entries, print_table, test_entry)
from hw2_data import atomic_write_text  # noqa: E402

DEFAULT_ROOT = "/autograder"


# Smoke training of the MNIST models: train on this many images, then predict this many held-out
# ones; a model that learned anything clears the bar easily (chance is 0.1).
MNIST_TRAIN_IMAGES, MNIST_EVAL_IMAGES, SMOKE_MIN_ACCURACY = 3000, 1000, 0.6
CIFAR_PROBE_IMAGES, CIFAR_TRAIN_STEPS, CIFAR_BATCH = 8, 30, 64
LOSS_MUST_FALL_TO = 0.9   # mean loss of the last 5 steps over the first 5, at most (the public test's rule)


@dataclasses.dataclass(frozen=True)
class Budget:
    """What one kind of box task may use: the box's limits for the whole task, and the time each
    check (a hidden case, a model check, a public test) may take before it alone fails."""
    limits: sandbox.Limits
    check_seconds: int


# Wall-clock times leave room for a CPU several times slower than a 2-core laptop; memory is
# address space, which TensorFlow reserves far beyond what it touches.
GiB = 2 ** 30
BUDGETS = {
    "import": Budget(sandbox.Limits(wall_seconds=60, cpu_seconds=120, memory_bytes=8 * GiB, processes=512), 60),
    "numpy": Budget(sandbox.Limits(wall_seconds=120, cpu_seconds=240, memory_bytes=8 * GiB, processes=512,
                                   result_bytes=32 * 2 ** 20), 30),
    "mnist": Budget(sandbox.Limits(wall_seconds=400, cpu_seconds=1200, memory_bytes=12 * GiB, processes=512), 150),
    "cifar": Budget(sandbox.Limits(wall_seconds=300, cpu_seconds=900, memory_bytes=12 * GiB, processes=512), 90),
    "public_tests": Budget(sandbox.Limits(wall_seconds=900, cpu_seconds=2400, memory_bytes=12 * GiB, processes=512,
                                          result_bytes=1 * 2 ** 20), 300),
}


STDERR_SHOWN = 2000   # characters of a failed task's stderr printed for the staff

# What sizes TensorFlow's thread pools and numpy's BLAS in a process: unset, each takes every core.
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


def thread_environment(threads):
    """The environment that keeps a process's TensorFlow and numpy to `threads` threads ({} for None:
    their own choice, every core). Where several processes share the cores, pools sized for all of
    them oversubscribe the machine (TensorFlow's spin while they wait) and the same work costs more CPU."""
    return {} if threads is None else {name: str(threads) for name in THREAD_VARIABLES}


@dataclasses.dataclass(frozen=True)
class Paths:
    """Everything the grader reads or writes (Gradescope's layout); `Paths.under(root)` derives them."""
    root: str
    submission: str    # the upload: the zip itself or its files
    source: str        # the unpacked autograder: this reference, the labels, the seed
    labels: str
    hidden_seed: str
    results: str

    @classmethod
    def under(cls, root):
        source = os.path.join(root, "source")
        return cls(root, os.path.join(root, "submission"), source, os.path.join(source, "private_test_y.npy"),
                   os.path.join(source, "hidden_seed.txt"), os.path.join(root, "results", "results.json"))


# --------------------------------------------------------------------------- the submission


# --------------------------------------------------------------------------- the box

def public_test_files():
    """tests/ files a public test script needs: the scripts and the test modules they import."""
    names = set()
    for script in submission.LOGS.values():
        names.add(script)
        imported = submission.imported_modules(submission.read_project_file(script))
        names.update(f"tests/{module}.py" for module in imported
                     if os.path.isfile(os.path.join(PROJECT, "tests", f"{module}.py")))
    return sorted(names)


@dataclasses.dataclass
class Box:
    """How student tasks run: the interpreter (the sandbox identity must be able to run it), the data
    folder they may read, the sandbox identity (default: this process's own, `sandbox.default_identity`),
    the threads each task's TensorFlow and numpy may use (default: every core)."""
    python: str
    data_dir: str
    identity: sandbox.Identity = None
    budgets: dict = dataclasses.field(default_factory=lambda: dict(BUDGETS))
    threads: int = None

    def run(self, kind, task, inputs, files):
        """Run one box_task kind on the submission's files; returns the Outcome (result validated JSON)."""
        scratch = sandbox.make_scratch(identity=self.identity)
        try:
            for name, data in files.items():
                if name.endswith(".py"):
                    with open(os.path.join(scratch, name), "wb") as stream:
                        stream.write(data)
            os.mkdir(os.path.join(scratch, "tests"))
            for name in public_test_files():
                shutil.copyfile(os.path.join(PROJECT, name), os.path.join(scratch, name))
            shutil.copyfile(os.path.join(PROJECT, "autograder", "box_task.py"), os.path.join(scratch, "box_task.py"))
            with open(os.path.join(scratch, "task.json"), "w") as stream:
                json.dump({"kind": kind, "check_seconds": self.budgets[kind].check_seconds,
                           "sole_user": sandbox.is_root(), **task}, stream)
            if inputs:
                np.savez(os.path.join(scratch, "inputs.npz"), **inputs)
            env = {"HW2_DATA_DIR": self.data_dir, "HW2_RUNS_DIR": os.path.join(scratch, "runs"),
                   "MPLCONFIGDIR": scratch, "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
                   **thread_environment(self.threads)}
            outcome = sandbox.run_boxed([self.python, "box_task.py", scratch], scratch,
                                        limits=self.budgets[kind].limits, env=env, identity=self.identity,
                                        visible=self.visible())
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if outcome.killed_from_outside:   # never the student's 0: the whole grading fails and says so
            raise GraderError(f"box task {kind}: {outcome.problem}; another program on the grading machine "
                              "killed it (out of memory, or a process killing the sandbox identity's)")
        # For the staff (Gradescope shows the grader's stdout to them only): each task, and the
        # tail of what a failed one wrote to stderr.
        what = task.get("module") or task.get("script") or ", ".join(
            sorted({case["function"] for case in task.get("cases", [])}))
        print(f"box: {kind} {what}: {outcome.seconds:.1f} s, exit {outcome.returncode}"
              + (f", {outcome.problem}" if outcome.problem else ""), flush=True)
        if outcome.problem:
            print(outcome.stderr[-STDERR_SHOWN:], flush=True)
        return outcome

    def visible(self):
        """What the box must see besides its scratch folder: the interpreter's environment and the data."""
        return [sys.prefix, self.data_dir]

    def check(self):
        """Raise GraderError unless the sandbox identity can run the interpreter and read the data."""
        scratch = sandbox.make_scratch(identity=self.identity)
        try:
            probe = f"import numpy, os; assert os.path.isdir({self.data_dir!r}); open('result.json', 'w').write('1')"
            outcome = sandbox.run_boxed([self.python, "-c", probe], scratch, limits=sandbox.Limits(wall_seconds=60),
                                        identity=self.identity, visible=self.visible())
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if outcome.result != 1:
            who = self.identity.name if self.identity else "this process"
            raise GraderError(f"the sandbox identity ({who}) cannot run {self.python} with numpy or read "
                              f"{self.data_dir} ({outcome.problem}; {outcome.stderr[-300:]}). Build the venv from "
                              "an interpreter outside any private home (make venv PYTHON3=/usr/bin/python3.11) and "
                              "keep the data world-readable.")


def box_problem(outcome):
    """Why a box task gave nothing usable, in one line for the student, or ""."""
    if outcome.result is None:
        error = raised(outcome.stderr)
        return f"your code did not finish: {outcome.problem}" + (f" ({error})" if error else "")
    if not isinstance(outcome.result, dict):
        return "the task's result is not an object"
    if "task_error" in outcome.result:
        return f"your code could not be run: {last_line(str(outcome.result['task_error']))}"
    return ""


def first_difference(submitted, rerun):
    """"" when two printed texts agree line by line but for durations, else their first differing lines."""
    def lines(text):
        return submission.DURATION.sub("<time>", text).strip().splitlines() + [""] * 2
    for line, (mine, theirs) in enumerate(zip(lines(submitted), lines(rerun)), start=1):
        if mine != theirs:
            return f"line {line}: log {mine[:120]!r}, re-run {theirs[:120]!r}"
    return ""


def raised(stderr):
    """The exception line of the last Python traceback in stderr, or ""."""
    _, found, after = stderr.rpartition("Traceback (most recent call last)")
    return last_line(after) if found else ""


def last_line(text):
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


# --------------------------------------------------------------------------- judging the box's observations

def entry(result, *keys):
    """result[k1][k2]...; KeyError/TypeError become a ValueError naming the missing entry."""
    value = result
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise ValueError(f"no {'/'.join(keys)} in the result")
        value = value[key]
    if isinstance(value, dict) and "error" in value:
        raise ValueError(f"raised {last_line(value['error'])}")
    return value["value"] if isinstance(value, dict) and set(value) == {"value"} else value


def judged(label, judge):
    """(label, "" or the reason): judge() raising ValueError/TypeError/KeyError is a failed check."""
    try:
        return label, judge() or ""
    except (ValueError, TypeError, KeyError, IndexError) as error:
        return label, str(error) or type(error).__name__


def same_description(got, expected):
    """"" when a model description matches the reference's, else the first difference."""
    if not isinstance(got, dict):
        raise ValueError("no description")
    for key in ("input_shape", "output_shapes", "trainable", "non_trainable"):
        if got.get(key) != expected.get(key):
            return f"{key} is {got.get(key)}, expected {expected.get(key)}"
    got_layers, expected_layers = got.get("layers", []), expected["layers"]
    for index, want in enumerate(expected_layers):
        have = got_layers[index] if index < len(got_layers) else None
        if have != want:
            return f"layer {index}: {have}, expected {want}"
    if len(got_layers) != len(expected_layers):
        return f"{len(got_layers)} layers, expected {len(expected_layers)}"
    return ""


def accuracy_check(probabilities, labels, minimum):
    probabilities = box_task.decode(probabilities)
    if probabilities.shape != (len(labels), 10):
        return f"predictions of shape {probabilities.shape}, expected {(len(labels), 10)}"
    accuracy = float(np.mean(probabilities.argmax(axis=1) == labels))
    return "" if accuracy >= minimum else f"held-out accuracy {accuracy:.3f} after a short training, below {minimum}"


def mnist_checks(result, reference, labels):
    """Checks of 5.1 and 5.2 from the box's observations of both MNIST models."""
    def probabilities_check():
        probabilities = box_task.decode(entry(result, "probabilities", "2")).astype(np.float64)
        if probabilities.ndim != 2 or np.any(probabilities < -1e-6) or \
                not np.allclose(probabilities.sum(axis=1), 1, atol=1e-4):
            return "outputs are not probabilities (non-negative, rows summing to 1): end with a softmax"
        return ""

    def model2_interface():
        got = entry(result, "describe", "2")
        if got.get("input_shape") != [None, 28, 28, 1] or got.get("output_shapes") != [[None, 10]]:
            return f"input {got.get('input_shape')} and outputs {got.get('output_shapes')}, " \
                   "expected [None, 28, 28, 1] and [[None, 10]]"
        return ""
    return {
        "5.1": [judged("model 1 structure matches the handout (layers, sizes, activations, parameters)",
                       lambda: same_description(entry(result, "describe", "1"), reference["1"]["value"])),
                judged(f"model 1 trains: {MNIST_TRAIN_IMAGES} images, held-out accuracy >= {SMOKE_MIN_ACCURACY}",
                       lambda: accuracy_check(entry(result, "probabilities", "1"), labels, SMOKE_MIN_ACCURACY))],
        "5.2": [judged("model 2 takes (None, 28, 28, 1) images to 10 outputs", model2_interface),
                judged("model 2 outputs probabilities", probabilities_check),
                judged(f"model 2 trains: {MNIST_TRAIN_IMAGES} images, held-out accuracy >= {SMOKE_MIN_ACCURACY}",
                       lambda: accuracy_check(entry(result, "probabilities", "2"), labels, SMOKE_MIN_ACCURACY))],
    }


def softmax_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(np.mean(-(labels * log_probabilities).sum(axis=1)))


def cifar_checks(result, reference, inputs, out_dim):
    """Checks of 7.1 and 7.2 from the box's observations of the 7.1 model and the 7.2 loss and optimizer."""
    expected = {key: value["value"] for key, value in reference.items()}

    def structure(dim):
        got = entry(result, "describe", str(dim))
        problem = same_description(got, expected[str(dim)])
        return problem or ("" if got.get("update_ops") == expected[str(dim)]["update_ops"] else
                           f"build_model registers {got.get('update_ops')} batch-norm updates in UPDATE_OPS, "
                           f"expected {expected[str(dim)]['update_ops']}")

    def softmax_and_shapes():
        for mode, observed in entry(result, "modes").items():
            logits, probits = box_task.decode(observed["logits"]), box_task.decode(observed["probits"])
            if logits.shape != (CIFAR_PROBE_IMAGES, out_dim) or probits.shape != logits.shape:
                return f"is_training={mode}: outputs {logits.shape} and {probits.shape}, expected " \
                       f"{(CIFAR_PROBE_IMAGES, out_dim)} for out_dim={out_dim}"
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            if not np.allclose(probits, shifted / shifted.sum(axis=1, keepdims=True), rtol=1e-4, atol=1e-6):
                return f"is_training={mode}: probit is not softmax(logit)"
        return ""

    def training_mode():
        modes = entry(result, "modes")
        for mode, batch_dependent in (("true", True), ("false", False), ("flag_false", False), ("flag_true", True)):
            alone = box_task.decode(modes[mode]["alone"])
            in_batch = box_task.decode(modes[mode]["probits"])[:1]
            if np.allclose(alone, in_batch, atol=1e-6) == batch_dependent:
                return (f"is_training={mode}: batch norm should use " +
                        ("the batch's statistics" if batch_dependent else "the moving statistics"))
        return ""

    def batch_norm_updates():
        observed = entry(result, "batch_norm")
        if observed["inference_change"] != 0:
            return "running the model for inference changed the moving statistics"
        if not observed["training_change"] > 0:
            return "a train step left the moving statistics unchanged: run the UPDATE_OPS with the train step"
        return ""

    def optimizer():
        got, want = entry(result, "describe", "10"), expected["10"]
        if want["optimizer"][0] not in got.get("optimizer", []):
            return f"optimizer is {got.get('optimizer', ['?'])[0]}, expected {want['optimizer'][0]}"
        if got.get("learning_rate") is None or abs(got["learning_rate"] - want["learning_rate"]) > 1e-12:
            return f"learning rate {got.get('learning_rate')}, expected {want['learning_rate']}"
        return ""

    def loss_value():
        value = float(entry(result, "loss"))
        want = softmax_cross_entropy(inputs["logits"].astype(np.float64), inputs["logit_labels"].astype(np.float64))
        return "" if np.isclose(value, want, rtol=1e-4, atol=1e-4) else \
            f"mean loss {value:.6f} for confident logits, expected {want:.6f} (compute it from the logits)"

    def loss_falls():
        losses = np.asarray(entry(result, "training_losses"), dtype=np.float64)
        if losses.shape != (CIFAR_TRAIN_STEPS,) or not np.all(np.isfinite(losses)):
            return "the losses of the short training are missing or not finite"
        first, last = losses[:5].mean(), losses[-5:].mean()
        return "" if last < LOSS_MUST_FALL_TO * first else \
            f"loss went from {first:.3f} to {last:.3f} in {CIFAR_TRAIN_STEPS} steps; it must fall by 10%"
    return {
        "7.1": [judged("structure matches the handout (layers, sizes, parameters), out_dim=10", lambda: structure(10)),
                judged(f"structure with another out_dim ({out_dim})", lambda: structure(out_dim)),
                judged("probit = softmax(logit), shapes (N, out_dim)", softmax_and_shapes),
                judged("batch norm follows is_training (bool and tensor)", training_mode),
                judged("moving statistics change in training only", batch_norm_updates)],
        "7.2": [judged("RMSProp with learning rate 1e-3", optimizer),
                judged("mean cross-entropy of confident logits", loss_value),
                judged(f"loss falls over {CIFAR_TRAIN_STEPS} train steps", loss_falls)],
    }


# --------------------------------------------------------------------------- grading


def read_hidden_seed(paths):
    """The grader-only seed: ROOT/source/hidden_seed.txt (written by `make autograder`)."""
    try:
        with open(paths.hidden_seed) as stream:
            return int(stream.read().strip())
    except FileNotFoundError:
        raise GraderError(f"no hidden-case seed at {paths.hidden_seed}; build the autograder with `make autograder` "
                          "or pass --hidden-seed") from None
    except ValueError as error:
        raise GraderError(f"{paths.hidden_seed} must hold one integer ({error})") from None


def module_of(log_name):
    """The exercise module a log's script tests: evaluation_X.txt -> hw2_X."""
    return "hw2_" + log_name[len("evaluation_"):-len(".txt")]


def run_if_importable(box, kind, task, inputs, files, grading, module, timing_name):
    """(result, problem): the box task's result, or why there is none (the module did not import,
    checked once per module: a module that hangs or exits there costs its own exercises only)."""
    if module not in grading.imports:
        outcome = box.run("import", {"module": module}, {}, files)
        grading.seconds[f"import {module}"] = outcome.seconds
        problem = box_problem(outcome)
        grading.imports[module] = f"importing {module}.py: {problem}" if problem else ""
    if grading.imports[module]:
        return {}, grading.imports[module]
    outcome = box.run(kind, task, inputs, files)
    grading.seconds[timing_name] = outcome.seconds
    problem = box_problem(outcome)
    return ({} if problem else outcome.result), problem


def grade_part2(box, files, rng, grading, selected):
    """6.1-6.4: each exercise's hidden cases in a box of their own (a function that hangs costs only its exercise)."""
    if not selected & {exercise.number for exercise in EXERCISES if module_of(exercise.log) == "hw2_numpy"}:
        return   # nothing to build: the reference is not even imported
    import hw2_numpy   # the reference
    with quiet():
        built = hidden.part2_cases(hw2_numpy, rng)
    for number in sorted({case.exercise for case in built.cases} & selected):
        cases = [case for case in built.cases if case.exercise == number]
        keys = {value["array"] for case in cases for value in case.args if "array" in value}
        task = {"cases": [{"function": case.function, "args": case.args} for case in cases]}
        result, problem = run_if_importable(box, "numpy", task, {key: built.inputs[key] for key in keys}, files,
                                            grading, "hw2_numpy", f"{number} hidden cases")
        outputs = result.get("outputs", [])
        checks = grading.checks.setdefault(number, [])
        for index, case in enumerate(cases):
            if problem:
                checks.append((case.label, problem))
                continue
            returned = outputs[index] if isinstance(outputs, list) and index < len(outputs) else None
            checks.append(judged(case.label, lambda r=returned, c=case: c.judge(
                box_task.decode(entry({"output": r}, "output")))))


@contextlib.contextmanager
def quiet():
    """Keep what the reference prints (its exercise() banners) out of the grader's output."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def part_rng(hidden_seed, part):
    """The hidden inputs' stream of one part: the same whatever else is graded."""
    return np.random.default_rng([hidden_seed, zlib.crc32(part.encode())])


def grade_mnist(box, files, rng, grading):
    """5.1 and 5.2: the box describes and briefly trains the student's models on the grader's images;
    the expected structure is the reference's, described in this process."""
    import hw2_mnist   # the reference's
    with quiet():
        mnist_reference = box_task.describe_mnist(hw2_mnist)
    train_X, train_Y, eval_X, eval_Y = mnist_subsets(box.data_dir, rng)
    inputs = {"train_X": train_X, "train_Y": train_Y, "eval_X": eval_X}
    result, problem = run_if_importable(box, "mnist", {}, inputs, files, grading, "hw2_mnist", "Part I models")
    checks = mnist_checks(result, mnist_reference, eval_Y)
    for number, found in checks.items():
        grading.checks.setdefault(number, []).extend((label, problem or reason) for label, reason in found)


def grade_cifar(box, files, rng, grading):
    """7.1 and 7.2: the box observes the student's model, loss and optimizer on the grader's inputs,
    with an out_dim other than 10; the expected structure is the reference's."""
    import hw2_cifar   # the reference's
    out_dim = int(rng.choice([3, 5, 7, 12]))
    with quiet():
        cifar_reference = box_task.describe_cifar(hw2_cifar, [10, out_dim])
    val_X, val_Y = cifar_val_subset(box.data_dir, rng, CIFAR_TRAIN_STEPS * CIFAR_BATCH)
    images = val_X.astype(np.float32)
    images = (images - images.mean(axis=(0, 1, 2))) / images.std(axis=(0, 1, 2))
    eye = np.eye(out_dim, dtype=np.float32)
    inputs = {"images": rng.standard_normal((CIFAR_PROBE_IMAGES, 32, 32, 3)).astype(np.float32),
              "labels": eye[rng.integers(0, out_dim, CIFAR_PROBE_IMAGES)],
              "logits": (rng.standard_normal((CIFAR_PROBE_IMAGES, out_dim)) * 30).astype(np.float32),
              "logit_labels": eye[rng.integers(0, out_dim, CIFAR_PROBE_IMAGES)],
              "train_X": images.reshape(CIFAR_TRAIN_STEPS, CIFAR_BATCH, 32, 32, 3),
              "train_Y": np.eye(10, dtype=np.float32)[val_Y].reshape(CIFAR_TRAIN_STEPS, CIFAR_BATCH, 10)}
    result, problem = run_if_importable(box, "cifar", {"out_dim": out_dim, "out_dims": [10, out_dim]}, inputs, files,
                                        grading, "hw2_cifar", "7.1/7.2 models")
    checks = cifar_checks(result, cifar_reference, inputs, out_dim)
    for number, found in checks.items():
        grading.checks.setdefault(number, []).extend((label, problem or reason) for label, reason in found)


def grade_logs(box, files, grading, selected):
    """Gate every exercise on its public tests: OK in the submitted log and OK in a re-run of its script."""
    for log_name, script in submission.LOGS.items():
        covered = [exercise for exercise in EXERCISES if exercise.log == log_name and exercise.number in selected]
        if not covered:
            continue
        source = submission.read_project_file(script)
        expected_tests = submission.script_tests(source)
        test_class = next(node.name for node in ast.parse(source).body if isinstance(node, ast.ClassDef))
        submitted = submitted_log(log_name, files, expected_tests)
        if submitted.problem:   # nothing to compare: no need to run it again
            for exercise in covered:
                grading.gates[exercise.number] = submitted.problem
            continue
        task = {"script": os.path.splitext(os.path.basename(script))[0], "test_class": test_class,
                "tests": expected_tests}
        result, problem = run_if_importable(box, "public_tests", task, {}, files, grading, module_of(log_name),
                                            f"re-run of {log_name}")
        rerun = result.get("tests", {})
        for exercise in covered:
            reasons, notes = [], []
            for test in exercise.public_tests:
                outcome_submitted, printed = submitted.outcomes[test]
                again = rerun.get(test) if isinstance(rerun, dict) else None
                if outcome_submitted != "OK":
                    reasons.append(f"{test} is not OK in {log_name}")
                elif problem:
                    reasons.append(f"re-running {log_name}: {problem}")
                elif not isinstance(again, dict) or again.get("outcome") != "OK":
                    error = last_line(again.get("error", "")) if isinstance(again, dict) else "no outcome"
                    reasons.append(f"{test} fails when the grader re-runs your code ({error}); your log says OK")
                elif (difference := first_difference(printed, str(again.get("printed", "")))):
                    notes.append(f"{test} printed other numbers on the grader's CPU (information only): {difference}")
            grading.gates[exercise.number] = "; ".join(dict.fromkeys(reasons))
            grading.notes[exercise.number] = notes


def grade(paths, box, hidden_seed, selected=ALL_PARTS):
    """The results (a dict in Gradescope's format) of the submission under paths.root.

    selected: the exercise numbers to grade (all by default; a subset regrades only those, and
    the results then hold only their entries).
    """
    start = time.monotonic()
    files, read_problems = read_submission(paths.submission)
    grading = Grading()
    grade_part2(box, files, part_rng(hidden_seed, "part2"), grading, selected)
    if selected & {"5.1", "5.2"}:
        grade_mnist(box, files, part_rng(hidden_seed, "mnist"), grading)
    if selected & {"7.1", "7.2"}:
        grade_cifar(box, files, part_rng(hidden_seed, "cifar"), grading)
    grade_logs(box, files, grading, selected)
    tests = exercise_entries(grading, read_problems, selected)
    leaderboard = []
    if "7.3" in selected:
        own_model, leaderboard = own_model_entries(files, paths.labels)
        tests += own_model
    if selected == ALL_PARTS:
        tests += [test_entry(f"{number} {title} (graded by hand)", number, 0, 0, f"worth {points} points, "
                             "graded by the course staff") for number, title, points in MANUAL]
    score = round(sum(test["score"] for test in tests), 4)
    timing = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in grading.seconds.items())
    return {"score": score, "execution_time": round(time.monotonic() - start),
            "output": f"Auto-graded: {score:g} of {MAX_SCORE:g} points." +
                      (" Problems reading the upload: " + "; ".join(read_problems) if read_problems else ""),
            "stdout_visibility": "hidden", "tests": tests, "leaderboard": leaderboard,
            "extra_data": {"seconds": grading.seconds, "timing": timing, "read_problems": read_problems}}


def check_data(data_dir):
    """GraderError naming what data_dir (the folder the box reads too) lacks."""
    import hw2_utils
    needed = [hw2_utils.MNIST_FILE] + [os.path.join(hw2_utils.CIFAR_FOLDER, name) for name in hw2_utils.cifar_files()]
    missing = [name for name in needed if not os.path.isfile(os.path.join(data_dir, name))]
    if missing:
        raise GraderError(f"{data_dir} lacks {', '.join(missing)}: build the data there with "
                          f"HW2_DATA_OUT={data_dir} ./get_dataset.sh (and point HW2_DATA_DIR at it)")


def mnist_subsets(data_dir, rng):
    """(train X, train Y, held-out X, held-out Y) drawn from MNIST's train and test splits, read by the
    reference's loader; only the subsets stay in memory."""
    import hw2_utils
    train, _, test = hw2_utils.load_mnist(data_dir)
    chosen_train = rng.choice(len(train.X), MNIST_TRAIN_IMAGES, replace=False)
    chosen_eval = rng.choice(len(test.X), MNIST_EVAL_IMAGES, replace=False)
    return (train.X[chosen_train].reshape(-1, 28, 28, 1), train.Y[chosen_train],
            test.X[chosen_eval].reshape(-1, 28, 28, 1), test.Y[chosen_eval])


def cifar_val_subset(data_dir, rng, count):
    """`count` images and labels drawn from CIFAR-10-739's val split."""
    import hw2_utils
    folder = os.path.join(data_dir, hw2_utils.CIFAR_FOLDER)
    val_X = np.load(os.path.join(folder, "val_X.npy"), allow_pickle=False, mmap_mode="r")
    val_Y = np.load(os.path.join(folder, "val_y.npy"), allow_pickle=False)
    chosen = rng.choice(len(val_Y), count, replace=False)
    return np.asarray(val_X[chosen]), val_Y[chosen]


def grade_root(paths, hidden_seed=None, user=None, selected=ALL_PARTS, budgets=None, threads=None):
    """Grade paths.root and write paths.results; returns the results. Never raises: a failing grader
    writes score 0 with a message for the student and its traceback on stdout (for the staff).

    user: the unprivileged user student code runs as when we are root (default: a uid of this
    grading's own, `sandbox.reserve_identity`); budgets: the box's limits per task kind (default BUDGETS);
    threads: what each box task's TensorFlow and numpy may use (default: every core)."""
    start = time.monotonic()
    try:
        seed = read_hidden_seed(paths) if hidden_seed is None else hidden_seed
        data_dir = os.path.abspath(os.environ.get("HW2_DATA_DIR") or os.path.join(PROJECT, "data"))
        runs_student_code = bool(selected - {"7.3"})   # 7.3 alone reads only the CSV
        if runs_student_code:   # (checking the box starts an interpreter)
            check_data(data_dir)
        identity = None if not sandbox.is_root() else \
            sandbox.named_identity(user) if user else sandbox.default_identity()
        box = Box(sys.executable, data_dir, identity, dict(budgets or BUDGETS), threads)
        if runs_student_code:
            box.check()
        isolated = sandbox.is_root() and sandbox.namespaces_available()
        print(f"grading as {'root: student code runs as ' + identity.name if identity else 'a plain user'}; "
              f"network and mount namespaces: {'yes' if isolated else 'not available here'}; "
              f"threads per box: {threads or 'every core'}")
        results = grade(paths, box, seed, selected)
        results["extra_data"]["namespaces"] = isolated
    except BaseException:   # the one place that must survive anything: results.json is always written
        traceback.print_exc(file=sys.stdout)
        results = failure_results(start)
    os.makedirs(os.path.dirname(paths.results), exist_ok=True)
    atomic_write_text(paths.results, json.dumps(results, indent=1) + "\n")
    return results


def temporary_root(upload, labels):
    """A grading root like Gradescope's (private to this user) holding the upload (a zip, or a folder
    whose top-level files are copied as a student's uploaded files) and the labels."""
    root = tempfile.mkdtemp(prefix="hw2-grade-")
    paths = Paths.under(root)
    os.makedirs(paths.submission)
    os.makedirs(paths.source)
    if os.path.isdir(upload):
        for name in os.listdir(upload):
            if os.path.isfile(os.path.join(upload, name)) and not os.path.islink(os.path.join(upload, name)):
                shutil.copyfile(os.path.join(upload, name), os.path.join(paths.submission, name))
    else:
        shutil.copyfile(upload, os.path.join(paths.submission, os.path.basename(upload)))
    if labels:
        shutil.copyfile(labels, paths.labels)
    return paths


def positive_count(text):
    """argparse type: a whole number of at least 1."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zip", nargs="?", help="grade this zip (or a folder of uploaded files) in a temporary root "
                        "(default: grade $AUTOGRADER_ROOT)")
    parser.add_argument("--labels", help="private_test_y.npy (without it 7.3 scores 0 and says why)")
    parser.add_argument("--results", help="where to copy results.json (default ROOT/results/results.json)")
    parser.add_argument("--hidden-seed", type=int, help="the hidden cases' seed (default ROOT/source/hidden_seed.txt; "
                        "a fresh random one for a zip)")
    parser.add_argument("--user", help="the unprivileged user student code runs as when root (default: a uid no "
                        "other program or grading uses, reserved for this grading)")
    parser.add_argument("--only", help=f"grade only these parts, e.g. 6.1,6.2,7.3 (of {', '.join(sorted(ALL_PARTS))})")
    parser.add_argument("--threads", type=positive_count, help="threads each box's TensorFlow and numpy may use "
                        "(default: every core; where gradings share a machine, its cores divided among them)")
    args = parser.parse_args(argv)
    selected = ALL_PARTS if not args.only else frozenset(part.strip() for part in args.only.split(","))
    if not selected <= ALL_PARTS:
        parser.error(f"--only: no such part {', '.join(sorted(selected - ALL_PARTS))}; "
                     f"the parts are {', '.join(sorted(ALL_PARTS))}")
    if args.zip is None:
        paths = Paths.under(os.environ.get("AUTOGRADER_ROOT", DEFAULT_ROOT))
        results = grade_root(paths, args.hidden_seed, args.user, selected, threads=args.threads)
    else:
        if not os.path.exists(args.zip):
            parser.error(f"no such file: {args.zip}")
        if args.labels and not os.path.isfile(args.labels):
            parser.error(f"no such labels file: {args.labels}")
        seed = args.hidden_seed if args.hidden_seed is not None else int.from_bytes(os.urandom(4), "little")
        print(f"hidden-case seed {seed} (--hidden-seed {seed} grades with the same cases)")
        paths = temporary_root(args.zip, args.labels)
        try:
            results = grade_root(paths, seed, args.user, selected, threads=args.threads)
            if args.results:
                os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
                atomic_write_text(args.results, json.dumps(results, indent=1) + "\n")
        finally:
            shutil.rmtree(paths.root, ignore_errors=True)
    print_table(results)
    return 0 if results["tests"] else 1


if __name__ == "__main__":
    sys.exit(main())
