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
    args.finish()?;
    if n == 0 || n > 10_000 {
        return Err(Error::param("n", format!("must lie in 1..=10000, got {n}")));
    }
    let d = load(dataset, Split::Test, Some(n))?;
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
    std::fs::write(format!("{dir}/{name}-test-images.idx"), img)?;
    std::fs::write(format!("{dir}/{name}-test-labels.idx"), lab)?;
    eprintln!("wrote {n} {name} test images to {dir}/");
    Ok(())
}
