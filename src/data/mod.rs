//! Data in and out of the models: the IDX reader, MNIST and Fashion-MNIST (loading is native only), the MNIST
//! preprocessing recipe for drawn or uploaded images (shared by the CLI and the page), and PNG files (native).
//!
//! | module | targets | what it does |
//! |---|---|---|
//! | [`idx`] | all | u8 IDX files, raw or gzip, fully validated |
//! | [`dataset`] | names: all; [`dataset::load`]: native | `DatasetName`, `Split`, `Dataset`, the data directory |
//! | [`preprocess`] | all | RGBA → 28×28 in `[0, 1]`: grey, polarity, crop, fit 20×20, centre of mass |
//! | [`familiar`] | all | is an input like the training digits? (the overconfidence caveat: grey and ink shares) |
//! | [`exif`] | all | the EXIF orientation of a JPEG, and turning the pixels by it |
//! | [`photo`] | all | RGBA photo → 3×224×224 in `[0, 1]`: PIL bicubic short side 256, centre crop 224 |
//! | `image_io` | native | PNG → RGBA and back, JPEG → RGBA with its EXIF orientation applied |

pub mod dataset;
pub mod exif;
pub mod familiar;
pub mod idx;
#[cfg(not(target_arch = "wasm32"))]
pub mod image_io;
pub mod photo;
pub mod preprocess;

#[cfg(not(target_arch = "wasm32"))]
pub use dataset::{load, Dataset};
pub use dataset::{DatasetName, Split};
pub use photo::preprocess_photo;
pub use preprocess::{preprocess_rgba, Invert, Options, Preprocessed};

/// The class names of a dataset given by name (`"mnist"`, `"fashion"`), or `None` if the name is unknown.
pub fn class_names(dataset: &str) -> Option<Vec<String>> {
    dataset
        .parse::<DatasetName>()
        .ok()
        .map(|d| d.class_names().iter().map(|s| s.to_string()).collect())
}
