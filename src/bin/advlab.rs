//! `advlab`: the command-line face of Adversarial Lab. All logic lives in `advlab::cli` (native only).
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(advlab::cli::main(&argv));
}

/// The CLI reads files and datasets: it has no wasm32 form (the page uses `advlab::web` instead).
#[cfg(target_arch = "wasm32")]
fn main() {}
