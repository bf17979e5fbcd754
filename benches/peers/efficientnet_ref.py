#!/usr/bin/env python3
"""An independent NumPy reference for the photo model (issue 15): it reads OUR weight file, runs the forward pass
from the metadata's architecture with its own convolution code, and computes the input gradient of the
cross-entropy by its own backward pass (checked against central finite differences on a few coordinates).

It shares no code with the Rust (src/nn) nor with the converter: the safetensors header is parsed here, F16 is
widened here, TensorFlow "same" padding and the layers of CONTRACTS.md section B are written here. Arithmetic is
float64, so it is the accurate side of a comparison with the f32 Rust (tolerance: logits within 1e-3, input
gradient cosine >= 0.9999).

Run it in benches/peers/.venv (benches/peers/setup-venv.sh makes it: numpy, pillow):

    benches/peers/.venv/bin/python benches/peers/efficientnet_ref.py \
        --model www/models/imagenet-efficientnet-lite0.safetensors [--model-f32 FILE] \
        [--images DIR] [--out reference.json] [--crops DIR]

--images DIR  labelled photos named like foolbox's `imagenet_<nn>_<label>.jpg` (the PyPI wheel foolbox 3.3.4 ships
              20 ImageNet validation photos in foolbox/data/): prints top-1 for each model given, the F16/F32
              top-1 agreement and the max |logit difference|.
--out FILE    writes reference logits (a synthetic input that any language can rebuild from its formula, and the
              given sample crops) and the input gradient of the cross-entropy at class 404 for the synthetic input.
--crops DIR   also writes each preprocessed 224x224 photo as an 8-bit PNG there (exactly the reference's input).

Preprocessing (CONTRACTS.md section C), done with Pillow as the ImageNet pipelines do: EXIF orientation applied,
RGB, short side resized to 256 with PIL's bicubic (Keys a = -0.5, antialiased when shrinking; the long side is
floor(long * 256 / short)), centre crop 224 (offset floor((side - 224) / 2)), divided by 255, NCHW.
"""

import argparse
import hashlib
import json
import os
import re
import struct
import sys
import time

import numpy as np

# ------------------------------------------------------------------------------------------------ the weight file


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8: 8 + n].decode("utf-8"))
    meta = json.loads(header.pop("__metadata__")["advlab"])
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dt = {"F16": "<f2", "F32": "<f4"}[info["dtype"]]
        arr = np.frombuffer(raw[base + begin: base + end], dtype=dt).astype(np.float64)
        tensors[name] = arr.reshape(info["shape"])
    return meta, tensors, hashlib.sha256(raw).hexdigest()


class Net:
    """The layer list of the metadata, with the tensors looked up by their nested names."""

    def __init__(self, meta, tensors):
        self.meta, self.tensors = meta, tensors
        self.used = set()
        self.layers = self._bind(meta["architecture"], "layers.")
        unused = set(tensors) - self.used
        if unused:
            raise ValueError(f"tensors not used by the architecture: {sorted(unused)[:5]}")

    def _bind(self, specs, prefix):
        out = []
        for i, spec in enumerate(specs):
            p = f"{prefix}{i}."
            layer = dict(spec)
            if spec["type"] == "residual":
                layer["body"] = self._bind(spec["layers"], p + "layers.")
            elif spec["type"] in ("conv2d", "depthwise_conv2d", "dense"):
                layer["W"] = self.tensors[p + "weight"]
                layer["b"] = self.tensors[p + "bias"]
                self.used |= {p + "weight", p + "bias"}
            out.append(layer)
        return out


# ------------------------------------------------------------------------------------------------------ the layers

