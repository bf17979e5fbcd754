//! Weight files. STUB: being implemented.
use crate::error::Result;
use crate::nn::{LayerSpec, Model};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelMeta {
    pub name: String,
    pub dataset: String,
    pub class_names: Vec<String>,
    pub input_shape: [usize; 3],
    pub architecture: Vec<LayerSpec>,
    pub training: serde_json::Value,
    pub metrics: serde_json::Value,
}

pub fn load(_bytes: &[u8]) -> Result<(Model, ModelMeta)> {
    unimplemented!()
}
