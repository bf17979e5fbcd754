#!/usr/bin/env python3
"""Unit tests of convert.py on inputs built here (standard library only; no wheel, no torch):

    python3 scripts/photo/test_convert.py

A legacy torch pickle is written with stand-in torch globals, so the reader, the stride handling, the batch-norm
fold, the class-name parser and the architecture are each checked against values computed by hand.
ensure_photo_model in build.sh runs this before every conversion.
"""

import collections
import io
import math
import os
import pickle
import struct
import sys
import types
import unittest
from array import array

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert  # noqa: E402


def fake_torch():
    """Modules torch / torch._utils holding stand-ins with the right names, so pickle writes those globals."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"

    def _rebuild_tensor_v2(*a):
        raise AssertionError("never called while pickling")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage = FloatStorage
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    sys.modules.setdefault("torch", torch)
    sys.modules.setdefault("torch._utils", utils)
    return sys.modules["torch"], sys.modules["torch._utils"]


class Tensor:
    def __init__(self, key, numel, offset, size, stride):
        self.key, self.numel, self.offset, self.size, self.stride = key, numel, offset, size, stride

    def __reduce__(self):
        _, utils = fake_torch()
        return (utils._rebuild_tensor_v2, (StorageId(self.key, self.numel), self.offset, self.size, self.stride,
                                           False, collections.OrderedDict()))


class StorageId:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


def legacy_file(tensors, storages):
    """tensors: {name: Tensor}; storages: {key: list of floats}. The layout torch.save used before 1.6."""
    torch, _ = fake_torch()
    out = io.BytesIO()
    for obj in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(obj, out, protocol=2)

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, StorageId):
                return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel, None)
            return None

    P(out, protocol=2).dump(collections.OrderedDict(tensors))
    pickle.dump(list(storages), out, protocol=2)
    for key, values in storages.items():
        out.write(struct.pack("<q", len(values)))
        out.write(struct.pack(f"<{len(values)}f", *values))
    return out.getvalue()


class ConvertTests(unittest.TestCase):
    def test_reads_a_legacy_pickle_with_permuted_strides(self):
        # A [2, 3, 4] tensor stored with strides (1, 2, 6) (the HWIO-behind-OIHW trick of the real file), and a
        # [3] tensor at offset 1 of a shared storage.
        raw = legacy_file(
            {"a": Tensor("s0", 24, 0, (2, 3, 4), (1, 2, 6)), "b": Tensor("s1", 4, 1, (3,), (1,))},
            {"s0": [float(v) for v in range(24)], "s1": [10.0, 11.0, 12.0, 13.0]},
        )
        floats, ints = convert.read_legacy_pth(raw)
        self.assertEqual(ints, [])
        shape, a = floats["a"]
        self.assertEqual(shape, [2, 3, 4])
        want = [i * 1 + j * 2 + k * 6 for i in range(2) for j in range(3) for k in range(4)]
        self.assertEqual(a, [float(v) for v in want])
        self.assertEqual(floats["b"], ([3], [11.0, 12.0, 13.0]))

    def test_refuses_unknown_globals(self):
        buf = io.BytesIO()
        for obj in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(obj, buf, protocol=2)
        pickle.dump(collections.OrderedDict(x=os.getcwd), buf, protocol=2)  # a global outside the allowlist
        with self.assertRaises(pickle.UnpicklingError):
            convert.read_legacy_pth(buf.getvalue())

    def test_folds_batch_norm_by_hand(self):
        # One conv, 2 output channels, 1 input, 1x1: W = [2, -1]; gamma = [1, 3], beta = [0.5, -1],
        # mean = [1, 2], var = [4 - eps, 9 - eps] so that sqrt(var + eps) = [2, 3] exactly.
        eps = convert.BN_EPS
        weights = {
            "c.weight": ([2, 1, 1, 1], [2.0, -1.0]),
            "bn.weight": ([2], [1.0, 3.0]),
            "bn.bias": ([2], [0.5, -1.0]),
            "bn.running_mean": ([2], [1.0, 2.0]),
            "bn.running_var": ([2], [4.0 - eps, 9.0 - eps]),
        }
        used = set()
        spec = {"type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel": 1, "stride": 1, "padding": "same"}
        (ws, w), (bs, b) = convert.fold(weights, used, "conv", "c", "bn", spec)
        # scale = gamma / sqrt(var + eps) = [0.5, 1]; W' = W * scale; b' = beta - mean * scale.
        self.assertEqual(ws, [2, 1, 1, 1])
        for got, want in zip(w + b, [1.0, -1.0, 0.0, -3.0]):
            self.assertTrue(math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12), (got, want))
        self.assertEqual(bs, [2])
        self.assertEqual(len(used), 5)
        with self.assertRaises(SystemExit):  # a tensor used twice
            convert.fold(weights, used, "conv", "c", "bn", spec)
        with self.assertRaises(SystemExit):  # a wrong shape
            bad = dict(spec, out_channels=3)
            convert.fold(weights, set(), "conv", "c", "bn", bad)

    def test_architecture_of_section_b(self):
        layers, sources = convert.architecture()
        self.assertEqual(layers[0]["type"], "normalize")
        self.assertEqual([l["type"] for l in layers[-4:]], ["conv2d", "relu6", "global_avg_pool", "dense"])
        self.assertEqual(sum(l["type"] == "residual" for l in layers), 9)
        strides2 = [b for b, cin, cout, e, k, s in convert.blocks() if s == 2]
        self.assertEqual(strides2, [1, 3, 5, 11])
        self.assertEqual(len(sources), 50)  # stem + 2 + 15 x 3 + head + fc
        for layer in layers:
            if layer["type"] == "residual":
                body = layer["layers"]
                self.assertEqual(body[0]["in_channels"], body[-1]["out_channels"])
                self.assertEqual([l["type"] for l in body],
                                 ["conv2d", "relu6", "depthwise_conv2d", "relu6", "conv2d"])
                self.assertEqual(body[2]["stride"], 1)

    def test_parses_the_class_names_module(self):
        lines = ["exports.IMAGENET_CLASSES = {"]
        for i in range(convert.NUM_CLASSES):
            lines.append(f"    {i}: 'class {i}',")
        text = "\n".join(lines) + "\n};"
        text = text.replace("'class 7',", "'jack-o\\'-lantern, ' +\n        'pumpkin',")
        names = convert.parse_classes_js(text)
        self.assertEqual(len(names), 1000)
        self.assertEqual(names[7], "jack-o'-lantern, pumpkin")
        self.assertEqual(names[999], "class 999")
        with self.assertRaises(SystemExit):
            convert.parse_classes_js(text.replace("    999: 'class 999',", ""))

    def test_f16_encoding_refuses_overflow(self):
        self.assertEqual(convert.encode([1.0, -2.0], "F16", "t"), struct.pack("<2e", 1.0, -2.0))
        with self.assertRaises(SystemExit):
            convert.encode([70000.0], "F16", "t")


if __name__ == "__main__":
    unittest.main(verbosity=1)
