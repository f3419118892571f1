"""The one program the autograder runs inside the box: it imports the student's code, runs one task,
and writes what it saw to result.json. Nothing here decides a score.

    python box_task.py CODE_DIR        (in the task's folder: reads task.json and inputs.npz)

Tasks (task.json's "kind"):
- "import": import one module (a module that hangs, exits or fails here costs only its own exercises).
- "numpy": call each Part II function on the grader's hidden inputs; return the outputs.
- "mnist": describe both MNIST models, train each briefly on the grader's images, return the
  predicted probabilities of the grader's held-out images.
- "cifar": describe the 7.1 model for each out_dim, run it on the grader's images in every
  is_training mode, watch the batch-norm statistics, report the 7.2 optimizer, the loss of the
  grader's logits and the losses of a short training.
- "public_tests": run the tests of a public test script one by one; return each outcome and what
  it printed.
Every check is wrapped on its own: one broken function costs only its own entries. The grader
trusts none of this: it recomputes what it can (the reference's outputs, softmax, accuracy,
statistics) and treats what it cannot as the student's claim. The same description functions run
on the reference, in the grader's own process, to give the expected structure.
"""
import base64
import contextlib
import ctypes
import importlib
import io
import json
import os
import signal
import sys
import time
import traceback
import unittest

import numpy as np

ERROR_CHARS = 2000   # of a traceback kept for the student
check_seconds = 60   # each check's time limit; task.json's "check_seconds" sets it
sole_user = False    # task.json's "sole_user": this user runs nothing but this task (the grader is root)
PR_SET_CHILD_SUBREAPER = 36


class CheckTimeout(Exception):
    """A check ran past its time limit (raised by SIGALRM inside the student's code)."""


def encode(array):
    """A JSON-safe exact copy of a numeric array: dtype, shape and base64 of its bytes."""
    array = np.asarray(array)   # not ascontiguousarray: it turns a 0-d array into shape (1,)
    return {"dtype": array.dtype.str, "shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode()}


def decode(value, max_elements=2 ** 24):
    """The array `encode` wrote, or ValueError naming what is wrong (kind, size, dtype, length)."""
    if not isinstance(value, dict) or set(value) != {"dtype", "shape", "data"}:
        raise ValueError("not an encoded array")
    dtype = np.dtype(value["dtype"]) if isinstance(value["dtype"], str) else None
    if dtype is None or dtype.kind not in "fiub" or dtype.itemsize > 8:
        raise ValueError(f"not a real-number dtype: {value['dtype']!r}")
    shape = value["shape"]
    if not (isinstance(shape, list) and len(shape) <= 8
            and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape)):
        raise ValueError(f"not a shape: {shape!r}")
    count = int(np.prod(shape, dtype=np.int64))
    if count > max_elements or not isinstance(value["data"], str):
        raise ValueError(f"too large: {count} elements")
    data = base64.b64decode(value["data"], validate=True)
    if len(data) != count * dtype.itemsize:
        raise ValueError(f"{len(data)} bytes for shape {shape} of {dtype}")
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def error_text():
    return traceback.format_exc()[-ERROR_CHARS:]


# A check past its limit is told again this often until the exception escapes: one raised where
# Python ignores it (a callback run at fork, a __del__) is lost. Code that forks without pause spends
# most of its time in such callbacks (logging's locks), and each repeat is another chance to land
# outside them, so the repeats are frequent: the check ends close to its limit, not a minute later.
ALARM_REPEAT_SECONDS = 0.1


