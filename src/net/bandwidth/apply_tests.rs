//! Root tests of applying, reading back and removing, in namespaces of their own (the
//! helpers of `rate_tests.rs`): no traffic, so they are quick.

use std::process::Command;

use nix::errno::Errno;

use super::apply::{apply, remove, verify};
use super::error::{BandwidthError, TbfParam};
use super::plan::{bucket_ticks, compile};
use super::rate_tests::{require_kinds, require_root, with_pair};
use super::spec::Bandwidth;
use crate::net::netlink::{link, tc};

#[test]
fn a_limit_changed_behind_isobox_is_caught_by_the_read_back() {
    if !require_root() || !require_kinds() {
        return;
    }
    with_pair(|nl, p| {
        let plan = compile(&Bandwidth::new().ingress(2_000_000).egress(40_000_000_000)).unwrap();
        let applied = apply(nl, &p.host_if, &p.ifb, &plan).unwrap();
        // 40 Gbit/s is 5e9 bytes/s, past the u32 rate of tc_tbf_qopt: this kernel keeps it
        // whole through TCA_TBF_RATE64 (a kernel that cut it would fail the read-back).
        assert_eq!(tc::root_qdisc(nl, &p.ifb).unwrap().tbf.map(|t| t.0), Some(5_000_000_000));
        verify(nl, &applied).unwrap();
        let tc_change =
            ["qdisc", "change", "dev", &p.host_if, "root", "tbf", "rate", "1mbit", "burst", "16k", "limit", "28884"];
        match Command::new("tc").args(tc_change).status() {
            Ok(status) => {
                assert!(status.success(), "tc qdisc change: {status}");
                let e = verify(nl, &applied).unwrap_err();
                assert_eq!(
                    e,
                    BandwidthError::ReadBack {
                        ifname: p.host_if.clone(),
                        param: TbfParam::Rate,
                        asked: 250_000,
                        found: 125_000
                    }
                );
                eprintln!("example: {e}");
            }
            Err(e) => eprintln!("tc not runnable ({e}): the changed read-back is not checked here"),
        }
        remove(nl, &applied).unwrap();
        assert_eq!(link::index(nl, &p.ifb).unwrap_err().errno, Errno::ENODEV);
        assert_eq!(bucket_ticks(plan.ingress.unwrap()), 1_024_000, "16 KiB at 250 kB/s: 65.5 ms");
    });
}

#[test]
fn a_failed_apply_leaves_no_ifb_and_a_second_limit_is_refused() {
    if !require_root() || !require_kinds() {
        return;
    }
    with_pair(|nl, p| {
        // An ingress qdisc already there: the redirect's half fails after the ifb was made.
        tc::add_ingress(nl, &p.host_if).unwrap();
        let plan = compile(&Bandwidth::new().egress(2_000_000)).unwrap();
        let e = apply(nl, &p.host_if, &p.ifb, &plan).unwrap_err();
        assert!(matches!(&e, BandwidthError::Netlink(n) if n.errno == Errno::EEXIST), "{e:?}");
        assert_eq!(link::index(nl, &p.ifb).unwrap_err().errno, Errno::ENODEV, "the ifb was left behind");
        let ingress = compile(&Bandwidth::new().ingress(2_000_000)).unwrap();
        let applied = apply(nl, &p.host_if, &p.ifb, &ingress).unwrap();
        assert_eq!(applied.ifb, None);
        let again = apply(nl, &p.host_if, &p.ifb, &ingress).unwrap_err();
        assert!(matches!(&again, BandwidthError::Netlink(n) if n.errno == Errno::EEXIST), "{again:?}");
        eprintln!("examples: {e} / {again}");
        let none = apply(nl, "bwnone0", &p.ifb, &ingress).unwrap_err();
        assert!(matches!(&none, BandwidthError::Netlink(n) if n.errno == Errno::ENODEV), "{none:?}");
    });
}

#[test]
fn the_redirect_to_the_ifb_is_read_back() {
    if !require_root() || !require_kinds() {
        return;
    }
    with_pair(|nl, p| {
        let plan = compile(&Bandwidth::new().egress(2_000_000)).unwrap();
        let applied = apply(nl, &p.host_if, &p.ifb, &plan).unwrap();
        let ifb = link::index(nl, &p.ifb).unwrap();
        assert_eq!(tc::ingress_redirects(nl, &p.host_if).unwrap(), [ifb]);
        assert_eq!(tc::ingress_redirects(nl, &p.ifb).unwrap(), Vec::<u32>::new(), "no ingress qdisc there");
        match Command::new("tc").args(["filter", "del", "dev", &p.host_if, "ingress"]).status() {
            Ok(status) => {
                assert!(status.success(), "tc filter del: {status}");
                let e = verify(nl, &applied).unwrap_err();
                let want =
                    BandwidthError::NotRedirected { ifname: p.host_if.clone(), ifb: p.ifb.clone(), found: vec![] };
                assert_eq!(e, want);
                eprintln!("example: {e}");
            }
            Err(e) => eprintln!("tc not runnable ({e}): the missing redirect is not checked here"),
        }
        remove(nl, &applied).unwrap();
    });
}
