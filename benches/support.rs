//! What the benchmarks and examples share: the RealEstateCore ontology, read from `../shared`.

use std::path::{Path, PathBuf};

use actix::Arbiter;
use serde_json::Value;
use twinlog_actors::data_plane::DataPlane;
use twinlog_actors::log::{EventLog, LogOptions};
use twinlog_actors::region::RegionOptions;

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

/// A data plane over the log in `dir` (created if new) for `options.region`, its twin actors on
/// `arbiters`, with every RealEstateCore model uploaded.
pub async fn realestatecore_plane(
    dir: &Path,
    options: RegionOptions,
    arbiters: &[Arbiter],
) -> DataPlane {
    let log = EventLog::open(dir, LogOptions::new(&options.region)).expect("open the log");
    let handles = arbiters.iter().map(Arbiter::handle).collect();
    let plane = DataPlane::start(log, options, handles).expect("start the data plane");
    plane
        .upload_models(realestatecore_models())
        .await
        .expect("upload RealEstateCore");
    plane
}
