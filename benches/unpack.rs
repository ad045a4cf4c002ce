//! Unpacking a layer against `tar -x` of the same archive (issue "Images": within 1.5×).
//! `cargo bench --bench unpack`. Two layers are made here, with symlinks, in nested
//! directories under /var/tmp (`ISOBOX_UNPACK_DIR` to choose): 100 MiB in files of 4 KiB to
//! 1 MiB, and 40 MiB in files of 1 to 8 KiB. Each side unpacks each 5 times into a fresh
//! directory, after one run of each to warm the page cache; the medians are printed.
//! Then an import through `ImageStore` (blob copied, hashed and synced, gunzipped, diff-id
//! hashed, unpacked, synced, published) of a gzip'd 100 MiB layer of half-random bytes (it
//! packs to about 60%) against `tar -xzf` of the same `.tar.gz`, each into a fresh store or
//! directory.
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

fn make_layer(path: &Path, small: bool) -> (usize, u64) {
    make_layer_of(path, small, false)
}

/// A layer like `make_layer`'s big one, or with `noisy` files of random nibbles (which
/// compress about as much as a real image's).
fn make_layer_of(path: &Path, small: bool, noisy: bool) -> (usize, u64) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    let (mut files, mut bytes) = (0usize, 0u64);
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    while bytes < if small { 40 << 20 } else { 100 << 20 } {
        let size = if small { 1024usize << (next() % 4) } else { 4096usize << (next() % 9) }; // 1–8 KiB, or 4 KiB–1 MiB
        let name = format!("usr/lib/d{}/e{}/f{files}.bin", next() % 16, next() % 8);
        let mut h = tar::Header::new_gnu();
        h.set_size(size as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_cksum();
        if noisy {
            let data: Vec<u8> = (0..size / 8).flat_map(|_| next().to_le_bytes().map(|b| b & 0x0f)).collect();
            b.append_data(&mut h, &name, &data[..]).unwrap();
        } else {
            b.append_data(&mut h, &name, std::io::repeat((files % 251) as u8).take_bytes(size)).unwrap();
        }
        if files % 50 == 0 {
            let mut l = tar::Header::new_gnu();
            l.set_entry_type(tar::EntryType::Symlink);
            l.set_uid(0);
            l.set_gid(0);
            l.set_mtime(0);
            l.set_mode(0o777);
            l.set_size(0);
            b.append_link(&mut l, format!("usr/link{files}"), &name).unwrap();
        }
        files += 1;
        bytes += size as u64;
    }
    b.finish().unwrap();
    (files, bytes)
}

trait TakeBytes: std::io::Read + Sized {
    fn take_bytes(self, n: usize) -> std::io::Take<Self> {
        self.take(n as u64)
    }
}
impl<R: std::io::Read> TakeBytes for R {}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let work =
        tempfile::tempdir_in(std::env::var_os("ISOBOX_UNPACK_DIR").unwrap_or_else(|| "/var/tmp".into())).unwrap();
    println!("| layer | tar -x (GNU tar) | isobox::unpack_layer | ratio |");
    println!("| --- | ---: | ---: | ---: |");
    for small in [false, true] {
        let layer = work.path().join(format!("layer-{small}.tar"));
        let (files, bytes) = make_layer(&layer, small);
        let (ours, theirs) = compare(work.path(), &layer);
        let what = format!("{files} files, {} MiB", bytes >> 20);
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!("| {what} | {:.0} ms | {:.0} ms | {:.2} |", ms(theirs), ms(ours), ms(ours) / ms(theirs));
    }
    let _ = std::io::stdout().flush();
    import(work.path());
}

/// An OCI layout in `dir` of one image whose one layer is `gz` (of the uncompressed `tar`).
fn write_layout(dir: &Path, tar: &Path, gz: &Path) {
    use sha2::Digest as _;
    let hex = |bytes: &[u8]| -> String { sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect() };
    let digest = |p: &Path| hex(&std::fs::read(p).unwrap());
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        std::fs::write(blobs.join(hex(bytes)), bytes).unwrap();
        (format!("sha256:{}", hex(bytes)), bytes.len())
    };
    let layer_hex = digest(gz);
    std::fs::copy(gz, blobs.join(&layer_hex)).unwrap();
    let config = serde_json::json!({ "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{}", digest(tar))] } });
    let (config_digest, config_size) = put(config.to_string().as_bytes());
    let manifest = serde_json::json!({ "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": format!("sha256:{layer_hex}"),
                     "size": std::fs::metadata(gz).unwrap().len() }] });
    let (manifest_digest, manifest_size) = put(manifest.to_string().as_bytes());
    let index = serde_json::json!({ "schemaVersion": 2, "manifests": [{ "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest_digest, "size": manifest_size, "annotations": { "org.opencontainers.image.ref.name": "bench" } }] });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// `ImageStore::import_oci_dir` of a gzip'd layer against `tar -xzf`, medians of 5.
fn import(work: &Path) {
    let (tar, gz, src) = (work.join("import.tar"), work.join("import.tar.gz"), work.join("layout"));
    let (files, bytes) = make_layer_of(&tar, false, true);
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    std::io::copy(&mut std::fs::File::open(&tar).unwrap(), &mut enc).unwrap();
    enc.finish().unwrap();
    write_layout(&src, &tar, &gz);
    let run = |i: usize, ours: bool| -> Duration {
        let dest = work.join(format!("import-{}-{i}", if ours { "isobox" } else { "tar" }));
        std::fs::create_dir(&dest).unwrap();
        let start = Instant::now();
        if ours {
            let store = isobox::ImageStore::open(&dest).unwrap();
            store.import_oci_dir(&src, None).unwrap();
        } else {
            let status = std::process::Command::new("tar").arg("-xzf").arg(&gz).arg("-C").arg(&dest).status().unwrap();
            assert!(status.success());
        }
        let took = start.elapsed();
        std::process::Command::new("rm").arg("-rf").arg(&dest).status().unwrap();
        took
    };
    let _ = (run(100, true), run(100, false));
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for i in 0..5 {
        ours.push(run(i, true));
        theirs.push(run(i, false));
    }
    let (ours, theirs) = (median(ours), median(theirs));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let packed = std::fs::metadata(&gz).unwrap().len() >> 20;
    println!();
    println!("| layer (gzip) | tar -xzf (GNU tar) | isobox::ImageStore::import_oci_dir | ratio |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| {files} files, {} MiB ({packed} MiB packed) | {:.0} ms | {:.0} ms | {:.2} |",
        bytes >> 20,
        ms(theirs),
        ms(ours),
        ms(ours) / ms(theirs)
    );
}

/// Medians of 5 unpacks of `layer` each way, after one of each to warm the page cache.
fn compare(work: &Path, layer: &Path) -> (Duration, Duration) {
    let run = |i: usize, ours: bool| -> Duration {
        let dest = work.join(format!("{}-{i}", if ours { "isobox" } else { "tar" }));
        std::fs::create_dir(&dest).unwrap();
        let start = Instant::now();
        if ours {
            let archive = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(layer).unwrap());
            isobox::unpack_layer(archive, &dest, &isobox::UnpackOptions::default()).unwrap();
        } else {
            let status = std::process::Command::new("tar").arg("-xf").arg(layer).arg("-C").arg(&dest).status().unwrap();
            assert!(status.success());
        }
        let took = start.elapsed();
        std::fs::remove_dir_all(&dest).unwrap();
        took
    };
    let _ = (run(100, true), run(100, false));
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for i in 0..5 {
        ours.push(run(i, true));
        theirs.push(run(i, false));
    }
    (median(ours), median(theirs))
}