@contextlib.contextmanager
def time_limit(seconds):
    """Raise CheckTimeout in whatever Python code runs after `seconds`: a check that hangs fails
    alone, and the task goes on to the next (the box's wall clock still bounds the whole task)."""
    armed = [True]

    def expire(signum, frame):
        if armed[0]:   # not once the limit is being lifted: an alarm on its way must not break that
            raise CheckTimeout(f"stopped after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, ALARM_REPEAT_SECONDS)
    try:
        yield
    finally:
        armed[0] = False   # first: storing it gives Python no point at which to run a handler
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        stop_strays()


def stop_strays(seconds=10.0):
    """Kill and reap every other process of this user: what a check forked and left running (a fork
    bomb's children would otherwise starve the checks after it, and their zombies fill the process
    limit). Only when this user runs nothing but this task."""
    if not sole_user:
        return
    me, uid, deadline = os.getpid(), os.getuid(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        others = []
        for entry in os.listdir("/proc"):
            try:
                if entry.isdigit() and int(entry) != me and os.stat(f"/proc/{entry}").st_uid == uid:
                    others.append(int(entry))
                    os.kill(int(entry), signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        if not others:
            return
        time.sleep(0.01)


def attempt(function, *args):
    """{"value": function(*args)} or {"error": the traceback's tail}: one check's failure stays its own."""
    try:
        with time_limit(check_seconds):
            return {"value": function(*args)}
    except BaseException:   # SystemExit and KeyboardInterrupt too: student code may raise anything
        return {"error": error_text()}


# --------------------------------------------------------------------------- descriptions (also run on the reference)

LAYER_KEYS = ("filters", "kernel_size", "strides", "padding", "pool_size", "rate", "units", "activation", "axis",
              "use_bias")


def describe_layer(layer):
    """Class name and the configuration entries that define a layer's computation (JSON-safe)."""
    config = layer.get_config()
    described = {"class": type(layer).__name__}
    for key in LAYER_KEYS:
        if key in config:
            value = config[key]
            described[key] = list(value) if isinstance(value, (tuple, list)) else value
    return described


def describe_model(model):
    """Layers in order, input and output shapes, trainable and non-trainable parameter counts."""
    def count(weights):
        return int(sum(np.prod(weight.shape.as_list()) for weight in weights))
    outputs = model.outputs
    return {"layers": [describe_layer(layer) for layer in model.layers],
            "input_shape": list(model.inputs[0].shape.as_list()),
            "output_shapes": [output.shape.as_list() for output in outputs],
            "trainable": count(model.trainable_weights), "non_trainable": count(model.non_trainable_weights)}


def describe_mnist(hw2_mnist):
    """{model number: description or error} of build_model_mnist1 and build_model_mnist2."""
    import tensorflow as tf
    described = {}
    for number in (1, 2):
        with tf.Graph().as_default():
            described[str(number)] = attempt(lambda: describe_model(getattr(hw2_mnist, f"build_model_mnist{number}")()))
    return described


def describe_cifar(hw2_cifar, out_dims):
    """Per out_dim: the 7.1 model's description, how many batch-norm updates build_model registers in
    UPDATE_OPS, and the 7.2 optimizer's class names and learning rate."""
    import tensorflow as tf

    def one(out_dim):
        with tf.Graph().as_default():
            X = tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3))
            described = describe_model(hw2_cifar.build_keras_model(X, out_dim))
        with tf.Graph().as_default():
            X = tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3))
            Y = tf.compat.v1.placeholder(tf.float32, (None, out_dim))
            logit, _ = hw2_cifar.build_model(X, out_dim, tf.compat.v1.placeholder_with_default(False, ()))
            _, optimizer = hw2_cifar.build_loss_optimizer(Y, logit)
            described["update_ops"] = len(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS))
            described["optimizer"] = [klass.__name__ for klass in type(optimizer).__mro__]
            rate = getattr(optimizer, "_learning_rate", None)
            described["learning_rate"] = float(rate) if isinstance(rate, (int, float)) else None
        return described
    return {str(out_dim): attempt(one, out_dim) for out_dim in out_dims}


# --------------------------------------------------------------------------- tasks