def same_pads(size, k, s):
    """TensorFlow SAME: out = ceil(in / s), total = max((out - 1) s + k - in, 0), before = total // 2."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return out, total // 2, total - total // 2


def pads_of(layer, h, w):
    k, s, p = layer["kernel"], layer["stride"], layer["padding"]
    if p == "same":
        ho, t, b = same_pads(h, k, s)
        wo, l, r = same_pads(w, k, s)
    else:
        t = b = l = r = p
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return ho, wo, (t, b, l, r)


def conv_forward(layer, x, depthwise):
    c, h, w = x.shape
    k, s = layer["kernel"], layer["stride"]
    ho, wo, (t, b, l, r) = pads_of(layer, h, w)
    xp = np.pad(x, ((0, 0), (t, b), (l, r)))
    W = layer["W"]
    out = np.zeros((W.shape[0], ho, wo))
    for ky in range(k):
        for kx in range(k):
            patch = xp[:, ky: ky + s * (ho - 1) + 1: s, kx: kx + s * (wo - 1) + 1: s]
            if depthwise:
                out += W[:, 0, ky, kx][:, None, None] * patch
            else:
                out += (W[:, :, ky, kx] @ patch.reshape(c, -1)).reshape(-1, ho, wo)
    return out + layer["b"][:, None, None]


def conv_backward(layer, x, g, depthwise):
    """dL/dx of conv_forward at x, given dL/dy = g."""
    c, h, w = x.shape
    k, s = layer["kernel"], layer["stride"]
    ho, wo, (t, b, l, r) = pads_of(layer, h, w)
    W = layer["W"]
    gp = np.zeros((c, h + t + b, w + l + r))
    for ky in range(k):
        for kx in range(k):
            if depthwise:
                contrib = W[:, 0, ky, kx][:, None, None] * g
            else:
                contrib = (W[:, :, ky, kx].T @ g.reshape(g.shape[0], -1)).reshape(c, ho, wo)
            gp[:, ky: ky + s * (ho - 1) + 1: s, kx: kx + s * (wo - 1) + 1: s] += contrib
    return gp[:, t: t + h, l: l + w]


def forward(layers, x, tape):
    """Runs the layers; `tape` gets each layer's input (for the backward pass)."""
    for layer in layers:
        tape.append(x)
        kind = layer["type"]
        if kind == "normalize":
            x = (x - np.array(layer["mean"])[:, None, None]) / np.array(layer["std"])[:, None, None]
        elif kind == "conv2d":
            x = conv_forward(layer, x, False)
        elif kind == "depthwise_conv2d":
            x = conv_forward(layer, x, True)
        elif kind == "relu6":
            x = np.clip(x, 0.0, 6.0)
        elif kind == "relu":
            x = np.maximum(x, 0.0)
        elif kind == "residual":
            sub = []
            y = forward(layer["body"], x, sub)
            layer.setdefault("_tapes", []).append(sub)
            x = x + y
        elif kind == "global_avg_pool":
            x = x.mean(axis=(1, 2))
        elif kind == "flatten":
            x = x.reshape(-1)
        elif kind == "dense":
            x = layer["W"] @ x + layer["b"]
        else:
            raise ValueError(f"unknown layer {kind}")
    return x


def backward(layers, tape, g):
    for layer, x in zip(reversed(layers), reversed(tape)):
        kind = layer["type"]
        if kind == "normalize":
            g = g / np.array(layer["std"])[:, None, None]
        elif kind == "conv2d":
            g = conv_backward(layer, x, g, False)
        elif kind == "depthwise_conv2d":
            g = conv_backward(layer, x, g, True)
        elif kind == "relu6":
            g = g * ((x > 0) & (x < 6))
        elif kind == "relu":
            g = g * (x > 0)
        elif kind == "residual":
            sub = layer["_tapes"].pop()
            g = g + backward(layer["body"], sub, g)
        elif kind == "global_avg_pool":
            g = np.broadcast_to(g[:, None, None], x.shape) / (x.shape[1] * x.shape[2])
        elif kind == "flatten":
            g = g.reshape(x.shape)
        elif kind == "dense":
            g = layer["W"].T @ g
    return g


def logits_of(net, x):
    tape = []
    out = forward(net.layers, x, tape)
    clear_tapes(net.layers)
    return out


def clear_tapes(layers):
    for layer in layers:
        if layer["type"] == "residual":
            layer.pop("_tapes", None)
            clear_tapes(layer["body"])


def cross_entropy(z, cls):
    m = z.max()
    return float(np.log(np.exp(z - m).sum()) + m - z[cls])


def input_gradient(net, x, cls):
    """(logits, loss, dL/dx) for L = cross-entropy of softmax(logits) at class `cls`."""
    tape = []
    z = forward(net.layers, x, tape)
    p = np.exp(z - z.max())
    p /= p.sum()
    g = p.copy()
    g[cls] -= 1.0
    grad = backward(net.layers, tape, g)
    clear_tapes(net.layers)
    return z, cross_entropy(z, cls), grad


# --------------------------------------------------------------------------------------------------------- inputs

