//! 1000 spawns with user-mode networking leave no helper, running or unreaped (a file of its
//! own: it counts every helper child of the test process, which another test's would spoil).
mod common;

use std::time::{Duration, Instant};

use common::{cmd, sandbox};
use isobox::{Network, UserNet, UserNetHelper};

/// Children of this process whose name starts with `name`: (running ones, unreaped ones).
fn children_named(name: &str) -> (Vec<u32>, Vec<u32>) {
    let me = std::process::id().to_string();
    let pids = std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
    let (mut running, mut zombies) = (Vec::new(), Vec::new());
    for p in pids {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        let Some((comm, rest)) = stat.split_once('(').and_then(|(_, r)| r.rsplit_once(')')) else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if comm.starts_with(name) && fields.get(1) == Some(&me.as_str()) {
            if fields.first() == Some(&"Z") {
                zombies.push(p)
            } else {
                running.push(p)
            }
        }
    }
    (running, zombies)
}

#[test]
fn rootless_a_thousand_user_mode_spawns_leave_no_helper() {
    let helper = UserNetHelper::Slirp4netns;
    if !common::require_user_net(helper) {
        return;
    }
    let sb = sandbox(|b| {
        b.network(Network::UserMode(UserNet::new(helper)));
    });
    let started = Instant::now();
    let n = common::spawns(1000);
    for i in 0..n {
        assert!(sb.status(&cmd("/bin/true", &[])).unwrap().success(), "spawn {i}");
    }
    eprintln!("{n} user-mode spawns in {:?}", started.elapsed());
    let end = Instant::now() + Duration::from_secs(10);
    while children_named(helper.program()) != (Vec::new(), Vec::new()) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(children_named(helper.program()), (Vec::new(), Vec::new()), "helpers left (running, unreaped)");
}
