"""What a submission scores, as Gradescope shows it: the auto-graded exercises in handout order, their points, and
each test entry of results.json (https://gradescope-autograders.readthedocs.io, "Output format")."""
import dataclasses
import sys
import time

import numpy as np

from autograder.intake import load_labels, read_predictions


CONTACT = "The autograder itself failed on this submission; please contact the course staff (this is not your fault)."



@dataclasses.dataclass(frozen=True)
class Exercise:
    """An auto-graded exercise: its handout number, title, points, log and the public tests covering it."""
    number: str
    title: str
    points: float
    log: str
    public_tests: tuple



EXERCISES = (
    Exercise("5.1", "MNIST model 1", 3, "evaluation_mnist.txt", ("test_model1_structure", "test_model1_accuracy")),
    Exercise("5.2", "MNIST model 2 (your own)", 5, "evaluation_mnist.txt",
             ("test_model2_accuracy", "test_model2_better_than_model1")),
    Exercise("6.1", "convolution", 5, "evaluation_numpy.txt",
             ("test_convolution_small", "test_convolution_random", "test_convolution_float32",
              "test_grayscale_filter")),
    Exercise("6.2", "relu", 2, "evaluation_numpy.txt", ("test_relu",)),
    Exercise("6.3", "max-pool", 3, "evaluation_numpy.txt", ("test_max_pool",)),
    Exercise("6.4", "dropout", 2, "evaluation_numpy.txt", ("test_dropout_train", "test_dropout_test")),
    Exercise("7.1", "CIFAR-10 model", 2, "evaluation_cifar.txt",
             ("test_structure", "test_probit_is_softmax_of_logit", "test_is_training_bool_and_tensor",
              "test_batchnorm_moving_statistics_update_in_training_only", "test_one_epoch_public_test_accuracy")),
    Exercise("7.2", "loss and optimizer", 2, "evaluation_cifar.txt",
             ("test_batchnorm_moving_statistics_update_in_training_only", "test_loss_and_optimizer",
              "test_loss_falls_on_val_set", "test_one_epoch_public_test_accuracy")),
)



OWN_MODEL_TIERS = ((0.83, 10), (0.80, 8), (0.75, 5), (0.70, 3))   # (private-test accuracy at least, points)



MANUAL = (("5.3", "written answers", 7), ("7.3", "own model: report", 2), ("7.3", "own model: implementation", 4))



MAX_SCORE = sum(exercise.points for exercise in EXERCISES) + OWN_MODEL_TIERS[0][1]



@dataclasses.dataclass
class Grading:
    """What grading found: per exercise its checks [(label, reason)], the logs' gate, the notes."""
    checks: dict = dataclasses.field(default_factory=dict)
    gates: dict = dataclasses.field(default_factory=dict)       # exercise -> "" or why its log does not count
    notes: dict = dataclasses.field(default_factory=dict)       # exercise -> [information lines]
    seconds: dict = dataclasses.field(default_factory=dict)     # box task -> seconds
    imports: dict = dataclasses.field(default_factory=dict)     # module -> "" or why it does not import



def test_entry(name, number, score, max_score, output, visibility="visible"):
    return {"name": name, "number": number, "score": score, "max_score": max_score,
            "status": "passed" if score >= max_score else "failed", "output": output, "visibility": visibility}



def exercise_entries(grading, read_problems, selected):
    entries = []
    for exercise in (exercise for exercise in EXERCISES if exercise.number in selected):
        checks = grading.checks.get(exercise.number, [])
        passed = sum(1 for _, reason in checks if not reason)
        gate = grading.gates.get(exercise.number, "")
        score = 0 if gate or not checks else round(exercise.points * passed / len(checks), 4)
        lines = [f"{passed}/{len(checks)} checks passed"]
        lines += [f"FAILED: {label}: {reason}" for label, reason in checks if reason]
        if gate:
            lines.insert(0, f"0 points: the log does not back this exercise: {gate}")
        lines += grading.notes.get(exercise.number, [])
        if read_problems and (gate or passed < len(checks)):
            lines.append("problems reading the upload: " + "; ".join(read_problems))
        entries.append(test_entry(f"{exercise.number} {exercise.title}", exercise.number, score, exercise.points,
                                  "\n".join(lines)))
    return entries



ALL_PARTS = frozenset([exercise.number for exercise in EXERCISES] + ["7.3"])



def own_model_entries(files, labels_path):
    """The 7.3 entries: tier points (visible at once), exact accuracy (after the due date), leaderboard."""
    name = "7.3 own model: private-test accuracy"
    tier_text = ", ".join(f">= {low:.0%}: {points}" for low, points in reversed(OWN_MODEL_TIERS))
    if "submission.csv" not in files:
        return [test_entry(name, "7.3", 0, OWN_MODEL_TIERS[0][1], "submission.csv is missing from the submission")], []
    predictions, problem = read_predictions(files["submission.csv"])
    if problem:
        return [test_entry(name, "7.3", 0, OWN_MODEL_TIERS[0][1], problem)], []
    labels = load_labels(labels_path)
    if labels is None:
        return [test_entry(name, "7.3", 0, OWN_MODEL_TIERS[0][1],
                           "the private labels are not available to this grader, so 7.3 is not scored "
                           "(course staff: pass --labels or build the autograder with LABELS=...)")], []
    accuracy = float(np.mean(predictions == labels))
    points = next((points for low, points in OWN_MODEL_TIERS if accuracy >= low), 0)
    reached = next((f"the {low:.0%} tier" for low, p in OWN_MODEL_TIERS if accuracy >= low), "no tier")
    return ([test_entry(name, "7.3", points, OWN_MODEL_TIERS[0][1], f"reached {reached} ({tier_text})"),
             test_entry("7.3 own model: exact private-test accuracy", "7.3", 0, 0, f"{accuracy:.4f}",
                        visibility="after_due_date")],
            [{"name": "Private-test accuracy", "value": round(accuracy, 4), "order": "desc"}])



def failure_results(start):
    return {"score": 0, "execution_time": round(time.monotonic() - start), "output": CONTACT,
            "stdout_visibility": "hidden", "tests": []}



def print_table(results, out=None):
    """One row per test: name, points, status, the first line of its output; to `out` (default: sys.stdout
    as it is when called)."""
    out = out or sys.stdout
    rows = [(test["name"], f"{test['score']:g}/{test['max_score']:g}", test["status"],
             (test.get("output") or "").splitlines()[0] if test.get("output") else "") for test in results["tests"]]
    width = max([len(row[0]) for row in rows] + [4])
    for name, points, status, reason in rows:
        print(f"{name:<{width}}  {points:>7}  {status:<6}  {reason[:100]}", file=out)
    most = sum(test["max_score"] for test in results["tests"]) or MAX_SCORE
    print(f"{'total':<{width}}  {results['score']:g}/{most:g}  ({results['execution_time']} s)", file=out)

