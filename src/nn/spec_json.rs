//! The JSON form of a [`LayerSpec`] (the weight file's `"architecture"`), written by hand.
//!
//! `{"type": "conv2d", "in_channels": 1, "out_channels": 8, "kernel": 3, "stride": 1, "padding": "same"}`: the
//! `type` tag in snake case, then the variant's fields; `padding` is a number or `"same"`; a `residual` holds
//! `"layers": [...]`. Unknown fields are ignored, as serde's derive does.
//!
//! Why not `#[derive(Deserialize)] #[serde(tag = "type")]`: an internally tagged enum (and an untagged one for
//! the padding) makes serde buffer every field into its `Content` tree and monomorphise a visitor per variant and
//! per deserializer, which cost the default page's wasm about 20 KB gzip. Going through one
//! [`serde_json::Value`] (already linked for the metadata) and matching on it by hand is the same format in a
//! fraction of the code, and the messages name the field and layer.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};

use super::{LayerSpec, Padding};

/// `spec` as a JSON object (a [`Value`] sorts its keys; the serialised text keeps [`fields`]' order).
pub fn to_json(spec: &LayerSpec) -> Value {
    Value::Object(
        fields(spec)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Map<_, _>>(),
    )
}

/// The JSON fields of `spec` in their documented order: `type` first, then the variant's fields.
fn fields(spec: &LayerSpec) -> Vec<(&'static str, Value)> {
    let mut o = vec![("type", Value::from(spec.kind()))];
    let mut put = |k: &'static str, v: Value| o.push((k, v));
    match spec {
        LayerSpec::Dense { inputs, outputs } => {
            put("inputs", json!(inputs));
            put("outputs", json!(outputs));
        }
        LayerSpec::Conv2d {
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
        } => {
            put("in_channels", json!(in_channels));
            put("out_channels", json!(out_channels));
            put("kernel", json!(kernel));
            put("stride", json!(stride));
            put("padding", padding_json(*padding));
        }
        LayerSpec::DepthwiseConv2d {
            channels,
            kernel,
            stride,
            padding,
        } => {
            put("channels", json!(channels));
            put("kernel", json!(kernel));
            put("stride", json!(stride));
            put("padding", padding_json(*padding));
        }
        LayerSpec::MaxPool2d { size } => put("size", json!(size)),
        LayerSpec::Normalize { mean, std } => {
            put("mean", json!(mean));
            put("std", json!(std));
        }
        LayerSpec::Residual { layers } => put("layers", json!(layers)),
        LayerSpec::Relu | LayerSpec::Relu6 | LayerSpec::Flatten | LayerSpec::GlobalAvgPool => {}
    }
    o
}

fn padding_json(p: Padding) -> Value {
    match p {
        Padding::Fixed(n) => json!(n),
        Padding::Same => json!("same"),
    }
}

