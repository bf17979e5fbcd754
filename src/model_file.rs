//! Weight files: standard [safetensors](https://huggingface.co/docs/safetensors) with one JSON metadata document.
//!
//! Layout:
//! - tensors `layers.<i>.weight` and `layers.<i>.bias`, `i` being the layer's index in the architecture list;
//!   F32 little-endian, row-major, in PyTorch's layouts (dense `[out, in]`, conv `[out_ch, in_ch, k, k]`), so
//!   `safetensors.torch.load_file` / `safetensors.numpy.load_file` read them as they are;
//! - the header's `__metadata__` map holds one key, [`METADATA_KEY`] (`"advlab"`), whose value is the JSON of
//!   [`ModelMeta`]: name, dataset, class names, input shape, architecture, training recipe (with its seed) and
//!   measured metrics.
//!
//! [`load`] trusts nothing: it checks the header length against the file length before parsing, lets the
//! safetensors crate verify that the offsets tile the data exactly (so a header claiming gigabytes fails before any
//! allocation), validates the architecture without allocating, then checks every tensor's presence, dtype, shape
//! and finiteness, rejects extra tensors, and checks the class names against the output layer. Every failure is an
//! [`Error::ModelFile`] whose message names the problem.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use safetensors::tensor::TensorInfo;
use safetensors::{Dtype, SafeTensorError, SafeTensors, View};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nn::model::plan;
use crate::nn::{LayerSpec, Model};

/// The one key of the safetensors `__metadata__` map.
pub const METADATA_KEY: &str = "advlab";

/// Largest accepted header (JSON) in bytes. Ours are a few kB.
pub const MAX_HEADER_BYTES: usize = 1 << 20;

/// Largest accepted file: the parameter limit of [`crate::nn::MAX_PARAMS`] in f32, plus a header.
pub const MAX_FILE_BYTES: usize = crate::nn::MAX_PARAMS * 4 + MAX_HEADER_BYTES + 8;

/// What the `advlab` metadata entry holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Model id, e.g. `mnist-cnn`.
    pub name: String,
    /// Dataset id, e.g. `mnist` or `fashion`.
    pub dataset: String,
    /// One name per output class, in logit order.
    pub class_names: Vec<String>,
    /// `[C, H, W]` of the input images.
    pub input_shape: [usize; 3],
    pub architecture: Vec<LayerSpec>,
    /// The training recipe, including its seed (free-form JSON, e.g. a serialised `TrainConfig`).
    #[serde(default)]
    pub training: serde_json::Value,
    /// Measured metrics (free-form JSON, e.g. clean and adversarial accuracies).
    #[serde(default)]
    pub metrics: serde_json::Value,
}

impl ModelMeta {
    /// Metadata describing `model`, with empty training and metrics documents.
    pub fn for_model(model: &Model, name: &str, dataset: &str, class_names: Vec<String>) -> ModelMeta {
        ModelMeta {
            name: name.to_string(),
            dataset: dataset.to_string(),
            class_names,
            input_shape: model.input_shape(),
            architecture: model.spec().to_vec(),
            training: serde_json::Value::Null,
            metrics: serde_json::Value::Null,
        }
    }
}

fn bad(msg: impl Into<String>) -> Error {
    Error::ModelFile(msg.into())
}

