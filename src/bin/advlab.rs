//! `advlab`: the command-line face of Adversarial Lab. All logic lives in [`advlab::cli`].
fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(advlab::cli::main(&argv));
}
