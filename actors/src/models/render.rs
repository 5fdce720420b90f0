//! ModelData, the document `GET /models` and `POST /models` answer with.

use serde_json::{json, Map, Value};

use super::StoredModel;
use crate::aggregate::rfc3339_from_ms;

impl StoredModel {
    /// `{"id", "displayName"?, "description"?, "uploadTime", "decommissioned", "model"?}`.
    /// `displayName` and `description` are always language maps (a plain string in the model
    /// is filed under `en`): the SDKs cannot read a bare string there. They are left out when
    /// the model has none. `model`, the definition as uploaded, comes with
    /// `include_definition` (`includeModelDefinition=true`, and every upload reply).
    pub fn model_data(&self, include_definition: bool) -> Value {
        let mut data = Map::new();
        data.insert("id".to_owned(), json!(self.id().as_str()));
        let interface = self.interface();
        if !interface.display_name().is_empty() {
            data.insert("displayName".to_owned(), json!(interface.display_name()));
        }
        if !interface.description().is_empty() {
            data.insert("description".to_owned(), json!(interface.description()));
        }
        data.insert(
            "uploadTime".to_owned(),
            json!(rfc3339_from_ms(self.uploaded_ms())),
        );
        data.insert("decommissioned".to_owned(), json!(self.is_decommissioned()));
        if include_definition {
            data.insert("model".to_owned(), Value::clone(self.definition()));
        }
        Value::Object(data)
    }
}
