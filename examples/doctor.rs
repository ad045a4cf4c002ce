//! Prints what this host lets isobox do, and what to change: `cargo run --example doctor`.

fn main() {
    let report = isobox::doctor();
    println!("{report}");
}

#[test]
fn the_report_has_every_line_and_prints_as_a_table() {
    let report = isobox::doctor();
    let text = report.to_string();
    println!("{text}");
    assert!(text.starts_with("item"), "{text}");
    for finding in &report.findings {
        assert!(text.contains(finding.check.name()), "{} missing from\n{text}", finding.check);
    }
    assert!(report.get(isobox::Check::Kernel).is_some());
    assert!(report.get(isobox::Check::UserModeNetworking).is_some());
}