/// One F32 tensor for [`safetensors::serialize`].
struct F32Tensor {
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &F32Tensor {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// `layers.<i>.<name>`.
pub fn tensor_name(layer: usize, name: &str) -> String {
    format!("layers.{layer}.{name}")
}

/// Serialises `model` with `meta`. Errors when `meta` does not describe `model` (architecture, input shape, class
/// count) or a weight is NaN/∞: such a file could not be loaded back.
pub fn save(model: &Model, meta: &ModelMeta) -> Result<Vec<u8>> {
    if meta.architecture != model.spec() {
        return Err(bad("metadata architecture differs from the model's"));
    }
    if meta.input_shape != model.input_shape() {
        return Err(bad(format!(
            "metadata input_shape {:?} differs from the model's {:?}",
            meta.input_shape,
            model.input_shape()
        )));
    }
    if meta.class_names.len() != model.num_classes() {
        return Err(bad(format!(
            "metadata lists {} class names but the model has {} classes",
            meta.class_names.len(),
            model.num_classes()
        )));
    }
    let mut tensors = Vec::new();
    for p in model.params() {
        let name = tensor_name(p.layer, p.name);
        if let Some(i) = p.data.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!(
                "tensor `{name}` holds a non-finite value at index {i}; refusing to save"
            )));
        }
        let bytes = p.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        tensors.push((name, F32Tensor { shape: p.shape, bytes }));
    }
    let json = serde_json::to_string(meta).map_err(|e| bad(format!("cannot serialise the metadata: {e}")))?;
    let info = HashMap::from([(METADATA_KEY.to_string(), json)]);
    safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(info))
        .map_err(|e| bad(format!("cannot serialise the tensors: {e}")))
}

/// Parses and validates a weight file (see the module docs for what is checked).
pub fn load(bytes: &[u8]) -> Result<(Model, ModelMeta)> {
    let len = bytes.len();
    if len == 0 {
        return Err(bad("the file is empty"));
    }
    if len < 8 {
        return Err(bad(format!(
            "truncated: {len} bytes, but a safetensors file starts with an 8-byte header length"
        )));
    }
    if len > MAX_FILE_BYTES {
        return Err(bad(format!(
            "{len} bytes is larger than any model this app accepts ({MAX_FILE_BYTES} bytes)"
        )));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if n > (len - 8) as u64 {
        return Err(bad(format!(
            "the header claims {n} bytes but only {} follow the length prefix (truncated, or not a safetensors file)",
            len - 8
        )));
    }
    let n = n as usize;
    if n > MAX_HEADER_BYTES {
        return Err(bad(format!(
            "the header is {n} bytes, more than the {MAX_HEADER_BYTES} allowed"
        )));
    }
    let header = std::str::from_utf8(&bytes[8..8 + n]).map_err(|e| bad(format!("the header is not UTF-8: {e}")))?;
    let data_len = len - 8 - n;
    let (_, st_meta) = SafeTensors::read_metadata(bytes).map_err(|e| header_error(e, header, data_len))?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| header_error(e, header, data_len))?;

    let json = st_meta
        .metadata()
        .as_ref()
        .ok_or_else(|| bad("the header has no `__metadata__` map, so no architecture or class names"))?
        .get(METADATA_KEY)
        .ok_or_else(|| bad(format!("the `__metadata__` map has no `{METADATA_KEY}` entry")))?;
    let meta: ModelMeta =
        serde_json::from_str(json).map_err(|e| bad(format!("the `{METADATA_KEY}` metadata is invalid: {e}")))?;
    let plan = plan(&meta.architecture, meta.input_shape).map_err(|e| {
        let msg = match e {
            Error::Shape(m) => m,
            other => other.to_string(),
        };
        bad(format!(
            "the architecture does not fit input_shape {:?}: {msg}",
            meta.input_shape
        ))
    })?;
    let classes = match plan.shapes.last() {
        Some(crate::nn::model::Shape::Flat(k)) => *k,
        _ => unreachable!("plan() checks the output is flat"),
    };
    if meta.class_names.len() != classes {
        return Err(bad(format!(
            "the metadata lists {} class names but the last layer outputs {classes} classes",
            meta.class_names.len()
        )));
    }

    let expected: BTreeSet<String> = plan.params.iter().map(|(l, name, _)| tensor_name(*l, name)).collect();
    let mut extra: Vec<&str> = st.names().into_iter().filter(|n| !expected.contains(*n)).collect();
    if !extra.is_empty() {
        extra.sort_unstable();
        return Err(bad(format!(
            "unexpected tensor(s) {} (the architecture has {} parameter tensors)",
            extra.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
            expected.len()
        )));
    }
    let mut values = Vec::with_capacity(plan.params.len());
    for (layer, pname, shape) in &plan.params {
        let name = tensor_name(*layer, pname);
        let t = st.tensor(&name).map_err(|_| bad(format!("missing tensor `{name}`")))?;
        if t.dtype() != Dtype::F32 {
            return Err(bad(format!("tensor `{name}` has dtype {:?}, expected F32", t.dtype())));
        }
        if t.shape() != shape.as_slice() {
            return Err(bad(format!(
                "tensor `{name}` has shape {:?} but the architecture needs {shape:?}",
                t.shape()
            )));
        }
        let v: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(bad(format!(
                "tensor `{name}` holds a non-finite value ({}) at index {i}",
                v[i]
            )));
        }
        values.push(v);
    }
    let mut model = Model::from_spec(&meta.architecture, meta.input_shape)
        .map_err(|e| bad(format!("the architecture is invalid: {e}")))?;
    for (k, v) in values.iter().enumerate() {
        model.set_param(k, v).map_err(|e| bad(format!("parameter {k}: {e}")))?;
    }
    Ok((model, meta))
}