def numpy_task(task, inputs):
    """Outputs of the student's Part II functions on the grader's cases (each its own entry)."""
    import hw2_numpy
    outputs, out_of_time = [], set()
    for case in task["cases"]:
        if case["function"] in out_of_time:
            outputs.append({"error": f"not run: an earlier call of {case['function']} ran past its time limit"})
            continue
        arguments = [inputs[value["array"]] if "array" in value else value["value"] for value in case["args"]]
        result = attempt(lambda: getattr(hw2_numpy, case["function"])(*arguments))
        if "value" in result:
            result = attempt(lambda: encode(np.asarray(result["value"])))
        elif CheckTimeout.__name__ in result["error"]:
            out_of_time.add(case["function"])
        outputs.append(result)
    return {"outputs": outputs}


def mnist_task(task, inputs):
    """Descriptions of both models, then each trained on the grader's images and run on its held-out ones."""
    import tensorflow as tf
    import hw2_mnist
    result = {"describe": describe_mnist(hw2_mnist)}

    def train_and_predict(number):
        with tf.Graph().as_default():
            model = getattr(hw2_mnist, f"build_model_mnist{number}")()
            model = getattr(hw2_mnist, f"train_model_mnist{number}")(model, inputs["train_X"], inputs["train_Y"])
            return encode(np.asarray(model.predict(inputs["eval_X"], batch_size=500, verbose=0), np.float32))
    result["probabilities"] = {str(number): attempt(train_and_predict, number) for number in (1, 2)}
    return result


def cifar_task(task, inputs):
    """The 7.1 model and 7.2 loss/optimizer, observed on the grader's inputs."""
    import tensorflow as tf
    import hw2_cifar
    out_dim, images = task["out_dim"], inputs["images"]
    update_ops = tf.compat.v1.GraphKeys.UPDATE_OPS
    result = {"describe": describe_cifar(hw2_cifar, task["out_dims"])}

    def session(graph):
        session = tf.compat.v1.Session(graph=graph)
        session.run(tf.compat.v1.global_variables_initializer())
        return session

    def outputs_by_mode():
        """Per mode: logits and probits of the batch, and the probits of its first image run alone."""
        observed = {}
        for mode in ("true", "false", "flag_false", "flag_true"):
            with tf.Graph().as_default() as graph:
                X = tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3))
                flag = tf.compat.v1.placeholder_with_default(False, ())
                is_training = {"true": True, "false": False}.get(mode, flag)
                logit, probit = hw2_cifar.build_model(X, out_dim, is_training)
                feed = {flag: True} if mode == "flag_true" else {}
                with session(graph) as running:
                    logits, probits = running.run([logit, probit], {X: images, **feed})
                    alone = running.run(probit, {X: images[:1], **feed})
            observed[mode] = {"logits": encode(logits), "probits": encode(probits), "alone": encode(alone)}
        return observed

    def train_graph(classes):
        """The public tests' training recipe in a new graph: the 7.1 model, the 7.2 loss and a train
        step that runs the UPDATE_OPS; returns its tensors by name."""
        graph = tf.Graph()
        with graph.as_default():
            X = tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3))
            Y = tf.compat.v1.placeholder(tf.float32, (None, classes))
            is_training = tf.compat.v1.placeholder_with_default(False, ())
            logit, probit = hw2_cifar.build_model(X, classes, is_training)
            mean_loss, optimizer = hw2_cifar.build_loss_optimizer(Y, logit)
            with tf.control_dependencies(tf.compat.v1.get_collection(update_ops)):
                train_step = optimizer.minimize(mean_loss)
            moving = [v for v in tf.compat.v1.global_variables() if "moving_" in v.name]
        return dict(graph=graph, X=X, Y=Y, is_training=is_training, probit=probit, mean_loss=mean_loss,
                    train_step=train_step, moving=moving)

    def batch_norm_statistics():
        """The moving statistics before, after an inference run and after one train step."""
        t = train_graph(out_dim)
        moving = t["moving"]
        with t["graph"].as_default(), session(t["graph"]) as running:
            before = running.run(moving)
            running.run(t["probit"], {t["X"]: images})
            after_inference = running.run(moving)
            running.run(t["train_step"], {t["X"]: images, t["Y"]: inputs["labels"], t["is_training"]: True})
            after_training = running.run(moving)

        def change(values):
            return max((float(np.max(np.abs(a - b))) for a, b in zip(values, before)), default=0.0)
        return {"variables": len(moving), "inference_change": change(after_inference),
                "training_change": change(after_training)}

    def loss_of_logits():
        with tf.Graph().as_default() as graph:
            Y = tf.compat.v1.placeholder(tf.float32, (None, out_dim))
            logit = tf.compat.v1.placeholder(tf.float32, (None, out_dim))
            mean_loss, _ = hw2_cifar.build_loss_optimizer(Y, logit)
            with session(graph) as running:
                return float(running.run(mean_loss, {logit: inputs["logits"], Y: inputs["logit_labels"]}))

    def training_losses():
        """Losses of consecutive train steps on the grader's batches (the public test's recipe)."""
        batches_X, batches_Y = inputs["train_X"], inputs["train_Y"]
        t = train_graph(batches_Y.shape[-1])
        with t["graph"].as_default(), session(t["graph"]) as running:
            return [float(running.run([t["train_step"], t["mean_loss"]], {t["X"]: x, t["Y"]: y,
                                                                           t["is_training"]: True})[1])
                    for x, y in zip(batches_X, batches_Y)]

    for name, check in (("modes", outputs_by_mode), ("batch_norm", batch_norm_statistics),
                        ("loss", loss_of_logits), ("training_losses", training_losses)):
        result[name] = attempt(check)
    return result


