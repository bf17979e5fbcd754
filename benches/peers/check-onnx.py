#!/usr/bin/env python3
"""Validates an ONNX file written by onnx-export.mjs with the `onnx` package's checker and shape inference, and
prints the op counts. Run in benches/peers/.venv (setup-venv.sh; `pip install onnx`):
    benches/peers/.venv/bin/python benches/peers/check-onnx.py target/imagenet-efficientnet-lite0.onnx
"""
import collections
import sys

import onnx

m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
out = inferred.graph.output[0].type.tensor_type.shape
print("valid; output", [d.dim_value for d in out.dim], dict(collections.Counter(n.op_type for n in m.graph.node)))
