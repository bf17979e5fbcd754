#!/usr/bin/env bash
# Creates benches/peers/.venv (git-ignored) with what the Python peers need: NumPy for the independent
# EfficientNet reference (efficientnet_ref.py) and Pillow for its image decoding and PIL's bicubic resize.
# Idempotent; on Debian it needs python3-venv (installed here when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -c 'import numpy, PIL' 2>/dev/null ||
  .venv/bin/python -m pip install --disable-pip-version-check --quiet 'numpy>=1.26,<3' 'pillow>=10,<12'
.venv/bin/python -c 'import numpy, PIL; print("numpy", numpy.__version__, "pillow", PIL.__version__)'
