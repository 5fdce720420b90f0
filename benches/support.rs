//! What the benchmarks and examples share: the RealEstateCore ontology, read from `../shared`.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A RealEstateCore equipment model with fifteen properties of simple schemas and no components.
pub const EQUIPMENT_MODEL: &str = "dtmi:digitaltwins:rec_3_3:asset:AccessControlEquipment;1";

pub fn realestatecore_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/dtdl/realestatecore")
}

/// Every Interface of the ontology, as one JSON array for a single upload.
pub fn realestatecore_models() -> Value {
    let mut models = Vec::new();
    let mut dirs = vec![realestatecore_dir()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                match serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap() {
                    Value::Array(many) => models.extend(many),
                    one => models.push(one),
                }
            }
        }
    }
    Value::Array(models)
}

/// An equipment twin with ten properties set.
pub fn equipment_twin(n: u64) -> Value {
    serde_json::json!({
        "$metadata": {"$model": EQUIPMENT_MODEL},
        "name": format!("door controller {n}"),
        "serialNumber": format!("SN-{n:08}"),
        "modelNumber": "AC-200",
        "physicalTagNumber": format!("TAG-{n}"),
        "IPAddress": "10.0.0.1",
        "MACAddress": "00:11:22:33:44:55",
        "weight": 1.5,
        "installationDate": "2024-01-02",
        "commissionDate": "2024-02-03",
        "maintenanceInterval": "P6M"
    })
}