def synthetic_input():
    """A deterministic 3x224x224 texture with exact values: x = ((3h + 5w + 80c + (h*w >> 6)) mod 256) / 255."""
    c, h, w = np.meshgrid(np.arange(3), np.arange(224), np.arange(224), indexing="ij")
    return (((3 * h + 5 * w + 80 * c + ((h * w) >> 6)) % 256) / 255.0).astype(np.float64)


SYNTHETIC_FORMULA = "x[c][h][w] = ((3*h + 5*w + 80*c + ((h*w) >> 6)) % 256) / 255, c < 3, h, w < 224"


def preprocess(path):
    from PIL import Image, ImageOps

    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    w, h = im.size
    if w <= h:
        nw, nh = 256, h * 256 // w
    else:
        nw, nh = w * 256 // h, 256
    im = im.resize((nw, nh), Image.BICUBIC)
    left, top = (nw - 224) // 2, (nh - 224) // 2
    im = im.crop((left, top, left + 224, top + 224))
    arr = np.asarray(im, dtype=np.uint8)
    return arr, arr.transpose(2, 0, 1).astype(np.float64) / 255.0


def labelled_images(folder):
    out = []
    for name in sorted(os.listdir(folder)):
        m = re.match(r"imagenet_(\d+)_(\d+)\.(jpe?g|png)$", name)
        if m:
            out.append((name, int(m.group(2)), os.path.join(folder, name)))
    return out


