use super::*;

fn limit_err(limits: Limits) -> LimitError {
    limits.settings(&host()).unwrap_err()
}

fn host() -> HostFacts {
    HostFacts { cpus: CpuList::parse("0-1").unwrap(), mems: CpuList::parse("0").unwrap(), memory_floor: 8 << 20 }
}

fn err(limits: Limits) -> String {
    limits.settings(&host()).unwrap_err().to_string()
}

#[test]
fn zero_memory_nan_or_negative_cpu_are_rejected() {
    assert!(err(Limits { memory_max: Some(0), ..Default::default() }).contains("memory max"));
    assert!(err(Limits { cpu_max: Some(f64::NAN), ..Default::default() }).contains("cpu max"));
    assert!(err(Limits { cpu_max: Some(-0.5), ..Default::default() }).contains("cpu max"));
    assert!(err(Limits { cpu_max: Some(f64::INFINITY), ..Default::default() }).contains("cpu max"));
    assert!(err(Limits { pids_max: Some(0), ..Default::default() }).contains("pids max"));
    assert!(err(Limits { cpu_weight: Some(0), ..Default::default() }).contains("cpu weight"));
}

#[test]
fn each_refusal_is_its_own_variant() {
    assert_eq!(limit_err(Limits { pids_max: Some(0), ..Default::default() }), LimitError::Zero { limit: "pids max" });
    let weight = limit_err(Limits { io_weight: Some(10_001), ..Default::default() });
    assert_eq!(weight, LimitError::OutOfRange { limit: "io weight", value: 10_001, min: 1, max: 10_000 });
    assert!(matches!(limit_err(Limits { cpu_max: Some(0.001), ..Default::default() }), LimitError::CpuMax { .. }));
    let swap = Limits { memory_max: Some(20 << 20), memory_swap_max: Some(10 << 20), ..Default::default() };
    assert_eq!(limit_err(swap), LimitError::SwapBelowMemory { total: 10 << 20, memory: 20 << 20 });
    let outside = limit_err(Limits { cpuset_mems: Some("1".into()), ..Default::default() });
    assert!(matches!(outside, LimitError::CpuListOutsideHost { limit: "cpuset mems", .. }), "{outside}");
    let null = limit_err(Limits { io: vec![IoLimit::new("/dev/null").read_bps(1)], ..Default::default() });
    assert_eq!(null, LimitError::NotABlockDevice { device: "/dev/null".into() });
}

#[test]
fn cpusets_outside_the_host_are_rejected() {
    assert!(err(Limits { cpuset_cpus: Some("0-7".into()), ..Default::default() }).contains("outside"));
    assert!(err(Limits { cpuset_mems: Some("1".into()), ..Default::default() }).contains("outside"));
    assert!(err(Limits { cpuset_cpus: Some("x".into()), ..Default::default() }).contains("parse"));
    let ok = Limits { cpuset_cpus: Some("1".into()), ..Default::default() }.settings(&host()).unwrap();
    assert_eq!(ok, vec![Setting::CpusetCpus(CpuList::parse("1").unwrap())]);
}

#[test]
fn unknown_io_devices_are_rejected() {
    let limits = Limits { io: vec![IoLimit::new("/dev/isobox-no-such-disk").read_bps(1)], ..Default::default() };
    assert!(err(limits.clone()).contains("/dev/isobox-no-such-disk"));
    let missing = limits.settings(&host()).unwrap_err();
    assert!(matches!(&missing, LimitError::DeviceUnusable { errno: nix::errno::Errno::ENOENT, .. }), "{missing:?}");
    let limits = Limits { io: vec![IoLimit::new("/dev/null").read_bps(1)], ..Default::default() };
    assert!(err(limits).contains("not a block device"));
}

#[test]
fn swap_needs_memory_max_and_settings_keep_their_order() {
    assert!(err(Limits { memory_swap_max: Some(10), ..Default::default() }).contains("needs memory_max"));
    let swap = Limits { memory_max: Some(20 << 20), memory_swap_max: Some(10 << 20), ..Default::default() };
    assert!(err(swap).contains("below"));
    let limits = Limits {
        memory_max: Some(16 << 20),
        memory_swap_max: Some(32 << 20),
        cpu_max: Some(0.5),
        pids_max: Some(8),
        cpuset_cpus: Some("0".into()),
        ..Default::default()
    };
    let settings = limits.settings(&host()).unwrap();
    assert_eq!(
        settings,
        vec![
            Setting::CpusetCpus(CpuList::parse("0").unwrap()),
            Setting::MemoryMax(16 << 20),
            Setting::MemorySwapTotal { total: 32 << 20, memory: 16 << 20 },
            Setting::CpuMax { quota_us: 50_000, period_us: 100_000 },
            Setting::PidsMax(8),
        ]
    );
}

