//! Running the `clearsim` binary from integration tests.

use std::path::Path;
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
