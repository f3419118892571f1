"""What the own model computes in: float32, or bfloat16 / float16 mixed precision (float32 weights).

    precision, reason = choose("auto")        # bfloat16 on a CPU with bf16 instructions, ...
    with policy(precision):
        model = build_model(...)              # its layers compute in that precision
    gradients = gradients(loss, weights, precision)

"auto" takes float16 where TensorFlow sees a GPU (its tensor cores), bfloat16 on a CPU
with bf16 matrix instructions (AVX512_BF16 or AMX: oneDNN runs bf16 convolutions there at
up to twice float32's rate) and float32 elsewhere, where 16-bit arithmetic is emulated
and slower than float32. Mixed precision keeps every variable, the loss and the logits
in float32 (Keras' mixed policies); only the layers' arithmetic is 16-bit.
"""
import contextlib
import os

PRECISIONS = ("auto", "float32", "bfloat16", "float16")
KERAS_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
# float16 gradients below 2^-24 flush to zero; the loss (a mean over the batch) is multiplied
# by this before differentiating and the gradients divided by it after, so that the small
# gradients of a large batch stay representable. Its logits stay far below float16's 65504.
FLOAT16_LOSS_SCALE = 1024.0


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The instruction-set flags of the first CPU in `cpuinfo` (a set; empty where there is none)."""
    try:
        with open(cpuinfo) as stream:
            for line in stream:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


def machine_description(cpuinfo="/proc/cpuinfo"):
    """'CPU model, N cores, flags: ...' (the flags that decide the precision and its speed), for
    printing next to measured times."""
    model = "unknown CPU"
    try:
        with open(cpuinfo) as stream:
            model = next((line.partition(":")[2].strip() for line in stream if line.startswith("model name")), model)
    except OSError:
        pass
    flags = sorted(set(BF16_CPU_FLAGS + ("avx2", "avx512f", "avx512_vnni", "amx_tile")) & cpu_flags(cpuinfo))
    return f"{model}, {os.cpu_count()} cores, flags: {' '.join(flags) or 'none of avx2, avx512, amx'}"


def choose(requested="auto", flags=None, has_gpu=None):
    """(precision, reason): the precision `requested` resolves to here, and why, in words.

    requested: one of PRECISIONS; flags: the CPU's (default `cpu_flags()`);
    has_gpu: whether TensorFlow sees a GPU (default: ask it). A 16-bit precision
    forced where the hardware has no fast path is kept, with the reason saying so.
    """
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {requested!r}")
    flags = cpu_flags() if flags is None else set(flags)
    if has_gpu is None:
        import tensorflow as tf
        has_gpu = bool(tf.config.list_physical_devices("GPU"))
    bf16_flags = sorted(set(BF16_CPU_FLAGS) & flags)
    if requested == "auto":
        if has_gpu:
            return "float16", "auto: a GPU is visible (float16 mixed precision)"
        if bf16_flags:
            return "bfloat16", f"auto: the CPU has {', '.join(bf16_flags)} (bfloat16 mixed precision)"
        return "float32", "auto: no GPU and no bf16 instructions on the CPU"
    slow = (requested == "bfloat16" and not has_gpu and not bf16_flags
            or requested == "float16" and not has_gpu)
    return requested, "forced" + ("; no fast path for it on this machine: expect it slower than float32" if slow else "")


@contextlib.contextmanager
def policy(precision):
    """Keras layers created inside compute in `precision` (their variables stay float32)."""
    import tensorflow as tf
    previous = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy(KERAS_POLICIES[precision])
    try:
        yield
    finally:
        tf.keras.mixed_precision.set_global_policy(previous)


def gradients(loss, weights, precision):
    """Gradients of the float32 scalar `loss` for `weights`, in their float32; with float16, through
    FLOAT16_LOSS_SCALE (the result is the same gradient, scaled back)."""
    import tensorflow as tf
    if precision != "float16":
        return tf.gradients(loss, weights)
    scaled = tf.gradients(loss * FLOAT16_LOSS_SCALE, weights)
    return [gradient / FLOAT16_LOSS_SCALE for gradient in scaled]


def matmul_dtype(precision):
    """The dtype of the optimizer's own matrix products (Muon's orthogonalization) in `precision`."""
    import tensorflow as tf
    return {"float32": tf.float32, "bfloat16": tf.bfloat16, "float16": tf.float16}[precision]
