use super::*;
use crate::mount::overlay::error::OverlayError;

/// A base directory with `n` layer directories `l0`… and the candidate staging directories
/// `stage-a` (which holds nothing) and `stage-b`.
struct Host {
    dir: tempfile::TempDir,
}

impl Host {
    fn new(n: usize) -> Host {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..n {
            std::fs::create_dir(dir.path().join(format!("l{i}"))).unwrap();
        }
        for s in ["stage-a", "stage-b"] {
            std::fs::create_dir(dir.path().join(s)).unwrap();
        }
        Host { dir }
    }
    fn layers(&self, n: usize) -> Vec<PathBuf> {
        (0..n).map(|i| self.dir.path().join(format!("l{i}"))).collect()
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn input<'a>(candidates: &'a [&'a str], kernel: (u32, u32)) -> OverlayInput<'a> {
    OverlayInput { user_namespace: true, kernel: Some(kernel), keep_visible: Vec::new(), candidates, page: 4096 }
}

fn config_err(r: Result<OverlayPlan, ConfigError>) -> OverlayError {
    match r {
        Err(ConfigError::Overlay(e)) => e,
        Err(other) => panic!("expected an overlay error, got {other:?}"),
        Ok(plan) => panic!("expected an overlay error, got a plan of {} layers", plan.layers.len()),
    }
}

#[test]
fn layers_go_to_the_kernel_top_most_first_with_the_upper_at_the_staging_directory() {
    let host = Host::new(3);
    let stage = host.path("stage-a");
    let candidates = [stage.to_str().unwrap()];
    let plan = compile(&OverlayRoot::new(host.layers(3)), &input(&candidates, (6, 18))).unwrap();
    let expect: Vec<CString> = host.layers(3).iter().rev().map(|l| cpath(l)).collect();
    assert_eq!(plan.lowers, expect);
    assert_eq!((plan.api.clone(), plan.base.clone()), (OverlayApi::LowerdirPlus, None));
    assert_eq!(plan.staging, stage);
    assert_eq!(plan.upper_path, cpath(&stage.join("upper")));
    assert!(plan.userxattr && !plan.volatile, "userxattr in a user namespace; a tmpfs needs no volatile");
    let dir = OverlayRoot::new(host.layers(1)).upper(Upper::Dir(host.path("stage-b")));
    let plan = compile(&dir, &OverlayInput { user_namespace: false, ..input(&candidates, (6, 18)) }).unwrap();
    assert!(!plan.userxattr && plan.volatile, "no user namespace; a throwaway directory upper");
}

#[test]
fn the_staging_directory_holds_no_layer_upper_or_bind_source() {
    let host = Host::new(1);
    let base = host.dir.path().to_str().unwrap().to_string();
    let (a, b) = (host.path("stage-a"), host.path("stage-b"));
    let candidates = [base.as_str(), a.to_str().unwrap(), b.to_str().unwrap()];
    let mut with_bind = input(&candidates, (6, 18));
    with_bind.keep_visible = vec![a.clone()];
    let plan = compile(&OverlayRoot::new(host.layers(1)), &with_bind).unwrap();
    assert_eq!(plan.staging, b, "the base holds the layer, stage-a a bind source");
    let none = [base.as_str()];
    let err = compile(&OverlayRoot::new(host.layers(1)), &input(&none, (6, 18))).unwrap_err();
    assert!(matches!(err, ConfigError::NoStagingDirectory), "{err:?}");
}

#[test]
fn a_bind_source_at_around_or_inside_the_upper_directory_is_refused() {
    let host = Host::new(1);
    let candidates = [host.path("stage-a").to_str().unwrap().to_string()];
    let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
    let uppers = host.path("stage-b");
    std::fs::create_dir(uppers.join("in")).unwrap();
    let root = OverlayRoot::new(host.layers(1)).upper(Upper::Dir(uppers.clone()));
    for source in [uppers.clone(), host.dir.path().to_path_buf(), uppers.join("in")] {
        let mut with_bind = input(&candidates, (6, 18));
        with_bind.keep_visible = vec![source.clone()];
        let err = config_err(compile(&root, &with_bind));
        assert!(
            matches!(&err, OverlayError::BindOverUpper { upper, source_path } if *upper == uppers && *source_path == source),
            "{err}"
        );
    }
    let mut beside = input(&candidates, (6, 18));
    beside.keep_visible = vec![host.path("l0")];
    compile(&root, &beside).expect("a bind source beside the upper directory");
}

#[test]
fn bad_layer_sets_are_refused() {
    let host = Host::new(2);
    let c = [host.path("stage-a").to_str().unwrap().to_string()];
    let candidates: Vec<&str> = c.iter().map(String::as_str).collect();
    let check = |root: OverlayRoot| config_err(compile(&root, &input(&candidates, (6, 18))));
    assert!(matches!(check(OverlayRoot::new(Vec::<PathBuf>::new())), OverlayError::NoLayers));
    let many = vec![host.path("l0"); MAX_OVERLAY_LAYERS + 1];
    assert!(matches!(check(OverlayRoot::new(many)), OverlayError::TooManyLayers { layers: 501, max: 500 }));
    let missing = check(OverlayRoot::new([host.path("l0"), host.path("nope")]));
    assert!(matches!(&missing, OverlayError::Layer { index: 1, .. }), "{missing}");
    std::fs::write(host.path("file"), b"").unwrap();
    let file = check(OverlayRoot::new([host.path("file")]));
    assert!(
        matches!(&file, OverlayError::Layer { index: 0, source, .. } if source.raw_os_error() == Some(libc::ENOTDIR))
    );
    std::fs::create_dir(host.path("l0/inner")).unwrap();
    let nested = check(OverlayRoot::new([host.path("l0/inner"), host.path("l1"), host.path("l0")]));
    assert!(matches!(&nested, OverlayError::Overlap { inner, .. } if inner.ends_with("l0/inner")), "{nested}");
    assert!(matches!(check(OverlayRoot::new([host.path("l0"), host.path("l0")])), OverlayError::Overlap { .. }));
    let upper_in_layer = OverlayRoot::new(host.layers(2)).upper(Upper::Dir(host.path("l0/inner")));
    assert!(matches!(check(upper_in_layer), OverlayError::Overlap { .. }));
    std::fs::create_dir(host.path("a:b")).unwrap();
    assert!(matches!(check(OverlayRoot::new([host.path("a:b")])), OverlayError::Separator { character: ':', .. }));
    assert!(matches!(check(OverlayRoot::new(host.layers(1)).keep_upper(true)), OverlayError::KeepTmpfs));
    let zero = OverlayRoot::new(host.layers(1)).upper(Upper::Tmpfs { size: Some(0) });
    assert!(matches!(check(zero), OverlayError::TmpfsSizeZero));
}

/// `n` layers with long names, so that few fit in a page as absolute paths.
fn long_layers(host: &Host, n: usize) -> Vec<PathBuf> {
    let deep = host.path(&"d".repeat(200));
    (0..n)
        .map(|i| {
            let l = deep.join(format!("layer-{i:03}"));
            std::fs::create_dir_all(&l).unwrap();
            l
        })
        .collect()
}

#[test]
fn the_legacy_string_goes_relative_when_absolute_paths_overflow_the_page() {
    let host = Host::new(0);
    let c = [host.path("stage-a").to_str().unwrap().to_string()];
    let candidates: Vec<&str> = c.iter().map(String::as_str).collect();
    let layers = long_layers(&host, 40);
    let plan = compile(&OverlayRoot::new(&layers), &input(&candidates, (6, 5))).unwrap();
    let OverlayApi::Legacy { options } = &plan.api else { panic!("kernels before 6.8 get the legacy string") };
    let text = options.to_str().unwrap();
    assert!(text.starts_with("lowerdir=layer-039:layer-038:"), "{text}");
    assert!(text.ends_with(",userxattr"), "{text}");
    assert_eq!(plan.base, Some(cpath(&host.path(&"d".repeat(200)))));
    let small = compile(&OverlayRoot::new(&layers[..2]).legacy_mount(true), &input(&candidates, (6, 18))).unwrap();
    assert!(matches!(&small.api, OverlayApi::Legacy { options } if options.to_bytes().starts_with(b"lowerdir=/")));
    assert_eq!(small.base, None, "absolute paths when they fit");
}

#[test]
fn a_legacy_string_over_a_page_says_how_many_layers_fit() {
    let host = Host::new(0);
    let c = [host.path("stage-a").to_str().unwrap().to_string()];
    let candidates: Vec<&str> = c.iter().map(String::as_str).collect();
    let layers = long_layers(&host, 500);
    let err = config_err(compile(&OverlayRoot::new(&layers), &input(&candidates, (6, 5))));
    let OverlayError::OptionsTooLong { layers: 500, fit, page: 4096, len } = err else { panic!("{err}") };
    // Relative names of 9 bytes and a separator each, besides upperdir and workdir.
    assert!(len >= 4096 && (350..409).contains(&fit), "{len} {fit}");
    // lowerdir+ has no such limit.
    let plan = compile(&OverlayRoot::new(&layers), &input(&candidates, (6, 8))).unwrap();
    assert_eq!((plan.lowers.len(), plan.api), (500, OverlayApi::LowerdirPlus));
}

#[test]
fn a_lowerdir_plus_value_over_255_bytes_goes_relative() {
    let host = Host::new(0);
    let c = [host.path("stage-a").to_str().unwrap().to_string()];
    let candidates: Vec<&str> = c.iter().map(String::as_str).collect();
    let deep = host.path(&format!("{}/{}", "e".repeat(200), "f".repeat(60)));
    let layers: Vec<PathBuf> = ["a", "b"].iter().map(|n| deep.join(n)).collect();
    layers.iter().for_each(|l| std::fs::create_dir_all(l).unwrap());
    let plan = compile(&OverlayRoot::new(&layers), &input(&candidates, (6, 18))).unwrap();
    assert_eq!(plan.lowers, [CString::from(c"b"), CString::from(c"a")]);
    assert_eq!(plan.base, Some(cpath(&deep)));
}

#[test]
fn an_old_kernel_is_refused_in_a_user_namespace() {
    let host = Host::new(1);
    let c = [host.path("stage-a").to_str().unwrap().to_string()];
    let candidates: Vec<&str> = c.iter().map(String::as_str).collect();
    let err = compile(&OverlayRoot::new(host.layers(1)), &input(&candidates, (5, 10))).unwrap_err();
    assert!(matches!(err, ConfigError::KernelTooOld { needs: (5, 11), .. }), "{err:?}");
}
