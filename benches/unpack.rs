//! Unpacking a layer against `tar -x` of the same archive (issue "Images": within 1.5×).
//! `cargo bench --bench unpack`. Two layers are made here, with symlinks, in nested
//! directories under /var/tmp (`ISOBOX_UNPACK_DIR` to choose): 100 MiB in files of 4 KiB to
//! 1 MiB, and 40 MiB in files of 1 to 8 KiB. Each side unpacks each 5 times into a fresh
//! directory, after one run of each to warm the page cache; the medians are printed.
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

fn make_layer(path: &Path, small: bool) -> (usize, u64) {
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
        b.append_data(&mut h, &name, std::io::repeat((files % 251) as u8).take_bytes(size)).unwrap();
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
