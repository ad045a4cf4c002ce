//! `linux.devices` onto the library's device nodes, made after the mounts. Whether one can be
//! opened is `linux.resources.devices`' say, which isobox enforces by its nodev mounts: only
//! its default devices are usable (`resources::devices`), and a listed node of any other
//! device exists but cannot be opened, as a device cgroup denying it would have it.

use std::path::Path;

use isobox::{DeviceNode, Mount};

use crate::error::OciError;
use crate::spec::Device;

pub fn map(devices: &[Device]) -> Result<Vec<Mount>, OciError> {
    devices.iter().map(node).collect()
}

fn node(d: &Device) -> Result<Mount, OciError> {
    let field = || format!("linux.devices {}", d.path);
    if !Path::new(&d.path).is_absolute() {
        return Err(OciError::invalid(field(), "the path is not absolute"));
    }
    let number = |n: i64, what: &str| u32::try_from(n).map_err(|_| OciError::invalid(field(), format!("{what} {n}")));
    let (major, minor) = (number(d.major, "major")?, number(d.minor, "minor")?);
    let node = match d.kind.as_str() {
        "c" | "u" => DeviceNode::char(major, minor),
        "b" => DeviceNode::block(major, minor),
        "p" => DeviceNode::fifo(),
        other => return Err(OciError::invalid(field(), format!("type {other:?}: c, u, b or p"))),
    };
    let node = node.mode(d.file_mode.unwrap_or(0o666)).owner(d.uid.unwrap_or(0), d.gid.unwrap_or(0));
    Ok(Mount::device_node(&d.path, node))
}
