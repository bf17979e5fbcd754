//! The `advlab` command line (native only): train, eval, transfer, attack, predict, export-samples.
//!
//! Every command validates its options and reports a bad one as a clear error naming it (exit code 2); it never
//! panics on user input. `--json` prints one JSON document on stdout.

mod args;
mod attack;
mod common;
mod eval;
mod predict;
mod samples;
mod train;

pub use args::Args;

use crate::{Error, Result};

const USAGE: &str = "\
advlab: adversarial examples on MNIST, Fashion-MNIST and ImageNet photos

USAGE:
  advlab train --arch <linear|mlp|cnn> --dataset <mnist|fashion> --epochs N --seed S --out FILE
               [--lr LR] [--batch B] [--shift PIXELS] [--resolution R] [--train-n N] [--name ID] [--adv <none|fgsm|fgsm-rs|pgd|ensemble>] [--adv-eta E] [--sources A,B]
  advlab predict --model FILE --image IN.png|IN.jpg [--top K] [--json]
  advlab eval --model FILE [--n N] [--images DIR [--labels FILE.csv]] [--attack NAME --eta E [--norm linf|l2] [--targeted] [--seed S]
              [--params JSON]] [--json]
  advlab transfer --from A --to B --attack NAME --eta E [--n N] [--norm linf|l2] [--seed S] [--json]
  advlab attack --model FILE (--image IN.png|IN.jpg | --sample INDEX) --attack NAME --eta E [--target C]
                [--norm linf|l2] [--seed S] [--params JSON] [--max-eta E] [--out OUT.png] [--json]
  advlab export-samples --dataset <mnist|fashion> --n N --out-dir DIR

Attacks: fgsm bim pgd mifgsm deepfool cw jsma simba square one_pixel
Images go through the model's recipe: MNIST's for digits, resize + centre crop 224 for photos (EXIF honoured).
eval --images DIR: labels from names like imagenet_06_243.jpg, or from DIR/labels.csv (file,label).
Data comes from .data/ (./build.sh data) or $ADVLAB_DATA.";

/// Runs the command line `argv` (without the program name); returns the process exit code.
pub fn main(argv: &[String]) -> i32 {
    let Some((cmd, rest)) = argv.split_first() else {
        eprintln!("{USAGE}");
        return 2;
    };
    let result = match cmd.as_str() {
        "train" => train::run(rest),
        "eval" => eval::run(rest),
        "transfer" => eval::run_transfer(rest),
        "attack" => attack::run(rest),
        "predict" => predict::run(rest),
        "export-samples" => samples::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(Error::param("command", format!("unknown command `{other}`"))),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("advlab: {e}");
            if matches!(e, Error::InvalidParameter { .. }) {
                eprintln!("(advlab --help lists the options)");
            }
            2
        }
    }
}

/// An `f32` as the `f64` with the same shortest decimal form, so JSON shows `0.1` rather than
/// `0.10000000149011612` (the widening `f32 → f64` keeps the binary value, not the decimal one).
pub(crate) fn jf(x: f32) -> f64 {
    if x.is_finite() {
        format!("{x}").parse().unwrap_or(x as f64)
    } else {
        f64::NAN
    }
}

/// [`jf`] over a slice.
pub(crate) fn jfs(xs: &[f32]) -> Vec<f64> {
    xs.iter().map(|&x| jf(x)).collect()
}

/// Prints a JSON value on stdout.
pub(crate) fn print_json(v: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string(v).map_err(|e| Error::Io(e.to_string()))?);
    Ok(())
}
