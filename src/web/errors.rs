//! [`crate::Error`] → `JsError`. The message is `"<i18n key>: <English detail>"`; the page translates the key and
//! shows the detail beside it.

use wasm_bindgen::JsError;

use crate::Error;

/// Converts a crate error into the `JsError` the page shows.
pub fn to_js(e: Error) -> JsError {
    JsError::new(&format!("{}: {}", e.key(), e))
}

/// `Result<T>` → `Result<T, JsError>`.
pub trait IntoJs<T> {
    fn js(self) -> Result<T, JsError>;
}

impl<T> IntoJs<T> for crate::Result<T> {
    fn js(self) -> Result<T, JsError> {
        self.map_err(to_js)
    }
}
