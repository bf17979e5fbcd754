"""FGSM in JAX (jit, CPU) on the same weights as the Rust engine (issue 9): batch-1 latency and batched
throughput over the 10 000 MNIST test images, to compare with `cargo bench --bench ceiling` (fgsm_mnist_cnn).

FGSM (Goodfellow et al. 2015): x' = clip(x + eta * sign(grad_x J(x, y)), 0, 1), J the cross-entropy loss, y the
model's own prediction, eta = 0.1. Batches of 500, as in the Rust bench.

    python3 -m venv benches/peers/.venv && benches/peers/.venv/bin/pip install jax
    benches/peers/.venv/bin/python benches/peers/jax_fgsm.py [www/models/mnist-cnn.safetensors]
"""
import json
import os
import statistics
import struct
import sys
import time

import numpy as np
import jax
import jax.numpy as jnp
from jax import lax

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ETA = 0.1
BATCH = 500


def read_safetensors(path):
    """Our safetensors file: 8-byte LE header length, JSON header, raw little-endian F32 tensors."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["advlab"])
    tensors = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", name
        a, b = t["data_offsets"]
        tensors[name] = np.frombuffer(raw[8 + n + a : 8 + n + b], dtype="<f4").reshape(t["shape"])
    return meta, tensors


def build(meta, tensors):
    """Logits of x [N, C, H, W] (NCHW, OIHW kernels: our layout, no transposes needed)."""
    arch = meta["architecture"]
    params = {k: jnp.asarray(v) for k, v in tensors.items()}

    def logits(x):
        h = x
        for i, spec in enumerate(arch):
            t = spec["type"]
            if t == "conv2d":
                p = spec["padding"]
                h = lax.conv_general_dilated(
                    h, params[f"layers.{i}.weight"], (spec["stride"],) * 2, [(p, p), (p, p)],
                    dimension_numbers=("NCHW", "OIHW", "NCHW"),
                ) + params[f"layers.{i}.bias"][None, :, None, None]
            elif t == "relu":
                h = jnp.maximum(h, 0)
            elif t == "max_pool2d":
                s = spec["size"]
                h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 1, s, s), (1, 1, s, s), "VALID")
            elif t == "flatten":
                h = h.reshape(h.shape[0], -1)
            elif t == "dense":
                h = h @ params[f"layers.{i}.weight"].T + params[f"layers.{i}.bias"]
            else:
                raise ValueError(t)
        return h

    return logits


def test_images():
    path = os.path.join(ROOT, ".data/mnist/t10k-images-idx3-ubyte")
    if not os.path.exists(path):
        path = os.path.join(ROOT, "www/samples/mnist-test-images.idx")
    raw = open(path, "rb").read()
    n, h, w = struct.unpack(">III", raw[4:16])
    x = np.frombuffer(raw[16 : 16 + n * h * w], dtype=np.uint8).reshape(n, 1, h, w).astype(np.float32) / 255
    return np.resize(x, (10_000, 1, h, w))


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "www/models/mnist-cnn.safetensors")
    meta, tensors = read_safetensors(model)
    logits = build(meta, tensors)

    def loss(x, y):
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits(x)), y[:, None], axis=1))

    @jax.jit
    def fgsm(x):
        y = jnp.argmax(logits(x), axis=1)
        g = jax.grad(loss)(x, y)
        return jnp.clip(x + ETA * jnp.sign(g), 0, 1)

    x = jnp.asarray(test_images())
    labels_path = os.path.join(ROOT, ".data/mnist/t10k-labels-idx1-ubyte")
    if os.path.exists(labels_path):
        y = np.frombuffer(open(labels_path, "rb").read()[8:], dtype=np.uint8)
        acc = float(np.mean(np.asarray(jnp.argmax(jax.jit(logits)(x[:2000]), 1)) == y[:2000]))
        print(f"sanity: clean accuracy of the loaded weights on 2000 test images: {acc:.4f}")

    one = [x[i : i + 1] for i in range(100)]
    fgsm(one[0]).block_until_ready()
    t = []
    for r in range(300):
        t0 = time.perf_counter()
        fgsm(one[r % 100]).block_until_ready()
        t.append(time.perf_counter() - t0)
    med = statistics.median(t)
    print(f"jax {jax.__version__} {jax.devices()[0].platform}: FGSM batch 1: median {med * 1e6:.1f} us "
          f"({1 / med:.0f} images/s), p95 {sorted(t)[int(0.95 * len(t))] * 1e6:.1f} us")

    batches = [x[i : i + BATCH] for i in range(0, 10_000, BATCH)]
    fgsm(batches[0]).block_until_ready()
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        for b in batches:
            out = fgsm(b)
        out.block_until_ready()
        runs.append(time.perf_counter() - t0)
    med = statistics.median(runs)
    print(f"jax FGSM over 10000 images (batches of {BATCH}): median {med:.2f} s = {10_000 / med:.0f} images/s")
    print(f"machine: nproc {os.cpu_count()}, load average {' '.join(f'{l:.1f}' for l in os.getloadavg())}")


if __name__ == "__main__":
    main()
