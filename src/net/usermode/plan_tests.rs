use std::net::Ipv4Addr;

use super::*;

fn launch() -> Launch {
    Launch {
        pid: 4242,
        ready_fd: 7,
        exit_fd: Some(8),
        api_socket: Some("/run/x/api.sock".into()),
        as_root: false,
        ns_fds: None,
    }
}

fn args(net: &UserNet, launch: &Launch) -> Vec<String> {
    let plan = UserNetPlan::new(net).expect("valid");
    plan.args(launch).into_iter().map(|a| a.into_string().unwrap()).collect()
}

fn has(args: &[String], pair: &[&str]) -> bool {
    args.windows(pair.len()).any(|w| w.iter().zip(pair).all(|(a, b)| a == b))
}

#[test]
fn port_zero_is_refused_on_either_side() {
    for forward in [PortForward::tcp(0, 80), PortForward::udp(8080, 0)] {
        let err = UserNetPlan::new(&UserNet::pasta().port(forward)).unwrap_err();
        assert_eq!(err, UserNetError::ZeroPort { forward });
    }
}

#[test]
fn a_host_port_taken_twice_is_refused_per_protocol_and_address() {
    let first = PortForward::tcp(8080, 80);
    let err = UserNetPlan::new(&UserNet::slirp4netns().port(first).port(PortForward::tcp(8080, 81))).unwrap_err();
    assert_eq!(err, UserNetError::DuplicatePort { first, second: PortForward::tcp(8080, 81) });
    let everywhere = PortForward::tcp(8080, 82).on(Ipv4Addr::UNSPECIFIED);
    assert!(matches!(
        UserNetPlan::new(&UserNet::pasta().port(first).port(everywhere)),
        Err(UserNetError::DuplicatePort { .. })
    ));
    // Another protocol, or another address, is another port.
    let other =
        UserNet::pasta().port(first).port(PortForward::udp(8080, 80)).port(first.on(Ipv4Addr::new(127, 0, 0, 2)));
    assert!(UserNetPlan::new(&other).is_ok());
}

#[test]
fn mtu_outside_its_range_is_refused() {
    for mtu in [0, 67, 65521] {
        assert_eq!(UserNetPlan::new(&UserNet::pasta().mtu(mtu)).unwrap_err(), UserNetError::Mtu { mtu });
    }
    assert!(UserNetPlan::new(&UserNet::pasta().mtu(1500)).is_ok());
}

#[test]
fn pasta_by_default_keeps_the_host_loopback_out_and_forwards_nothing() {
    let a = args(&UserNet::pasta(), &launch());
    assert!(a.contains(&"--no-map-gw".to_string()), "{a:?}");
    for pair in [["--tcp-ports", "none"], ["--udp-ports", "none"], ["--tcp-ns", "none"], ["--udp-ns", "none"]] {
        assert!(has(&a, &pair), "{pair:?} missing from {a:?}");
    }
    assert!(has(&a, &["--pid", "/proc/self/fd/7"]), "{a:?}");
    assert!(has(&a, &["--address", "10.0.2.100"]) && has(&a, &["--gateway", "10.0.2.2"]), "{a:?}");
    assert!(a.contains(&"--foreground".to_string()) && !a.iter().any(|x| x == "--runas"), "{a:?}");
    assert_eq!(a.last().map(String::as_str), Some("4242"));
}

#[test]
fn pasta_with_forwards_loopback_and_root() {
    let net = UserNet::pasta()
        .host_loopback(true)
        .dns(false)
        .port(PortForward::tcp(8080, 80))
        .port(PortForward::tcp(8443, 443).on(Ipv4Addr::UNSPECIFIED))
        .port(PortForward::udp(5353, 53));
    let a = args(&net, &Launch { as_root: true, ..launch() });
    assert!(!a.contains(&"--no-map-gw".to_string()) && !a.contains(&"--dns-forward".to_string()), "{a:?}");
    assert!(has(&a, &["--tcp-ports", "127.0.0.1/8080:80"]), "{a:?}");
    assert!(has(&a, &["--tcp-ports", "0.0.0.0/8443:443"]), "{a:?}");
    assert!(has(&a, &["--udp-ports", "127.0.0.1/5353:53"]) && !has(&a, &["--udp-ports", "none"]), "{a:?}");
    assert!(has(&a, &["--tcp-ns", "none"]) && has(&a, &["--runas", "0:0"]), "{a:?}");
}

#[test]
fn slirp4netns_arguments() {
    let a = args(&UserNet::slirp4netns(), &launch());
    let expected = [
        "--configure",
        "--mtu=65520",
        "--disable-host-loopback",
        "--enable-sandbox",
        "--enable-seccomp",
        "--ready-fd=7",
        "--exit-fd=8",
        "--api-socket=/run/x/api.sock",
        "4242",
        "eth0",
    ];
    assert_eq!(a, expected);
    let a = args(&UserNet::slirp4netns().host_loopback(true).dns(false).mtu(1500), &launch());
    assert!(!a.contains(&"--disable-host-loopback".to_string()), "{a:?}");
    assert!(a.contains(&"--disable-dns".to_string()) && a.contains(&"--mtu=1500".to_string()), "{a:?}");
}

#[test]
fn pasta_joins_namespaces_the_parent_opened_when_given_them() {
    let with_fds = Launch { ns_fds: Some((11, 12)), ..launch() };
    let a = args(&UserNet::pasta(), &with_fds);
    assert!(has(&a, &["--userns", "/proc/self/fd/11"]) && has(&a, &["--netns", "/proc/self/fd/12"]), "{a:?}");
    assert!(!a.iter().any(|x| x == "4242"), "no pid when it has the namespaces: {a:?}");
}