def public_tests_task(task, inputs):
    """Run each named test of a public test script in order, as its log would; outcome and printed text of each."""
    tests_dir = os.path.abspath("tests")
    sys.path.insert(1, tests_dir)
    module = importlib.import_module(task["script"])
    test_class = getattr(module, task["test_class"])
    outcomes = {}
    for name in task["tests"]:
        printed = io.StringIO()
        result = unittest.TestResult()
        with contextlib.redirect_stdout(printed):
            try:
                with time_limit(check_seconds):
                    test_class(name).run(result)
                # skipped (unittest.SkipTest raised by the student's code) is no pass, as in the log
                problems = result.failures + result.errors + [(test, f"skipped: {reason}")
                                                              for test, reason in result.skipped]
                error = problems[0][1][-ERROR_CHARS:] if problems else ""
            except BaseException:
                error = error_text()
        outcomes[name] = {"outcome": "FAIL" if error else "OK", "printed": printed.getvalue()[-ERROR_CHARS:],
                          "error": error}
    return {"tests": outcomes}


def import_task(task, inputs):
    """Import one module of the student's: does it import at all, in time, without leaving?"""
    importlib.import_module(task["module"])
    return {"imported": task["module"]}


TASKS = {"import": import_task, "numpy": numpy_task, "mnist": mnist_task, "cifar": cifar_task,
         "public_tests": public_tests_task}


def main(code_dir):
    global check_seconds, sole_user
    with open("task.json") as stream:
        task = json.load(stream)
    check_seconds = int(task.get("check_seconds", check_seconds))
    sole_user = bool(task.get("sole_user"))
    if sole_user:   # orphans of what the student's code forks are ours to reap (stop_strays)
        ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    inputs = dict(np.load("inputs.npz", allow_pickle=False)) if os.path.exists("inputs.npz") else {}
    sys.path.insert(0, os.path.abspath(code_dir))
    try:
        result = TASKS[task["kind"]](task, inputs)
    except BaseException:
        result = {"task_error": error_text()}
    with open("result.json", "w") as stream:
        json.dump(result, stream)


if __name__ == "__main__":
    main(sys.argv[1])
