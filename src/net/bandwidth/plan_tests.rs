//! Unit tests of the bandwidth plan (no root): parameters, typed refusals, read-back checks.

use super::*;
use crate::net::netlink::tc::Qdisc;

#[test]
fn rates_compile_to_bytes_a_bucket_and_a_queue() {
    let plan = compile(&Bandwidth::new().egress(2_000_000).ingress(10_000_000)).unwrap();
    // 2 Mbit/s: 250 kB/s, bucket 16 KiB (20 ms would be 5 kB), queue + 50 ms = 12.5 kB.
    assert_eq!(plan.egress, Some(Tbf { rate: 250_000, burst: 16 << 10, limit: (16 << 10) + 12_500 }));
    // 10 Mbit/s: 1.25 MB/s, bucket 20 ms = 25 kB, queue + 62.5 kB.
    assert_eq!(plan.ingress, Some(Tbf { rate: 1_250_000, burst: 25_000, limit: 87_500 }));
    let one = compile(&Bandwidth::new().ingress(4_000_007).burst(64 << 10)).unwrap();
    assert_eq!((one.egress, one.ingress.map(|t| (t.rate, t.burst))), (None, Some((500_000, 64 << 10))));
    assert!(compile(&Bandwidth::new()).unwrap().is_empty());
    let top = compile(&Bandwidth::new().egress(MAX_RATE_BPS)).unwrap().egress.unwrap();
    assert!(top.limit > top.burst && u64::from(top.limit) < u64::from(u32::MAX), "{top:?}");
}

#[test]
fn refusals_name_the_field_and_the_value() {
    let err = |bw: Bandwidth| compile(&bw).unwrap_err();
    assert_eq!(err(Bandwidth::new().egress(0)), BandwidthError::Zero { field: BandwidthField::Egress });
    assert_eq!(
        err(Bandwidth::new().ingress(7_999)),
        BandwidthError::RateTooLow { field: BandwidthField::Ingress, value: 7_999, min: MIN_RATE_BPS }
    );
    let high = err(Bandwidth::new().egress(MAX_RATE_BPS + 1));
    assert_eq!(
        high,
        BandwidthError::RateTooHigh { field: BandwidthField::Egress, value: MAX_RATE_BPS + 1, max: MAX_RATE_BPS }
    );
    assert_eq!(
        err(Bandwidth::new().egress(u64::MAX)).to_string(),
        format!("bandwidth egress rate: {} bit/s is above the ceiling of {MAX_RATE_BPS} bit/s", u64::MAX)
    );
    let frame = err(Bandwidth::new().egress(2_000_000).burst(1500));
    assert_eq!(frame, BandwidthError::BurstTooSmall { field: BandwidthField::Egress, value: 1500, min: FRAME });
    // 10 Gbit/s needs 1 ms = 1.25 MB of bucket; the ingress direction is the one named.
    let timer = err(Bandwidth::new().egress(2_000_000).ingress(10_000_000_000).burst(64 << 10));
    assert_eq!(
        timer,
        BandwidthError::BurstTooSmall { field: BandwidthField::Ingress, value: 64 << 10, min: 1_250_000 }
    );
    assert!(timer.to_string().contains("65536 bytes is below 1250000 bytes"), "{timer}");
    // At 8 kbit/s (1000 B/s) the bucket's time must fit 2^32 ticks of 64 ns: 274 s, 274877 B.
    let long = err(Bandwidth::new().ingress(8_000).burst(300_000));
    assert_eq!(long, BandwidthError::BurstTooLarge { field: BandwidthField::Ingress, value: 300_000, max: 274_877 });
    let huge = err(Bandwidth::new().egress(MAX_RATE_BPS).burst(u32::MAX));
    assert!(matches!(huge, BandwidthError::BurstTooLarge { max, .. } if max == u64::from(u32::MAX) - 2_500_000_000));
    assert_eq!(err(Bandwidth::new().burst(4096)), BandwidthError::BurstWithoutRate { value: 4096 });
    assert!(err(Bandwidth::new().burst(4096)).hint().is_none());
}

fn read(kind: &str, tbf: Option<(u64, u32)>) -> Qdisc {
    Qdisc { kind: kind.into(), handle: 0x0001_0000, tbf }
}

#[test]
fn a_read_back_must_match_what_was_written() {
    let asked = Tbf { rate: 1_250_000, burst: 25_000, limit: 87_500 };
    let ticks = bucket_ticks(asked);
    assert_eq!(ticks, 312_500, "20 ms in 64 ns ticks");
    let same = read("tbf", Some((asked.rate, asked.limit)));
    check_readback("v0", asked, &same, Some(ticks as u32)).unwrap();
    // One tick low: the kernel's fixed-point bytes-to-ns conversion rounds down.
    check_readback("v0", asked, &same, Some(ticks as u32 - 1)).unwrap();
    let bucket = check_readback("v0", asked, &same, Some(ticks as u32 - 2)).unwrap_err();
    assert!(matches!(bucket, BandwidthError::ReadBack { param: TbfParam::Bucket, found, .. } if found == ticks - 2));
    let other = check_readback("v0", asked, &read("pfifo_fast", None), None).unwrap_err();
    assert_eq!(other, BandwidthError::NotTbf { ifname: "v0".into(), kind: "pfifo_fast".into() });
    let limit = check_readback("v0", asked, &read("tbf", Some((asked.rate, 1000))), Some(ticks as u32));
    assert!(matches!(limit, Err(BandwidthError::ReadBack { param: TbfParam::Limit, asked: 87_500, found: 1000, .. })));
}

#[test]
fn a_rate_past_u32_saturated_by_the_kernel_is_a_mismatch() {
    // 40 Gbit/s is 5e9 bytes/s, past tc_tbf_qopt's u32 rate: a kernel ignoring
    // TCA_TBF_RATE64 (before 3.13) keeps u32::MAX. Read back, it is refused, not accepted.
    let asked = compile(&Bandwidth::new().egress(40_000_000_000)).unwrap().egress.unwrap();
    let cut = read("tbf", Some((u64::from(u32::MAX), asked.limit)));
    let e = check_readback("ibx0", asked, &cut, Some(bucket_ticks(asked) as u32)).unwrap_err();
    assert_eq!(e.to_string(), "bandwidth limit on \"ibx0\": wrote rate (bytes/s) 5000000000, read back 4294967295");
}