def cosine(a, b):
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--model-f32")
    ap.add_argument("--images")
    ap.add_argument("--samples", nargs="*", default=[], help="extra photos whose logits go into --out")
    ap.add_argument("--inputs-224", nargs="*", default=[],
                    help="224x224 8-bit PNGs used as the model input as they are (x = byte / 255, no resize)")
    ap.add_argument("--out")
    ap.add_argument("--test-data", help="also write a compact copy for a committed test into this folder: "
                                        "reference.json and the gradient as raw little-endian f16")
    ap.add_argument("--crops")
    ap.add_argument("--grad-class", type=int, default=404)
    ap.add_argument("--fd", type=int, default=6, help="finite-difference checks of the gradient (0: none)")
    args = ap.parse_args()

    meta, tensors, sha = read_safetensors(args.model)
    net = Net(meta, tensors)
    names = meta["class_names"]
    nets = {"model": net}
    if args.model_f32:
        m32, t32, _ = read_safetensors(args.model_f32)
        nets["f32"] = Net(m32, t32)
    report = {"model": os.path.basename(args.model), "model_sha256": sha, "arithmetic": "float64",
              "tolerance": {"logits_max_abs": 1e-3, "gradient_cosine_min": 0.9999}}

    if args.images:
        rows = labelled_images(args.images)
        hits = {k: 0 for k in nets}
        agree, max_dlogit, t0 = 0, 0.0, time.time()
        per_image = []
        for name, label, path in rows:
            u8, x = preprocess(path)
            if args.crops:
                from PIL import Image
                os.makedirs(args.crops, exist_ok=True)
                Image.fromarray(u8).save(os.path.join(args.crops, os.path.splitext(name)[0] + ".png"))
            z = {k: logits_of(n, x) for k, n in nets.items()}
            top = {k: int(np.argmax(v)) for k, v in z.items()}
            for k in nets:
                hits[k] += top[k] == label
            line = f"{name:24s} label {label:4d} -> {top['model']:4d} {names[top['model']][:40]}"
            if "f32" in z:
                agree += top["model"] == top["f32"]
                d = float(np.abs(z["model"] - z["f32"]).max())
                max_dlogit = max(max_dlogit, d)
                line += f"  (f32: {top['f32']}, max |dlogit| {d:.4f})"
            per_image.append({"file": name, "label": label, "top1": top["model"],
                              "logits_top5": [int(i) for i in np.argsort(-z["model"])[:5]]})
            print(line)
        n = len(rows)
        print(f"top-1 ({os.path.basename(args.model)}): {hits['model']}/{n}")
        result = {"images": n, "source": "PyPI foolbox 3.3.4, foolbox/data/imagenet_<nn>_<label>.jpg",
                  "top1_correct": hits["model"], "per_image": per_image,
                  "seconds_per_forward": (time.time() - t0) / max(1, n * len(nets))}
        if "f32" in nets:
            print(f"top-1 (f32): {hits['f32']}/{n}; F16/F32 top-1 agreement {agree}/{n}; "
                  f"max |dlogit| {max_dlogit:.5f}")
            result.update({"top1_correct_f32": hits["f32"], "f16_f32_top1_agreement": agree,
                           "f16_f32_max_abs_dlogit": max_dlogit})
        report["labelled"] = result

    if args.out:
        inputs = []
        x = synthetic_input()
        t0 = time.time()
        z, loss, grad = input_gradient(net, x, args.grad_class)
        t_grad = time.time() - t0
        inputs.append({"name": "synthetic", "formula": SYNTHETIC_FORMULA, "logits": [float(v) for v in z]})
        for path in args.samples:
            u8, xs = preprocess(path)
            inputs.append({"name": os.path.basename(path), "preprocess": "section C with Pillow",
                           "logits": [float(v) for v in logits_of(net, xs)],
                           "top1": int(np.argmax(logits_of(net, xs)))})
            if args.crops:
                from PIL import Image
                os.makedirs(args.crops, exist_ok=True)
                Image.fromarray(u8).save(os.path.join(args.crops, os.path.basename(path) + ".crop224.png"))
        for path in args.inputs_224:
            from PIL import Image
            arr = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)
            if arr.shape != (224, 224, 3):
                raise ValueError(f"{path} is not 224x224")
            xs = arr.transpose(2, 0, 1).astype(np.float64) / 255.0
            zs = logits_of(net, xs)
            inputs.append({"name": os.path.basename(path), "preprocess": "none: x = byte / 255 of this 224x224 PNG",
                           "logits": [float(v) for v in zs], "top1": int(np.argmax(zs))})
        fd = []
        if args.fd:
            rng = np.random.default_rng(0)
            flat = np.abs(grad).reshape(-1)
            picks = list(np.argsort(-flat)[: args.fd // 2]) + list(rng.integers(0, flat.size, args.fd - args.fd // 2))
            for idx in picks:
                idx = int(idx)
                h = 1e-6  # larger steps cross ReLU6 kinks (1e-4 is off by 3 % at the largest entries)
                xp, xm = x.copy().reshape(-1), x.copy().reshape(-1)
                xp[idx] += h
                xm[idx] -= h
                lp = cross_entropy(logits_of(net, xp.reshape(x.shape)), args.grad_class)
                lm = cross_entropy(logits_of(net, xm.reshape(x.shape)), args.grad_class)
                num = (lp - lm) / (2 * h)
                fd.append({"index": idx, "analytic": float(grad.reshape(-1)[idx]), "numeric": num})
                print(f"finite difference at {idx}: analytic {grad.reshape(-1)[idx]:.6e}, numeric {num:.6e}")
        report["inputs"] = inputs
        report["gradient"] = {
            "input": "synthetic", "class": args.grad_class, "loss": "cross-entropy of softmax(logits)",
            "loss_value": loss, "shape": [3, 224, 224], "layout": "CHW row-major",
            "norm_l2": float(np.sqrt((grad ** 2).sum())), "finite_differences": fd,
            "seconds": t_grad, "values": [float(f"{v:.8g}") for v in grad.reshape(-1)],
        }
        with open(args.out, "w") as f:
            json.dump(report, f)
        if args.test_data:
            os.makedirs(args.test_data, exist_ok=True)
            gname = f"grad-synthetic-{args.grad_class}.f16"
            grad.reshape(-1).astype("<f2").tofile(os.path.join(args.test_data, gname))
            compact = dict(report)
            # Only inputs any implementation can rebuild exactly (the formula, 8-bit PNG crops): a JPEG's pixels
            # depend on the decoder.
            compact["inputs"] = [dict(i, logits=[float(f"{v:.7g}") for v in i["logits"]]) for i in inputs
                                 if i["name"] == "synthetic" or i["preprocess"].startswith("none")]
            compact["gradient"] = {k: v for k, v in report["gradient"].items() if k != "values"}
            compact["gradient"]["values_file"] = gname
            compact["gradient"]["values_dtype"] = "F16 little-endian (rounded from float64; cosine error ~1e-7)"
            compact.pop("labelled", None)
            with open(os.path.join(args.test_data, "reference.json"), "w") as f:
                json.dump(compact, f, indent=1)
        print(f"wrote {args.out}: {len(inputs)} logit vectors, gradient at class {args.grad_class} "
              f"(loss {loss:.5f}, {t_grad:.1f} s)")
    elif args.images:
        print(json.dumps({k: v for k, v in report["labelled"].items() if k != "per_image"}))


if __name__ == "__main__":
    main()
