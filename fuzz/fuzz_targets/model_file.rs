//! The weight-file reader (safetensors + advlab metadata): any bytes give a model or an error, never a panic, an
//! abort or an allocation the file's size does not justify. A model that loads must also run a forward pass.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((model, _meta)) = advlab::model_file::load(data) {
        let [c, h, w] = model.input_shape();
        if c * h * w <= 1 << 16 {
            let x = ndarray::Array4::<f32>::zeros((1, c, h, w));
            let z = model.logits(x.view());
            assert_eq!(z.nrows(), 1);
        }
    }
});