#[test]
fn an_io_limit_without_a_rate_is_rejected() {
    let disk = std::fs::read_dir("/sys/block")
        .ok()
        .and_then(|mut d| d.find_map(|e| e.ok().map(|e| Path::new("/dev").join(e.file_name()))))
        .filter(|p| p.exists());
    let device = disk.unwrap_or_else(|| PathBuf::from("/dev/null"));
    let text = err(Limits { io: vec![IoLimit::new(&device)], ..Default::default() });
    // A real disk is refused for want of a rate; /dev/null (no disk here) for not being one.
    assert!(text.contains("no rate given") || text.contains("not a block device"), "{text}");
}

#[test]
fn memory_limits_below_the_setup_floor_and_cpu_quotas_above_the_host_are_refused() {
    let low = limit_err(Limits { memory_max: Some((8 << 20) - 1), ..Default::default() });
    assert_eq!(low, LimitError::MemoryBelowFloor { limit: "memory max", bytes: (8 << 20) - 1, floor: 8 << 20 });
    let high = limit_err(Limits { memory_high: Some(4096), ..Default::default() });
    assert!(matches!(high, LimitError::MemoryBelowFloor { limit: "memory high", .. }), "{high}");
    assert!(Limits { memory_max: Some(8 << 20), ..Default::default() }.settings(&host()).is_ok());
    let cpus = limit_err(Limits { cpu_max: Some(2.5), ..Default::default() });
    assert!(matches!(cpus, LimitError::CpuMaxAboveHost { .. }), "{cpus}");
    assert!(cpus.to_string().contains("2 online CPUs"), "{cpus}");
    assert!(Limits { cpu_max: Some(2.0), ..Default::default() }.settings(&host()).is_ok());
}

#[test]
fn a_kernel_without_numa_has_node_0_only() {
    let dir = tempfile::tempdir().unwrap();
    let (cpus, nodes) = (dir.path().join("cpu-online"), dir.path().join("node-online"));
    std::fs::write(&cpus, "0-3\n").unwrap();
    // No node/online at all: the kernel's one node, 0.
    let host = HostFacts::read_from(&cpus, &nodes, 0);
    assert_eq!(host.mems.to_string(), "0");
    assert_eq!(host.cpus.len(), 4);
    let limits = |mems: &str| Limits { cpuset_mems: Some(mems.into()), ..Default::default() };
    assert_eq!(limits("0").settings(&host).unwrap(), [Setting::CpusetMems(CpuList::parse("0").unwrap())]);
    assert!(matches!(limits("1").settings(&host), Err(LimitError::CpuListOutsideHost { .. })));
    std::fs::write(&nodes, "0-1\n").unwrap();
    assert_eq!(HostFacts::read_from(&cpus, &nodes, 0).mems.to_string(), "0-1");
}

#[test]
fn a_burst_needs_a_quota_and_fits_in_it() {
    use std::time::Duration;
    let burst =
        |cpus: Option<f64>, burst: Duration| Limits { cpu_max: cpus, cpu_max_burst: Some(burst), ..Default::default() };
    let ms = Duration::from_millis;
    assert_eq!(limit_err(burst(None, ms(5))), LimitError::BurstWithoutCpuMax { burst: ms(5) });
    // 0.2 CPUs: 20 ms per 100 ms period, so 20 ms of burst at most.
    assert_eq!(limit_err(burst(Some(0.2), ms(21))), LimitError::BurstOutOfRange { burst: ms(21), quota_us: 20_000 });
    let nanos = burst(Some(0.2), Duration::from_nanos(999));
    assert!(matches!(limit_err(nanos), LimitError::BurstOutOfRange { .. }));
    let fits = burst(Some(0.2), ms(20)).settings(&host()).unwrap();
    assert_eq!(fits[fits.len() - 1], Setting::CpuMaxBurst(20_000), "written after the quota: {fits:?}");
    assert_eq!(fits[fits.len() - 2], Setting::CpuMax { quota_us: 20_000, period_us: 100_000 });
}

#[test]
fn memory_protections_need_no_floor_and_take_zero() {
    let limits = Limits { memory_min: Some(0), memory_low: Some(4096), ..Default::default() };
    assert_eq!(limits.settings(&host()).unwrap(), [Setting::MemoryMin(0), Setting::MemoryLow(4096)]);
}

#[test]
fn a_cpu_period_sets_the_quota_over_it_within_the_kernels_bounds() {
    use std::time::Duration;
    let limits = Limits { cpu_max: Some(0.5), cpu_max_period: Some(Duration::from_millis(500)), ..Default::default() };
    assert_eq!(limits.settings(&host()).unwrap(), vec![Setting::CpuMax { quota_us: 250_000, period_us: 500_000 }]);
    for bad in [Duration::from_micros(999), Duration::from_secs(2)] {
        let limits = Limits { cpu_max: Some(0.5), cpu_max_period: Some(bad), ..Default::default() };
        assert!(matches!(limit_err(limits), LimitError::CpuPeriod { period } if period == bad));
    }
    let alone = Limits { cpu_max_period: Some(Duration::from_millis(10)), ..Default::default() };
    assert!(matches!(limit_err(alone), LimitError::CpuPeriod { .. }));
}
