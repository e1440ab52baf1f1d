//! Running the `clearsim` binary from integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn clearsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clearsim"))
        .args(args)
        .output()
        .expect("runs")
}

/// Runs clearsim, killing it after `limit`: a regression test for a hang
/// fails with a message instead of hanging the suite. Not a timing test:
/// the limits are tens of times what the command needs.
pub fn clearsim_within(limit: Duration, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clearsim"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waits").is_some() {
            return child.wait_with_output().expect("output");
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "clearsim {args:?} still running after {limit:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts success and returns stdout.
pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts exit code 2 (an error the user can fix) with every fragment in
/// the message.
pub fn refused(output: &Output, fragments: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for fragment in fragments {
        assert!(stderr.contains(fragment), "{fragment:?} not in {stderr:?}");
    }
}

pub fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// A copy of `config` in `dir` with no dishonoured cheques (a replay of
/// one of its days has no returns, so it can match the run exactly) and
/// its roster found from anywhere.
pub fn replayable(config: &Path, dir: &Path) -> PathBuf {
    let seeds = std::env::current_dir().expect("cwd").join("seeds");
    let text: String = std::fs::read_to_string(config)
        .expect("config")
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("dishonour_rate") {
                "dishonour_rate = 0.0".to_string()
            } else {
                l.replace("../seeds/", &format!("{}/", seeds.display()))
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let copy = dir.join(config.file_name().expect("name"));
    std::fs::write(&copy, text).expect("copy");
    copy
}
