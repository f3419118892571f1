"""The own model's accurate network and optimizer in PyTorch: images per second of its training step.

    .venv-bench/bin/python bench/torch_step.py --precision bfloat16 --batch-size 2000 --out step.json

Run by bench/bench_vs_pytorch.py in its own venv (`make bench-pytorch` makes it): PyTorch is
never a dependency of the project. The network is hw2_cifar_my_model's "accurate" one, written
here for PyTorch the way airbench94_muon writes it (channels_last, bf16 autocast on the CPU):
frozen 2x2 whitening convolution (24 filters) and its bias, GELU, three groups of
[conv 3x3 -> max-pool 2 -> batch norm -> GELU -> conv 3x3 -> batch norm -> GELU], global max
pooling, a linear head divided by the width; label-smoothed cross-entropy summed over the
batch; Muon on the filters, Nesterov SGD on the biases and the head. The batches are random
tensors made before the clock starts (no augmentation: the step alone). Writes a JSON record.
"""
import argparse
import json
import os
import time

import torch
from torch import nn
import torch.nn.functional as F

NEWTON_SCHULZ = (3.4445, -4.7750, 2.0315)   # as hw2_muon, 3 steps


def orthogonalize(matrix, steps=3):
    """hw2_muon.newton_schulz for a (rows, cols) tensor, in bfloat16."""
    a, b, c = NEWTON_SCHULZ
    x = matrix.bfloat16()
    tall = x.size(0) > x.size(1)
    x = x.T if tall else x
    x = x / (x.norm() + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return (x.T if tall else x).to(matrix.dtype)


class Muon(torch.optim.Optimizer):
    """hw2_muon.muon_update for (C_out, C_in, kh, kw) filters."""

    def __init__(self, params, lr, momentum):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for weight in group["params"]:
                state = self.state[weight]
                buffer = state.setdefault("momentum", torch.zeros_like(weight.grad))
                buffer.mul_(group["momentum"]).add_(weight.grad)
                direction = weight.grad + group["momentum"] * buffer
                weight.mul_(len(weight) ** 0.5 / weight.norm())
                weight.add_(orthogonalize(direction.reshape(len(direction), -1)).view_as(weight), alpha=-group["lr"])


class BatchNorm(nn.BatchNorm2d):
    def __init__(self, channels):
        super().__init__(channels, eps=1e-5, momentum=0.4)   # Keras momentum 0.6
        self.weight.requires_grad = False


def conv_group(channels_in, channels_out):
    return nn.Sequential(nn.Conv2d(channels_in, channels_out, 3, padding="same", bias=False), nn.MaxPool2d(2),
                         BatchNorm(channels_out), nn.GELU(),
                         nn.Conv2d(channels_out, channels_out, 3, padding="same", bias=False),
                         BatchNorm(channels_out), nn.GELU())


class Net(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.whiten = nn.Conv2d(3, 24, 2)
        self.whiten.weight.requires_grad = False
        self.layers = nn.Sequential(nn.GELU(), conv_group(24, widths[0]), conv_group(widths[0], widths[1]),
                                    conv_group(widths[1], widths[2]), nn.AdaptiveMaxPool2d(1), nn.Flatten())
        self.head = nn.Linear(widths[2], 10, bias=False)
        self.width = widths[2]

    def forward(self, images):
        return self.head(self.layers(self.whiten(images))) / self.width


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", choices=("float32", "bfloat16"), required=True)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True, help="timed steps (after three untimed ones)")
    parser.add_argument("--widths", type=int, nargs=3, default=(64, 256, 256))
    parser.add_argument("--out", required=True, help="JSON record to write")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count())
    model = Net(args.widths).to(memory_format=torch.channels_last)
    filters = [p for p in model.parameters() if p.ndim == 4 and p.requires_grad]
    biases = [p for name, p in model.named_parameters() if p.ndim == 1 and p.requires_grad]
    optimizers = [Muon(filters, lr=0.24, momentum=0.6),
                  torch.optim.SGD([dict(params=biases, lr=0.053), dict(params=[model.head.weight], lr=0.67)],
                                  momentum=0.85, nesterov=True, weight_decay=0.004)]
    images = torch.randn(args.batch_size, 3, 32, 32).to(memory_format=torch.channels_last)
    labels = torch.randint(0, 10, (args.batch_size,))
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bfloat16")

    def step():
        with autocast:
            loss = F.cross_entropy(model(images), labels, label_smoothing=0.2, reduction="sum")
        loss.backward()
        for optimizer in optimizers:
            optimizer.step()
        model.zero_grad(set_to_none=True)

    for _ in range(3):   # oneDNN builds its kernels in the first steps
        step()
    seconds = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    record = {"implementation": f"PyTorch {torch.__version__} eager, channels_last"
                                + (", bf16 autocast" if args.precision == "bfloat16" else ""),
              "precision": args.precision, "batch_size": args.batch_size, "step_seconds": seconds,
              "images_per_second": args.batch_size * len(seconds) / sum(seconds), "threads": torch.get_num_threads()}
    with open(args.out + ".tmp", "w") as stream:
        json.dump(record, stream)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
