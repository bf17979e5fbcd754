//! `advlab`: the command-line face of Adversarial Lab (train, eval, attack, transfer).
fn main() {
    eprintln!("advlab: not yet implemented");
    std::process::exit(2);
}