/// The layer a JSON object describes, or a message naming what is wrong.
pub fn from_json(v: &Value) -> Result<LayerSpec, String> {
    let o = v.as_object().ok_or("a layer must be a JSON object")?;
    let kind = o
        .get("type")
        .ok_or("a layer needs a \"type\"")?
        .as_str()
        .ok_or("a layer's \"type\" must be a string")?;
    let field = |k: &str| o.get(k).ok_or_else(|| format!("{kind}: missing field `{k}`"));
    let num = |k: &str| -> Result<usize, String> {
        field(k)?
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| format!("{kind}: `{k}` must be a non-negative integer"))
    };
    let floats = |k: &str| -> Result<Vec<f32>, String> {
        let a = field(k)?
            .as_array()
            .ok_or_else(|| format!("{kind}: `{k}` must be an array of numbers"))?;
        a.iter()
            .map(|x| x.as_f64().map(|f| f as f32))
            .collect::<Option<Vec<f32>>>()
            .ok_or_else(|| format!("{kind}: `{k}` must be an array of numbers"))
    };
    let padding = || -> Result<Padding, String> {
        match field("padding")? {
            Value::String(s) if s == "same" => Ok(Padding::Same),
            Value::String(s) => Err(format!("unknown padding \"{s}\" (a number or \"same\")")),
            p => p
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .map(Padding::Fixed)
                .ok_or_else(|| "padding must be a non-negative integer or the string \"same\"".to_string()),
        }
    };
    Ok(match kind {
        "dense" => LayerSpec::Dense {
            inputs: num("inputs")?,
            outputs: num("outputs")?,
        },
        "conv2d" => LayerSpec::Conv2d {
            in_channels: num("in_channels")?,
            out_channels: num("out_channels")?,
            kernel: num("kernel")?,
            stride: num("stride")?,
            padding: padding()?,
        },
        "depthwise_conv2d" => LayerSpec::DepthwiseConv2d {
            channels: num("channels")?,
            kernel: num("kernel")?,
            stride: num("stride")?,
            padding: padding()?,
        },
        "max_pool2d" => LayerSpec::MaxPool2d { size: num("size")? },
        "relu" => LayerSpec::Relu,
        "relu6" => LayerSpec::Relu6,
        "flatten" => LayerSpec::Flatten,
        "global_avg_pool" => LayerSpec::GlobalAvgPool,
        "normalize" => LayerSpec::Normalize {
            mean: floats("mean")?,
            std: floats("std")?,
        },
        "residual" => LayerSpec::Residual {
            layers: field("layers")?
                .as_array()
                .ok_or("residual: `layers` must be an array of layers")?
                .iter()
                .map(from_json)
                .collect::<Result<_, _>>()?,
        },
        other => {
            return Err(format!(
                "unknown layer type `{other}` (expected one of dense, conv2d, depthwise_conv2d, max_pool2d, relu, \
                 relu6, flatten, global_avg_pool, normalize, residual)"
            ))
        }
    })
}

impl Serialize for LayerSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let f = fields(self);
        let mut m = s.serialize_map(Some(f.len()))?;
        for (k, v) in &f {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for LayerSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LayerSpec, D::Error> {
        from_json(&Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

impl Serialize for Padding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        padding_json(*self).serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_round_trips_through_json_text() {
        let specs = vec![
            LayerSpec::Normalize {
                mean: vec![0.5, 0.25, 0.0],
                std: vec![0.5, 0.5, 1.0],
            },
            LayerSpec::conv2d(3, 8, 3, 2, Padding::Same),
            LayerSpec::conv2d(8, 8, 3, 1, Padding::Fixed(1)),
            LayerSpec::Relu6,
            LayerSpec::Residual {
                layers: vec![
                    LayerSpec::DepthwiseConv2d {
                        channels: 8,
                        kernel: 3,
                        stride: 1,
                        padding: Padding::Same,
                    },
                    LayerSpec::Relu,
                ],
            },
            LayerSpec::MaxPool2d { size: 2 },
            LayerSpec::GlobalAvgPool,
            LayerSpec::Flatten,
            LayerSpec::Dense { inputs: 8, outputs: 10 },
        ];
        let text = serde_json::to_string(&specs).unwrap();
        assert!(text.contains(r#""type":"depthwise_conv2d""#), "{text}");
        assert!(text.contains(r#""padding":"same""#), "{text}");
        let back: Vec<LayerSpec> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, specs);
    }

    #[test]
    fn bad_layers_name_what_is_wrong() {
        let err = |s: &str| serde_json::from_str::<LayerSpec>(s).unwrap_err().to_string();
        assert!(err(r#"{"type":"dense","inputs":3}"#).contains("missing field `outputs`"));
        assert!(err(r#"{"type":"dense","inputs":-3,"outputs":2}"#).contains("`inputs` must be a non-negative"));
        assert!(err(r#"{"type":"lstm"}"#).contains("unknown layer type `lstm`"));
        assert!(err(r#"{"inputs":3}"#).contains("needs a \"type\""));
        assert!(
            err(r#"{"type":"conv2d","in_channels":1,"out_channels":1,"kernel":3,"stride":1,"padding":"valid"}"#)
                .contains("unknown padding \"valid\"")
        );
        assert!(
            err(r#"{"type":"residual","layers":[{"type":"relu"},{"type":"x"}]}"#).contains("unknown layer type `x`")
        );
        assert!(err("[1]").contains("must be a JSON object"));
        // Unknown fields are ignored (older and newer files keep loading).
        let ok: LayerSpec = serde_json::from_str(r#"{"type":"relu","note":"hi"}"#).unwrap();
        assert_eq!(ok, LayerSpec::Relu);
    }
}
