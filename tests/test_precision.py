"""hw2_precision: which precision `auto` picks, and the own model computing in bfloat16 / float16."""
import numpy as np
import pytest
import tensorflow as tf

import hw2_precision
from test_my_model import random_feed, tiny_graph


@pytest.mark.parametrize("requested, flags, gpu, expected", [
    ("auto", {"avx2", "avx512f"}, False, "float32"),
    ("auto", {"avx512f", "avx512_bf16"}, False, "bfloat16"),
    ("auto", {"amx_tile", "amx_bf16"}, False, "bfloat16"),
    ("auto", {"avx512_bf16"}, True, "float16"),         # a GPU wins over the CPU's bf16
    ("float32", {"avx512_bf16"}, True, "float32"),      # forcing is obeyed
    ("bfloat16", set(), False, "bfloat16"),
])
def test_choose(requested, flags, gpu, expected):
    precision, reason = hw2_precision.choose(requested, flags, gpu)
    assert precision == expected
    assert reason.startswith("auto" if requested == "auto" else "forced")
    slow = requested == "bfloat16" and not flags & set(hw2_precision.BF16_CPU_FLAGS)
    assert ("expect it slower" in reason) == slow, reason


def test_choose_refuses_an_unknown_precision_by_name():
    with pytest.raises(ValueError, match="one of auto, float32, bfloat16, float16.*'fp8'"):
        hw2_precision.choose("fp8", set(), False)


def test_cpu_flags_reads_the_first_flags_line(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert hw2_precision.cpu_flags(str(cpuinfo)) == {"fpu", "avx512f", "avx512_bf16"}
    assert hw2_precision.cpu_flags(str(tmp_path / "missing")) == set()


@pytest.mark.parametrize("precision, compute", [("bfloat16", tf.bfloat16), ("float16", tf.float16)])
def test_mixed_precision_computes_in_16_bits_and_keeps_float32_weights(precision, compute):
    """The layers compute in 16 bits; weights, logits and loss stay float32; the first step's loss
    is float32's to within 16-bit rounding; a few steps train (finite, falling loss); and the Keras
    policy outside the model is left as it was."""
    before = tf.keras.mixed_precision.global_policy().name
    reference = tiny_graph("fast", batch_size=16, precision="float32")
    parts = tiny_graph("fast", batch_size=16, precision=precision)
    assert tf.keras.mixed_precision.global_policy().name == before
    model = parts["model"]
    assert model.get_layer("conv1a").compute_dtype == compute.name
    assert {w.dtype.base_dtype for w in model.weights} == {tf.float32}
    assert parts["loss"].dtype == tf.float32 and model.output.dtype == tf.float32
    feed = random_feed(parts, 7, n=16)
    # Same initial weights: the graphs are seeded alike and built alike.
    for ours, theirs in zip(parts["session"].run(model.weights), reference["session"].run(reference["model"].weights)):
        np.testing.assert_array_equal(ours, theirs)
    exact = reference["session"].run(reference["loss"], {reference[k]: v for k, v in
                                                          ((name, feed[parts[name]]) for name in ("X", "labels"))})
    losses = [parts["session"].run([parts["train_op"], parts["loss"]], feed)[1] for _ in range(8)]
    assert abs(losses[0] - exact) < 0.02 * exact, (losses[0], exact)
    assert np.all(np.isfinite(losses)) and np.mean(losses[-2:]) < np.mean(losses[:2]), losses
    reference["session"].close()
    parts["session"].close()
