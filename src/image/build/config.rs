//! The new image's documents (**parent**): its config is the base's (every field kept, as
//! `serde_json` values) with the layer's diff-id appended to `rootfs.diff_ids`, a history
//! entry for it, and the commit's changes; its manifest lists the base's layers and the new one.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::spec::CommitOptions;
use crate::image::store::digest::Digest;
use crate::image::store::json::Descriptor;
use crate::image::store::media;

/// The object `key` of `v` (made, or replacing a non-object).
fn object<'v>(v: &'v mut Map<String, Value>, key: &str) -> &'v mut Map<String, Value> {
    let slot = v.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

/// The array `key` of `v` (made, or replacing a non-array).
fn array<'v>(v: &'v mut Map<String, Value>, key: &str) -> &'v mut Vec<Value> {
    let slot = v.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    match slot {
        Value::Array(items) => items,
        _ => unreachable!("made an array above"),
    }
}

/// The new config: `base` (the base image's config, an object) with the layer `diff_id` of
/// `base_layers` + 1 and the changes of `options`.
pub(crate) fn new_config(base: Value, base_layers: usize, diff_id: &Digest, options: &CommitOptions) -> Value {
    let mut root = match base {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let created = options.created.map(rfc3339);
    match &created {
        Some(when) => root.insert("created".into(), json!(when)),
        None => root.remove("created"), // the base's time is not this image's
    };
    let rootfs = object(&mut root, "rootfs");
    rootfs.insert("type".into(), json!("layers"));
    array(rootfs, "diff_ids").push(json!(diff_id.to_string()));
    let history = array(&mut root, "history");
    // A base without history gets an entry per layer, so that the entries match the layers.
    if history.is_empty() {
        history.resize(base_layers, json!({}));
    }
    let mut entry = Map::new();
    if let Some(when) = created {
        entry.insert("created".into(), json!(when));
    }
    if let Some(by) = &options.created_by {
        entry.insert("created_by".into(), json!(by));
    }
    entry.insert("comment".into(), json!("isobox commit"));
    history.push(Value::Object(entry));
    change_run_config(object(&mut root, "config"), options);
    Value::Object(root)
}

fn change_run_config(c: &mut Map<String, Value>, options: &CommitOptions) {
    if let Some(cmd) = &options.cmd {
        c.insert("Cmd".into(), json!(cmd));
    }
    if let Some(entrypoint) = &options.entrypoint {
        c.insert("Entrypoint".into(), json!(entrypoint));
    }
    if let Some(dir) = &options.working_dir {
        c.insert("WorkingDir".into(), json!(dir));
    }
    if let Some(user) = &options.user {
        c.insert("User".into(), json!(user));
    }
    if !options.env.is_empty() {
        let env = array(c, "Env");
        for var in &options.env {
            let name = var.split('=').next().unwrap_or(var);
            env.retain(|e| e.as_str().and_then(|e| e.split('=').next()) != Some(name));
            env.push(json!(var));
        }
    }
    if !options.labels.is_empty() {
        let labels = object(c, "Labels");
        for (k, v) in &options.labels {
            labels.insert(k.clone(), json!(v));
        }
    }
}

/// The manifest of `config` and `layers`, lowest first.
pub(crate) fn manifest(config: &Descriptor, layers: &[Descriptor]) -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": config.to_json(),
        "layers": layers.iter().map(Descriptor::to_json).collect::<Vec<_>>(),
    })
}

/// `when` as RFC 3339 in UTC, to the second (`1970-01-01T00:00:00Z`); before 1970 is 1970.
pub(crate) fn rfc3339(when: SystemTime) -> String {
    let secs = when.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm), for years from 1970.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates() {
        let at = |s| rfc3339(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_210_096), "2024-02-29T12:34:56Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn the_base_config_is_kept_and_changed() {
        let d = Digest::of(b"layer");
        let base = json!({
            "architecture": "amd64", "created": "2020-01-01T00:00:00Z", "x-unknown": 1,
            "config": { "Env": ["PATH=/bin", "A=1"], "Cmd": ["/bin/sh"], "WorkingDir": "/w" },
            "rootfs": { "type": "layers", "diff_ids": ["sha256:00"] },
        });
        let options = CommitOptions::new("x").env("A", "2").env("B", "3").entrypoint(["/e"]).label("k", "v");
        let c = new_config(base, 1, &d, &options.created_by("make"));
        assert_eq!(c["x-unknown"], 1);
        assert!(c.get("created").is_none(), "no time unless given");
        assert_eq!(c["rootfs"]["diff_ids"], json!(["sha256:00", d.to_string()]));
        assert_eq!(c["history"], json!([{}, { "created_by": "make", "comment": "isobox commit" }]));
        assert_eq!(c["config"]["Env"], json!(["PATH=/bin", "A=2", "B=3"]));
        assert_eq!((&c["config"]["Cmd"], &c["config"]["Entrypoint"]), (&json!(["/bin/sh"]), &json!(["/e"])));
        assert_eq!((&c["config"]["WorkingDir"], &c["config"]["Labels"]), (&json!("/w"), &json!({ "k": "v" })));
        let dated = new_config(json!({}), 0, &d, &CommitOptions::new("x").created(UNIX_EPOCH));
        assert_eq!(dated["created"], "1970-01-01T00:00:00Z");
        assert_eq!(dated["history"][0]["created"], "1970-01-01T00:00:00Z");
    }
}
