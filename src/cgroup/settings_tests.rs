use super::*;
use crate::cgroup::readback::matches;

fn cfq() -> Option<V1Weight> {
    Some(V1Weight::Cfq)
}

#[test]
fn memory_is_read_back_rounded_to_pages() {
    let w = &Setting::MemoryMax(10_000).v2_writes(4096)[0];
    assert_eq!((w.file, w.value.as_str()), ("memory.max", "10000"));
    assert!(matches(&w.expect, "8192\n"));
    assert!(!matches(&w.expect, "10000\n"));
    let w = &Setting::MemoryMax(10_000).v1_writes(4096, cfq).unwrap()[0];
    assert_eq!(w.file, "memory.limit_in_bytes");
}

#[test]
fn v1_and_v2_translate_cpu_limits() {
    let cpu = Setting::CpuMax { quota_us: 20_000, period_us: 100_000 };
    assert_eq!(cpu.v2_writes(4096)[0].value, "20000 100000");
    let v1: Vec<_> = cpu.v1_writes(4096, cfq).unwrap().into_iter().map(|w| (w.file, w.value)).collect();
    assert_eq!(v1, [("cpu.cfs_period_us", "100000".into()), ("cpu.cfs_quota_us", "20000".into())]);
    assert_eq!(Setting::CpuWeight(100).v1_writes(4096, cfq).unwrap()[0].value, "1024");
    assert_eq!(Setting::CpuWeight(1).v1_writes(4096, cfq).unwrap()[0].value, "10");
}

#[test]
fn memory_high_has_no_v1_file_and_swap_is_split_on_v2() {
    assert_eq!(Setting::MemoryHigh(1 << 20).v1_writes(4096, cfq), None);
    let swap = Setting::MemorySwapTotal { total: 3 << 20, memory: 1 << 20 };
    assert_eq!(swap.v2_writes(4096)[0].value, (2u64 << 20).to_string());
    assert_eq!(swap.v1_writes(4096, cfq).unwrap()[0].value, (3u64 << 20).to_string());
}

#[test]
fn io_limits_name_the_device_and_are_found_in_the_readback() {
    let io = IoMax {
        path: "/dev/vda".into(),
        device: (254, 0),
        rbps: Some(1 << 20),
        wbps: None,
        riops: None,
        wiops: Some(100),
    };
    let w = &Setting::IoMax(io.clone()).v2_writes(4096)[0];
    assert_eq!(w.value, "254:0 rbps=1048576 wiops=100");
    assert!(matches(
        &w.expect,
        "8:0 rbps=5 wbps=max riops=max wiops=max\n254:0 rbps=1048576 wbps=max riops=max wiops=100\n"
    ));
    assert!(!matches(&w.expect, "254:0 rbps=max wbps=max riops=max wiops=100\n"));
    let v1 = Setting::IoMax(io).v1_writes(4096, cfq).unwrap();
    assert_eq!(v1.len(), 2);
    assert_eq!(v1[1].file, "blkio.throttle.write_iops_device");
    assert!(matches(&v1[0].expect, "254:0 1048576\n"));
}

#[test]
fn cpusets_compare_as_sets() {
    let w = &Setting::CpusetCpus(CpuList::parse("0,1").unwrap()).v2_writes(4096)[0];
    assert_eq!(w.value, "0-1");
    assert!(matches(&w.expect, "0-1\n"));
    assert!(!matches(&w.expect, "0\n"));
}

#[test]
fn io_weight_keeps_the_default_on_v1() {
    let v1 = |w| Setting::IoWeight(w).v1_writes(4096, cfq).unwrap()[0].value.clone();
    assert_eq!((v1(100), v1(1), v1(150), v1(10_000)), ("500".into(), "10".into(), "750".into(), "1000".into()));
    assert_eq!(Setting::IoWeight(100).v2_writes(4096)[0].value, "default 100");
    let bfq = Setting::IoWeight(200).v1_writes(4096, || Some(V1Weight::Bfq)).unwrap();
    assert_eq!((bfq[0].file, bfq[0].read_from, bfq[0].value.as_str()), ("blkio.bfq.weight", "blkio.bfq.weight", "109"));
    assert_eq!(Setting::IoWeight(200).v1_writes(4096, || None), None, "neither file");
}

#[test]
fn memory_protections_are_v2_only_and_read_back_in_pages() {
    for (setting, file) in [(Setting::MemoryMin(10_000), "memory.min"), (Setting::MemoryLow(10_000), "memory.low")] {
        assert_eq!(setting.v1_writes(4096, cfq), None, "{file}: no v1 equivalent, no soft cap instead");
        let w = &setting.v2_writes(4096)[0];
        assert_eq!((w.file, w.value.as_str()), (file, "10000"));
        assert!(matches(&w.expect, "8192\n") && !matches(&w.expect, "0\n"));
    }
}

#[test]
fn a_burst_goes_to_each_versions_file() {
    let burst = Setting::CpuMaxBurst(5_000);
    assert_eq!(burst.v2_writes(4096)[0].file, "cpu.max.burst");
    let v1 = burst.v1_writes(4096, cfq).unwrap();
    assert_eq!((v1[0].file, v1[0].value.as_str()), ("cpu.cfs_burst_us", "5000"));
}

#[test]
fn a_memory_value_past_the_kernels_cap_reads_back_as_the_cap() {
    for setting in [Setting::MemoryMin(u64::MAX), Setting::MemoryMax(u64::MAX), Setting::MemoryHigh(1 << 63)] {
        let w = &setting.v2_writes(4096)[0];
        assert!(matches(&w.expect, "max\n"), "{}: v2 shows max", w.file);
    }
    let v1 = &Setting::MemoryMax(u64::MAX).v1_writes(4096, cfq).unwrap()[0];
    // What v1's memory.limit_in_bytes shows for "no limit" on a 4 KiB-page kernel.
    assert!(matches(&v1.expect, "9223372036854771712\n"));
}
