//! `advlab export-samples`: the first `n` test images and labels as IDX files for the page's sample gallery, so
//! that `sample=42` on the page and `--sample 42` here are the same image.

use super::Args;
use crate::data::idx::IdxU8;
use crate::data::{load, DatasetName, Split};
use crate::{Error, Result};

pub fn run(argv: &[String]) -> Result<()> {
    let args = Args::parse(argv, &[])?;
    let dataset: DatasetName = args.required("dataset")?.parse()?;
    let n: usize = args.get_or("n", 500)?;
    let dir = args.required("out-dir")?.to_string();
    // `--split train`: the first n training images, as `{dataset}-train-{n}-{images,labels}.idx` (the page's
    // in-browser training subset).
    let split = args.str("split").unwrap_or("test").to_string();
    args.finish()?;
    let (split, max) = match split.as_str() {
        "test" => (Split::Test, 10_000),
        "train" => (Split::Train, 60_000),
        other => return Err(Error::param("split", format!("must be test or train, got `{other}`"))),
    };
    if n == 0 || n > max {
        return Err(Error::param("n", format!("must lie in 1..={max}, got {n}")));
    }
    let d = load(dataset, split, Some(n))?;
    // Back to bytes exactly: the dataset holds u8/255.
    let images: Vec<u8> = d.images.iter().map(|v| (v * 255.0).round() as u8).collect();
    let labels: Vec<u8> = d.labels.iter().map(|&l| l as u8).collect();
    std::fs::create_dir_all(&dir)?;
    let name = dataset.as_str();
    let img = IdxU8 {
        dims: vec![n, 28, 28],
        data: images,
    }
    .to_bytes()?;
    let lab = IdxU8 {
        dims: vec![n],
        data: labels,
    }
    .to_bytes()?;
    let stem = match split {
        Split::Test => format!("{dir}/{name}-test"),
        _ => format!("{dir}/{name}-train-{n}"),
    };
    std::fs::write(format!("{stem}-images.idx"), img)?;
    std::fs::write(format!("{stem}-labels.idx"), lab)?;
    eprintln!("wrote {n} {name} images to {stem}-*.idx");
    Ok(())
}
