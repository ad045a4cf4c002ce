use super::*;
use crate::landlock::spec::Scopes;

fn plan(spec: &Landlock, kernel: u32) -> LandlockPlan {
    compile_for(spec, true, Ok(kernel)).unwrap()
}

fn landlock_err(spec: &Landlock, kernel: Result<u32, Errno>) -> LandlockError {
    match compile_for(spec, true, kernel) {
        Err(ConfigError::Landlock(e)) => e,
        other => panic!("expected a Landlock error, got {other:?}"),
    }
}

#[test]
fn every_filesystem_right_the_abi_knows_is_handled() {
    for abi in 1..=NEWEST_ABI {
        let p = plan(&Landlock::new(), abi);
        assert_eq!(p.abi, abi);
        assert_eq!(p.attr.handled_access_fs, FsAccess::known_by(abi).bits(), "ABI {abi}");
        assert_eq!((p.attr.handled_access_net, p.attr.scoped), (0, 0), "TCP and scopes only when asked for");
    }
    assert_eq!(plan(&Landlock::new(), 5).attr.handled_access_fs, FsAccess::all().bits());
    // A kernel newer than isobox: the ruleset is made for the newest ABI isobox knows.
    assert_eq!(plan(&Landlock::new(), NEWEST_ABI + 2).abi, NEWEST_ABI);
}

#[test]
fn a_kernel_without_landlock_or_no_new_privs_off_is_refused() {
    let e = landlock_err(&Landlock::new(), Err(Errno::EOPNOTSUPP));
    assert!(matches!(e, LandlockError::Unsupported { errno: Errno::EOPNOTSUPP, hint: Some(h) } if h.contains("lsm=")));
    let e = landlock_err(&Landlock::new(), Err(Errno::ENOSYS));
    assert!(matches!(e, LandlockError::Unsupported { errno: Errno::ENOSYS, hint: Some(_) }), "{e}");
    let e = compile_for(&Landlock::new(), false, Ok(7)).unwrap_err();
    assert!(matches!(e, ConfigError::Landlock(LandlockError::NeedsNoNewPrivs)), "{e}");
    assert!(compile(None, false).unwrap().is_none(), "no Landlock, nothing to check");
}

#[test]
fn a_required_abi_above_the_kernels_or_isoboxs_is_refused() {
    let spec = Landlock::new().require_abi(4);
    assert_eq!(landlock_err(&spec, Ok(3)), LandlockError::RequiredAbi { required: 4, kernel: 3 });
    assert_eq!(plan(&spec, 4).abi, 4);
    let spec = Landlock::new().require_abi(NEWEST_ABI + 1);
    let kernel = NEWEST_ABI + 1;
    assert_eq!(landlock_err(&spec, Ok(kernel)), LandlockError::RequiredAbi { required: kernel, kernel });
}

#[test]
fn an_exact_rule_beyond_the_abi_is_refused_and_a_preset_keeps_what_it_knows() {
    let spec = Landlock::new().allow("/data", FsAccess::READ_FILE | FsAccess::TRUNCATE);
    let e = landlock_err(&spec, Ok(2));
    let want = LandlockError::RuleNeedsAbi { path: "/data".into(), beyond: FsAccess::TRUNCATE, needs: 3, kernel: 2 };
    assert_eq!(e, want);
    assert!(plan(&spec, 3).paths[0].access & FsAccess::TRUNCATE.bits() != 0);
    let rw = Landlock::new().read_write("/tmp");
    assert_eq!(plan(&rw, 1).paths[0].access, (FsAccess::known_by(1) - FsAccess::EXECUTE).bits());
    assert_eq!(plan(&rw, 6).paths[0].access, (FsAccess::all() - FsAccess::EXECUTE).bits());
}

#[test]
fn a_rule_grants_only_file_rights_where_the_path_is_a_file() {
    let spec = Landlock::new().read_exec("/usr").read_only("/etc/passwd").allow("/srv", FsAccess::MAKE_DIR);
    let p = plan(&spec, 7);
    let rule = &p.paths[0];
    assert_eq!(rule.path.as_bytes(), b"/usr");
    assert_eq!(
        (rule.access, rule.file_access),
        (FsAccess::READ_EXEC.bits(), (FsAccess::READ_FILE | FsAccess::EXECUTE).bits())
    );
    assert_eq!(p.paths[1].file_access, FsAccess::READ_FILE.bits());
    assert_eq!(p.paths[2].file_access, 0, "the kernel refuses it on a file: the child's error names the path");
}

#[test]
fn rule_paths_must_be_absolute_and_rules_must_allow_something() {
    let e = compile_for(&Landlock::new().read_only("etc"), true, Ok(7)).unwrap_err();
    assert!(matches!(e, ConfigError::RelativePath { what: "Landlock rule path", .. }), "{e}");
    let e = compile_for(&Landlock::new().read_only("/a\0b"), true, Ok(7)).unwrap_err();
    assert!(matches!(e, ConfigError::NulByte { .. }), "{e}");
    let e = landlock_err(&Landlock::new().allow("/x", FsAccess::empty()), Ok(7));
    assert_eq!(e, LandlockError::EmptyRule { path: "/x".into() });
}

#[test]
fn tcp_rules_need_abi_4_and_merge_by_port() {
    let spec = Landlock::new().allow_tcp_connect(443).allow_tcp_bind(8080).allow_tcp_connect(80).allow_tcp_bind(443);
    let e = landlock_err(&spec, Ok(3));
    assert_eq!(e, LandlockError::FeatureNeedsAbi { feature: "TCP rules", needs: 4, kernel: 3 });
    let p = plan(&spec, 4);
    assert_eq!(p.attr.handled_access_net, ACCESS_NET_BIND_TCP | ACCESS_NET_CONNECT_TCP);
    let ports: Vec<(u64, u64)> = p.ports.iter().map(|r| (r.port, r.allowed_access)).collect();
    let both = ACCESS_NET_BIND_TCP | ACCESS_NET_CONNECT_TCP;
    assert_eq!(ports, [(80, ACCESS_NET_CONNECT_TCP), (443, both), (8080, ACCESS_NET_BIND_TCP)]);
    let p = plan(&Landlock::new().restrict_tcp(), 4);
    assert_eq!((p.attr.handled_access_net, p.ports.len()), (both, 0), "every port refused");
}

#[test]
fn scopes_need_abi_6() {
    let spec = Landlock::new().scope(Scopes::SIGNAL).scope(Scopes::ABSTRACT_UNIX_SOCKET);
    let e = landlock_err(&spec, Ok(5));
    assert_eq!(e, LandlockError::FeatureNeedsAbi { feature: "scopes", needs: 6, kernel: 5 });
    assert_eq!(plan(&spec, 6).attr.scoped, Scopes::all().bits());
}
