use super::*;

fn caller(uid: u32, name: &str) -> Caller {
    Caller { uid, gid: uid + 1, name: Some(name.into()) }
}

fn no_files(_: &str) -> std::io::Result<String> {
    Err(std::io::Error::from_raw_os_error(libc::ENOENT))
}

#[test]
fn current_maps_the_caller_to_root_and_denies_setgroups_when_unprivileged() {
    let maps = prepare(&UserMapping::Current, &caller(1000, "ann"), &no_files).unwrap();
    assert_eq!(map_text(&maps.uids), "0 1000 1\n");
    assert_eq!(map_text(&maps.gids), "0 1001 1\n");
    assert_eq!(maps.writer, MapWriter::Direct { deny_setgroups: true });
    let root = prepare(&UserMapping::Current, &caller(0, "root"), &no_files).unwrap();
    assert_eq!(root.writer, MapWriter::Direct { deny_setgroups: false });
}

#[test]
fn subordinate_stacks_ranges_after_the_caller() {
    let files = |f: &str| -> std::io::Result<String> {
        Ok(match f {
            "/etc/subuid" => "bob:1:2\nann:100000:65536\n1000:300000:10\n".into(),
            _ => "ann:200000:5\n".into(),
        })
    };
    let maps = prepare(&UserMapping::Subordinate, &caller(1000, "ann"), &files).unwrap();
    assert_eq!(map_text(&maps.uids), "0 1000 1\n1 100000 65536\n65537 300000 10\n");
    assert_eq!(map_text(&maps.gids), "0 1001 1\n1 200000 5\n");
    assert_eq!(maps.writer, MapWriter::Helpers);
}

#[test]
fn subordinate_without_an_entry_names_the_file() {
    let files = |_: &str| -> std::io::Result<String> { Ok("bob:1:2\n".into()) };
    let err = prepare(&UserMapping::Subordinate, &caller(1000, "ann"), &files).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("ann") && text.contains("/etc/subuid"), "{text}");
}

#[test]
fn empty_or_overflowing_ranges_are_rejected() {
    let bad = UserMapping::Ranges { uids: vec![IdRange { inside: 0, outside: 0, count: 0 }], gids: vec![] };
    assert!(prepare(&bad, &caller(0, "root"), &no_files).is_err());
    let over = IdRange { inside: u32::MAX, outside: 0, count: 2 };
    let bad = UserMapping::Ranges { uids: vec![over], gids: vec![over] };
    assert!(prepare(&bad, &caller(0, "root"), &no_files).is_err());
}

#[test]
fn maps_inside_checks_coverage() {
    let ranges = [IdRange { inside: 0, outside: 1000, count: 1 }, IdRange { inside: 10, outside: 5, count: 5 }];
    assert!(maps_inside(&ranges, 0));
    assert!(maps_inside(&ranges, 14));
    assert!(!maps_inside(&ranges, 15));
    assert!(!maps_inside(&ranges, 1));
}