/// Readable message for a safetensors parse error; `data_len` is the byte count after the header.
fn header_error(e: SafeTensorError, header: &str, data_len: usize) -> Error {
    use SafeTensorError::*;
    match e {
        InvalidHeader(e) => bad(format!("the header is not UTF-8: {e}")),
        InvalidHeaderDeserialization(e) | JsonError(e) => bad(format!("the header is not valid safetensors JSON: {e}")),
        HeaderTooLarge | HeaderTooSmall | InvalidHeaderLength => bad(format!("bad header length: {e}")),
        InvalidOffset(name) => bad(format!(
            "tensor `{name}` has data offsets that leave a gap or overlap (the header lies about offsets)"
        )),
        TensorInvalidInfo => {
            bad("a tensor's byte range does not match its shape and dtype (the header lies about lengths)")
        }
        MetadataIncompleteBuffer => {
            let claimed = claimed_data_len(header).map_or_else(|| "a different number of".into(), |c| c.to_string());
            bad(format!(
                "the header describes {claimed} bytes of tensor data but the file holds {data_len} \
                 (truncated, or the header lies about lengths)"
            ))
        }
        ValidationOverflow => bad("a tensor's shape overflows (the header lies about shapes)"),
        other => bad(format!("invalid safetensors data: {other}")),
    }
}

/// End of the last tensor according to the header, for error messages.
fn claimed_data_len(header: &str) -> Option<usize> {
    let v: HashMap<String, serde_json::Value> = serde_json::from_str(header).ok()?;
    v.into_iter()
        .filter(|(k, _)| k != "__metadata__")
        .filter_map(|(_, t)| serde_json::from_value::<TensorInfo>(t).ok())
        .map(|t| t.data_offsets.1)
        .max()
}

/// [`save`] to a file (native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn save_file(path: impl AsRef<std::path::Path>, model: &Model, meta: &ModelMeta) -> Result<()> {
    let path = path.as_ref();
    let bytes = save(model, meta)?;
    std::fs::write(path, bytes).map_err(|e| Error::Io(format!("{}: {e}", path.display())))
}

/// [`load`] from a file (native only); refuses files larger than [`MAX_FILE_BYTES`] before reading them.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_file(path: impl AsRef<std::path::Path>) -> Result<(Model, ModelMeta)> {
    let path = path.as_ref();
    let io = |e: std::io::Error| Error::Io(format!("{}: {e}", path.display()));
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_FILE_BYTES as u64 {
        return Err(bad(format!(
            "{}: {size} bytes is larger than any model this app accepts",
            path.display()
        )));
    }
    load(&std::fs::read(path).map_err(io)?).map_err(|e| match e {
        Error::ModelFile(m) => Error::ModelFile(format!("{}: {m}", path.display())),
        other => other,
    })
}
