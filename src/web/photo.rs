//! The photo engine's extra calls (compiled with the `photo` feature only: the lab engine has no photo layers).
//!
//! The browser decodes the photo (and applies its EXIF orientation: `createImageBitmap` with
//! `imageOrientation: "from-image"`); the page hands the RGBA pixels here, and [`crate::data::photo`] does the
//! rest exactly as `advlab predict --image` does: the short side resized to 256 with PIL's bicubic filter, the
//! 224×224 centre crop, `x = rgb / 255` in NCHW. The model's first layer normalises, so η stays in pixel units.

use js_sys::Float32Array;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::dto::JsObject;
use super::errors::IntoJs;
use super::session::Session;
use crate::data::photo::{crop_box, preprocess_photo, SIDE};
use crate::model_file::ClassGroup;

/// What a photo page needs beyond [`super::dto::ModelInfo`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhotoInfo<'a> {
    license: &'a str,
    /// `{"nl": [1000 names]}`: the class names by language; English is `ModelInfo.classNames`.
    class_names_i18n: &'a std::collections::BTreeMap<String, Vec<String>>,
    /// `[{name: "dog", classes: [151, …, 268]}, {name: "pig", classes: [341, 342, 343]}]`.
    class_groups: &'a [ClassGroup],
    /// The model's input side (224).
    side: usize,
}

#[wasm_bindgen]
impl Session {
    /// The photo recipe on an RGBA buffer (`width·height·4` bytes, at least 32 and at most 4096 pixels a side):
    /// `{pixels: Float32Array(3·224·224), side: 224, crop: {left, top, side}}`, `crop` being the square of the
    /// source photo the model sees, in source pixels. A bad buffer is an `error.image` message.
    #[wasm_bindgen(js_name = preparePhoto)]
    pub fn prepare_photo(&self, rgba: &[u8], width: u32, height: u32) -> Result<JsValue, JsError> {
        let pixels = preprocess_photo(width, height, rgba).js()?;
        let (left, top, side) = crop_box(width as usize, height as usize);
        let crop = JsObject::new().set("left", left).set("top", top).set("side", side);
        Ok(JsObject::new()
            .set("pixels", Float32Array::from(&pixels[..]))
            .set("side", SIDE as u32)
            .set("crop", crop)
            .into())
    }

    /// The licence, translated class names and class groups of model `id` (see [`PhotoInfo`]).
    #[wasm_bindgen(js_name = photoInfo)]
    pub fn photo_info(&self, id: &str) -> Result<JsValue, JsError> {
        let l = self.get(id).js()?;
        let info = PhotoInfo {
            license: &l.meta.license,
            class_names_i18n: &l.meta.class_names_i18n,
            class_groups: &l.meta.class_groups,
            side: l.model.input_shape()[1],
        };
        // json_compatible: the language map becomes a plain object, not a JS Map.
        info.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|e| JsError::new(&format!("error.internal: {e}")))
    }
}
