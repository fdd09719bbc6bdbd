#!/usr/bin/env python3
"""DP-SGD in PyTorch, accounted by dpacct: an MLP on Fashion-MNIST.

Poisson-sampled batches, exact per-example gradients, each clipped to L2
norm C, Gaussian noise of std sigma * C with sigma from
dpacct.get_noise_multiplier, and a dpacct.Accountant that records every
step.  Each epoch prints the accuracy and the (lower, upper) bounds on
epsilon; training stops when another epoch would spend more than the
budget.

    python3 dp_sgd_torch.py            # 60,000 examples, about a minute
    python3 dp_sgd_torch.py --quick    # 10,000 examples (make check)

Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist,
or DPACCT_FASHION_MNIST).  From the build tree:
PYTHONPATH=build/python python3 python/examples/dp_sgd_torch.py.

Like dpacct's own trainer this is an experiment: torch's random numbers
are not cryptographic and floating-point noise is not exactly Gaussian.
"""

import argparse
import gzip
import os
import struct
import sys
import time

import torch

import dpacct

DATA_DIR = os.environ.get("DPACCT_FASHION_MNIST",
                          "/usr/share/datasets/fashion-mnist")


def load_idx(name, limit):
    """The first LIMIT records of an IDX file (gzip) as a tensor: images
    N x 784 in [0, 1], or labels N."""
    with gzip.open(os.path.join(DATA_DIR, name), "rb") as f:
        magic, n = struct.unpack(">II", f.read(8))
        n = min(n, limit)
        if magic == 2049:  # labels
            return torch.frombuffer(bytearray(f.read(n)),
                                    dtype=torch.uint8).long()
        rows, cols = struct.unpack(">II", f.read(8))
        data = bytearray(f.read(n * rows * cols))
    pixels = torch.frombuffer(data, dtype=torch.uint8)
    return pixels.view(n, rows * cols).float() / 255.0


class MLP(torch.nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.layer1 = torch.nn.Linear(784, hidden)
        self.layer2 = torch.nn.Linear(hidden, 10)

    def forward(self, x):
        """The logits, and what the per-example gradients need: each
        linear layer's input and output."""
        z1 = self.layer1(x)
        h = torch.relu(z1)
        z2 = self.layer2(h)
        return z2, [(self.layer1, x, z1), (self.layer2, h, z2)]


def clipped_noisy_gradients(model, x, y, clip, sigma, expected_batch):
    """Sets each parameter's .grad to the DP-SGD gradient: the sum of the
    per-example gradients, each clipped to L2 norm CLIP, plus Gaussian
    noise of std sigma * CLIP, divided by the expected batch size.

    For a linear layer z = W a + b, example i's gradient is g_i a_i^T (and
    g_i for b), g_i = dloss_i/dz_i; its squared norm is
    |g_i|^2 (|a_i|^2 + 1), so nothing per-example is materialised."""
    logits, layers = model(x)
    loss = torch.nn.functional.cross_entropy(logits, y, reduction="sum")
    outputs = [z for _, _, z in layers]
    grads = torch.autograd.grad(loss, outputs)
    norm2 = torch.zeros(len(x))
    for (_, a, _), g in zip(layers, grads):
        norm2 += g.pow(2).sum(1) * (a.pow(2).sum(1) + 1.0)
    scale = (clip / (norm2.sqrt() + 1e-12)).clamp(max=1.0)
    with torch.no_grad():
        for (layer, a, _), g in zip(layers, grads):
            gs = g * scale[:, None]
            for param, total in ((layer.weight, gs.t() @ a),
                                 (layer.bias, gs.sum(0))):
                noise = torch.normal(0.0, sigma * clip, size=param.shape)
                param.grad = (total + noise) / expected_batch
    return (norm2.sqrt() > clip).float().mean().item()


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x)[0].argmax(1) == y).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epsilon", type=float, default=2.0)
    parser.add_argument("--delta", type=float, default=1e-5)
    parser.add_argument("--epochs", type=float, default=4,
                        help="epochs the noise is calibrated for")
    parser.add_argument("--batch-size", type=int, default=256,
                        help="expected batch size B (q = B / N)")
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--train-size", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="10,000 training and 2,000 test examples")
    args = parser.parse_args()
    if args.quick:
        args.train_size = 10000

    if not os.path.exists(os.path.join(DATA_DIR, "train-images-idx3-ubyte.gz")):
        print(f"dp_sgd_torch: no Fashion-MNIST in {DATA_DIR} (Debian: "
              f"dataset-fashion-mnist; or set DPACCT_FASHION_MNIST)",
              file=sys.stderr)
        return 77  # "skipped" for make check
    torch.manual_seed(args.seed)
    x_train = load_idx("train-images-idx3-ubyte.gz", args.train_size)
    y_train = load_idx("train-labels-idx1-ubyte.gz", args.train_size)
    n_test = 2000 if args.quick else 10000
    x_test = load_idx("t10k-images-idx3-ubyte.gz", n_test)
    y_test = load_idx("t10k-labels-idx1-ubyte.gz", n_test)
    mean, std = x_train.mean(), x_train.std()  # public constants in practice
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    n = len(x_train)
    q = args.batch_size / n
    start = time.perf_counter()
    sigma = dpacct.get_noise_multiplier(
        target_epsilon=args.epsilon, target_delta=args.delta, sample_rate=q,
        epochs=args.epochs)
    print(f"N = {n}, q = {q:.5g}, epsilon {args.epsilon} at delta "
          f"{args.delta} over {args.epochs} epochs: noise multiplier "
          f"{sigma:.4f} (dpacct, {time.perf_counter() - start:.2f} s)")

    model = MLP(args.hidden)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate,
                                momentum=0.9)
    accountant = dpacct.Accountant("pld", delta=args.delta)
    steps_per_epoch = round(1 / q)
    epoch = 0
    while True:
        # Stop before an epoch whose steps would overspend the budget.
        ahead = dpacct.epsilon(noise_multiplier=sigma, sample_rate=q,
                               steps=len(accountant) + steps_per_epoch,
                               delta=args.delta)
        if ahead.upper > args.epsilon:
            print(f"budget spent: another epoch would reach epsilon "
                  f"<= {ahead.upper:.4f} > {args.epsilon}")
            break
        epoch += 1
        clipped = 0.0
        for _ in range(steps_per_epoch):
            batch = (torch.rand(n) < q).nonzero().squeeze(1)  # Poisson
            optimizer.zero_grad()
            if len(batch) > 0:
                clipped += clipped_noisy_gradients(
                    model, x_train[batch], y_train[batch], args.clip, sigma,
                    q * n)
            else:  # an empty batch still releases noise
                for p in model.parameters():
                    p.grad = torch.normal(0.0, sigma * args.clip,
                                          size=p.shape) / (q * n)
            optimizer.step()
            accountant.step(noise_multiplier=sigma, sample_rate=q)
        lower, upper = accountant.get_bounds()
        print(f"epoch {epoch}: {len(accountant)} steps, test accuracy "
              f"{accuracy(model, x_test, y_test):.4f}, clipped "
              f"{clipped / steps_per_epoch:.2f}, epsilon in [{lower:.4f}, "
              f"{upper:.4f}]", flush=True)
    lower, upper = accountant.get_bounds()
    assert upper <= args.epsilon, "the accountant overspent the budget"
    print(f"done in {time.perf_counter() - start:.1f} s: {len(accountant)} "
          f"steps, ({args.epsilon}, {args.delta})-DP with epsilon in "
          f"[{lower:.4f}, {upper:.4f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
