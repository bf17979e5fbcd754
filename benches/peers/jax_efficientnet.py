"""EfficientNet-Lite0 in JAX (jit, CPU) on the same weights as the Rust engine (issue 15): forward and input
gradient (the FGSM step), batch 1 latency and batched throughput, to compare with `cargo bench --bench nn --
efficientnet` (logits/1, input_gradient/1). The graph comes from our file's metadata (normalize, conv2d and
depthwise_conv2d with TensorFlow "same" padding, relu6, residual, global_avg_pool, dense); F16 weights are widened
to f32 as our loader does. It also prints the logits of the synthetic input of efficientnet_ref.py so the two can
be compared.

    benches/peers/setup-venv.sh && benches/peers/.venv/bin/pip install 'jax[cpu]'
    benches/peers/.venv/bin/python benches/peers/jax_efficientnet.py [MODEL.safetensors] [--batch 16] \
        [--dump-gradient target/jax-gradient.json] [--no-timing]

--dump-gradient FILE writes the logits and the input gradient of the cross-entropy at the top-1 class for the
synthetic inputs (shifts 0, 37, 101) as JSON; scripts/bench-photo.mjs (JAX_GRADIENT=FILE) compares ours and tfjs's with it.
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


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8: 8 + n])
    meta = json.loads(header.pop("__metadata__")["advlab"])
    tensors = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        dt = {"F16": "<f2", "F32": "<f4"}[t["dtype"]]
        tensors[name] = np.frombuffer(raw[8 + n + a: 8 + n + b], dtype=dt).astype(np.float32).reshape(t["shape"])
    return meta, tensors


def same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return out, (total // 2, total - total // 2)


def build(meta, tensors):
    params = {k: jnp.asarray(v) for k, v in tensors.items()}

    def run(specs, prefix, h):
        for i, spec in enumerate(specs):
            p, t = f"{prefix}{i}.", spec["type"]
            if t == "normalize":
                h = (h - jnp.asarray(spec["mean"], jnp.float32)[None, :, None, None]) / jnp.asarray(
                    spec["std"], jnp.float32)[None, :, None, None]
            elif t in ("conv2d", "depthwise_conv2d"):
                k, s = spec["kernel"], spec["stride"]
                if spec["padding"] == "same":
                    _, ph = same_pads(h.shape[2], k, s)
                    _, pw = same_pads(h.shape[3], k, s)
                else:
                    ph = pw = (spec["padding"],) * 2
                groups = spec["channels"] if t == "depthwise_conv2d" else 1
                h = lax.conv_general_dilated(
                    h, params[p + "weight"], (s, s), [ph, pw], dimension_numbers=("NCHW", "OIHW", "NCHW"),
                    feature_group_count=groups) + params[p + "bias"][None, :, None, None]
            elif t == "relu6":
                h = jnp.clip(h, 0.0, 6.0)
            elif t == "relu":
                h = jnp.maximum(h, 0.0)
            elif t == "residual":
                h = h + run(spec["layers"], p + "layers.", h)
            elif t == "global_avg_pool":
                h = jnp.mean(h, axis=(2, 3))
            elif t == "flatten":
                h = h.reshape(h.shape[0], -1)
            elif t == "dense":
                h = h @ params[p + "weight"].T + params[p + "bias"]
            else:
                raise ValueError(t)
        return h

    return lambda x: run(meta["architecture"], "layers.", x)


def synthetic_input(shift=0):
    c, h, w = np.meshgrid(np.arange(3), np.arange(224), np.arange(224), indexing="ij")
    return (((3 * h + 5 * w + 80 * c + ((h * w) >> 6) + shift) % 256) / 255.0).astype(np.float32)


def timeit(fn, x, reps):
    fn(x).block_until_ready()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(x).block_until_ready()
        t.append(time.perf_counter() - t0)
    return statistics.median(t) * 1e3, sorted(t)[int(0.95 * len(t))] * 1e3, min(t) * 1e3


def main():
    args = sys.argv[1:]
    batch = 16
    if "--batch" in args:
        i = args.index("--batch")
        batch = int(args[i + 1])
        del args[i: i + 2]
    dump = None
    if "--dump-gradient" in args:
        i = args.index("--dump-gradient")
        dump = args[i + 1]
        del args[i: i + 2]
    timing = "--no-timing" not in args
    args = [a for a in args if a != "--no-timing"]
    model = args[0] if args else os.path.join(ROOT, "www/models/imagenet-efficientnet-lite0.safetensors")
    meta, tensors = read_safetensors(model)
    logits = build(meta, tensors)

    def loss(x, y):
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits(x)), y[:, None], axis=1))

    fwd = jax.jit(logits)
    grad = jax.jit(lambda x: jax.grad(loss)(x, jnp.argmax(logits(x), axis=1)))
    x1 = jnp.asarray(synthetic_input()[None])
    z = np.asarray(fwd(x1))[0]
    print(f"jax {jax.__version__} {jax.devices()[0].platform}; synthetic input: top-1 {int(z.argmax())}, "
          f"logit {z.max():.5f}, z[:3] = {np.array2string(z[:3], precision=5)}")
    if dump:
        items = []
        gfn = jax.jit(jax.grad(loss))
        for shift in (0, 37, 101):  # the inputs of www/bench/photo.js
            xs = jnp.asarray(synthetic_input(shift)[None])
            zs = np.asarray(fwd(xs))[0]
            cls = int(zs.argmax())
            g = np.asarray(gfn(xs, jnp.asarray([cls])))[0]
            items.append({"shift": shift, "class": cls, "logits": zs.tolist(), "gradient": g.reshape(-1).tolist()})
            print(f"shift {shift}: class {cls}, max |grad| {np.abs(g).max():.4e}")
        with open(dump, "w") as f:
            json.dump({"input": "synthetic_input(shift)", "items": items}, f)
        print(f"wrote {dump}")
    if not timing:
        return
    for name, fn in (("forward", fwd), ("input gradient (FGSM step)", grad)):
        med, p95, lo = timeit(fn, x1, 30)
        print(f"{name}, batch 1: median {med:.1f} ms, p95 {p95:.1f} ms, min {lo:.1f} ms")
    xb = jnp.asarray(np.stack([synthetic_input(s) for s in range(batch)]))
    for name, fn in (("forward", fwd), ("input gradient (FGSM step)", grad)):
        med, p95, lo = timeit(fn, xb, 5)
        print(f"{name}, batch {batch}: median {med:.0f} ms = {med / batch:.1f} ms per image "
              f"({1e3 * batch / med:.1f} images/s), min {lo / batch:.1f} ms per image")
    print(f"machine: nproc {os.cpu_count()}, load average {' '.join(f'{l:.1f}' for l in os.getloadavg())}")


if __name__ == "__main__":
    main()
