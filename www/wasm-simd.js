// Which of the two wasm builds this browser runs (./build.sh build writes both into pkg/):
//   pkg/advlab_bg.wasm         simd128 (every current browser; the slider path's kernels are written for it);
//   pkg/advlab_compat_bg.wasm  the same Rust without SIMD (Safari before 16.4, older school machines).
// Both come from one crate, so one wasm-bindgen glue (pkg/advlab.js) loads either: each worker calls
// `initWasm(init)` with the glue's default export. `./build.sh dist` leaves the fallback out unless given --compat
// (it keeps dist/ inside its size budget); a browser without SIMD is then told so, translated (error.noSimd).

// The smallest module that uses SIMD: (func (result v128) (i8x16.splat (i32.const 0))).
// A browser without wasm SIMD rejects it, so WebAssembly.validate answers the question without compiling anything.
export const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b, // code: i32.const 0; i8x16.splat; end
]);

/** True when this engine validates wasm SIMD (false also when `WebAssembly` itself is missing). */
export function hasWasmSimd(wasm = globalThis.WebAssembly) {
  try {
    return !!wasm && wasm.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/**
 * The file name in pkg/ of the build this engine should run. `engine` 'photo' is the photo engine
 * (pkg/advlab_photo_bg.wasm), built with simd128 only: a browser without SIMD is told so (error.noSimd).
 */
export function wasmFile(simd = hasWasmSimd(), engine = 'lab') {
  if (engine === 'photo') return 'advlab_photo_bg.wasm';
  return simd ? 'advlab_bg.wasm' : 'advlab_compat_bg.wasm';
}

/** The URL of that build (pkg/ sits next to this module). */
export function wasmUrl(simd = hasWasmSimd(), engine = 'lab') {
  return new URL(`pkg/${wasmFile(simd, engine)}`, import.meta.url);
}

/**
 * Starts the glue's `init` on this engine's build. A failure becomes a translatable engine error: `error.noSimd`
 * where the fallback was needed (and may be missing from this copy), `error.wasm` otherwise.
 */
export async function initWasm(init, simd = hasWasmSimd(), engine = 'lab') {
  try {
    if (engine === 'photo' && !simd) throw new Error('the photo engine needs wasm SIMD');
    return await init({ module_or_path: wasmUrl(simd, engine) });
  } catch (e) {
    throw new Error(`${simd ? 'error.wasm' : 'error.noSimd'}: ${e?.message ?? e}`);
  }
}

/** An engine error as it should reach the page: keyed errors pass through, anything else is `error.wasm`. */
export function asWasmError(e) {
  const msg = String(e?.message ?? e);
  return /^error\.\w+:/.test(msg) ? new Error(msg) : new Error(`error.wasm: ${msg}`);
}
