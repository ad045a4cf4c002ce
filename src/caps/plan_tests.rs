use super::*;

fn spec(keep: Capabilities, ambient: Capabilities) -> CapsSpec {
    CapsSpec { keep, ambient }
}

fn root() -> Held {
    let all = Capabilities::all();
    Held { effective: all, permitted: all, bounding: all }
}

fn user() -> Held {
    Held { effective: Capabilities::empty(), permitted: Capabilities::empty(), bounding: Capabilities::all() }
}

#[test]
fn the_default_drops_every_capability_the_kernel_knows() {
    let plan = prepare(&CapsSpec::default(), 40, None).unwrap();
    assert_eq!(plan.drop_bounding, (0..=40).collect::<Vec<_>>());
    assert_eq!(plan.capset, [CapData::default(); 2]);
    assert!(plan.ambient.is_empty() && !plan.keeps_any());
    // A newer kernel's capabilities, unnamed here, are dropped too.
    assert_eq!(prepare(&CapsSpec::default(), 43, None).unwrap().drop_bounding.len(), 44);
}

#[test]
fn kept_capabilities_stay_in_the_bounding_set_and_the_capset_words() {
    let keep = Capabilities::DOCKER_DEFAULT | Capabilities::MAC_ADMIN;
    let plan = prepare(&spec(keep, Capabilities::NET_BIND_SERVICE | Capabilities::MAC_ADMIN), 40, None).unwrap();
    assert_eq!(plan.drop_bounding.len(), 41 - 15);
    assert!(!plan.drop_bounding.contains(&0) && !plan.drop_bounding.contains(&33));
    assert!(plan.drop_bounding.contains(&21));
    let [low, high] = plan.capset;
    assert_eq!(low, CapData { effective: 0xa804_25fb, permitted: 0xa804_25fb, inheritable: 1 << 10 });
    assert_eq!(high, CapData { effective: 1 << 1, permitted: 1 << 1, inheritable: 1 << 1 });
    assert_eq!(plan.ambient, [10, 33]);
    assert!(plan.keeps_any());
}

#[test]
fn ambient_capabilities_must_be_kept() {
    let err = prepare(&spec(Capabilities::CHOWN, Capabilities::CHOWN | Capabilities::KILL), 40, None).unwrap_err();
    assert!(matches!(err, ConfigError::AmbientNotKept { capabilities: Capabilities::KILL }), "{err}");
    assert_eq!(err.to_string(), "ambient CAP_KILL must also be kept (SandboxBuilder::capabilities)");
}

#[test]
fn a_capability_past_the_kernels_last_is_refused_not_dropped() {
    let keep = Capabilities::CHECKPOINT_RESTORE | Capabilities::BPF | Capabilities::CHOWN;
    let err = prepare(&spec(keep, Capabilities::empty()), 38, None).unwrap_err();
    let both = Capabilities::CHECKPOINT_RESTORE | Capabilities::BPF;
    assert!(matches!(err, ConfigError::UnknownCapability { capabilities, last_cap: 38 } if capabilities == both));
    assert!(err.to_string().contains("CAP_BPF | CAP_CHECKPOINT_RESTORE"), "{err}");
    let unnamed = Capabilities::from_bits_retain(1 << 63);
    assert!(prepare(&spec(unnamed, Capabilities::empty()), 40, None).is_err());
    assert!(prepare(&spec(unnamed, Capabilities::empty()), 63, None).is_ok());
}

#[test]
fn without_a_user_namespace_only_held_capabilities_can_be_kept() {
    let err = prepare(&spec(Capabilities::CHOWN, Capabilities::empty()), 40, Some(user())).unwrap_err();
    assert!(matches!(err, ConfigError::CapabilityNotHeld { capabilities: Capabilities::CHOWN }), "{err}");
    assert!(err.to_string().contains("CAP_CHOWN"), "{err}");
    // Held means permitted and in the bounding set (as this host's root lacks SYS_RESOURCE).
    let no_resource = Held { bounding: Capabilities::all() - Capabilities::SYS_RESOURCE, ..root() };
    let err = prepare(&spec(Capabilities::SYS_RESOURCE, Capabilities::empty()), 40, Some(no_resource)).unwrap_err();
    assert!(matches!(err, ConfigError::CapabilityNotHeld { capabilities: Capabilities::SYS_RESOURCE }), "{err}");
    assert!(prepare(&spec(Capabilities::CHOWN, Capabilities::CHOWN), 40, Some(root())).is_ok());
}

#[test]
fn a_caller_without_setpcap_and_without_a_user_namespace_keeps_its_bounding_set() {
    let plan = prepare(&CapsSpec::default(), 40, Some(user())).unwrap();
    assert!(plan.drop_bounding.is_empty());
    assert_eq!(plan.capset, [CapData::default(); 2]);
    let plan = prepare(&CapsSpec::default(), 40, Some(root())).unwrap();
    assert_eq!(plan.drop_bounding.len(), 41);
}

#[test]
fn proc_texts_are_parsed() {
    assert_eq!(parse_last_cap("40\n"), Some(40));
    assert_eq!(parse_last_cap("64\n"), None);
    assert_eq!(parse_last_cap("x"), None);
    let status = "Name:\tx\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\n\
                  CapEff:\t0000000000000100\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n";
    let held = parse_status(status).unwrap();
    assert_eq!(held.effective, Capabilities::SETPCAP);
    assert_eq!(held.permitted, Capabilities::all() - Capabilities::SYS_RESOURCE);
    assert_eq!(held.bounding, Capabilities::all());
    assert_eq!(parse_status("CapPrm:\t0\n"), None);
}
