//! A replicated compare spread over a real job system: a single-node Slurm
//! cluster (Debian's `slurm-wlm` and `munge`) started here on localhost,
//! one shard per array task, then merged — and byte-identical to the same
//! study run on one machine.
//!
//! Needs root and the Debian packages `slurm-wlm` and `munge`, which
//! `.ci/run` installs; it then sets CLEARSIM_REQUIRE_SLURM=1 so that this
//! test cannot silently skip there. Elsewhere it says it skipped.

// A test reads as one story, setup to assertions: the 70-line limit is
// for the product's code.
#![allow(clippy::too_many_lines)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A program of the Slurm and munge packages, wherever PATH stops.
fn tool(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.exists())
}

fn command(name: &str) -> Command {
    Command::new(tool(name).unwrap_or_else(|| PathBuf::from(name)))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("starts");
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The daemons of the test cluster; stopped when dropped, however the test
/// ends.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        let munge = dir.join("munge");
        std::fs::create_dir_all(&munge).expect("munge dir");
        for sub in ["state", "spool"] {
            std::fs::create_dir_all(dir.join(sub)).expect("slurm dirs");
        }
        let key = munge.join("key");
        std::fs::copy("/etc/munge/munge.key", &key).expect("the munge package's key");
        run(Command::new("chmod").args(["700", &munge.display().to_string()]));
        run(Command::new("chmod").args(["600", &key.display().to_string()]));
        let socket = munge.join("munge.sock");
        run(command("munged")
            .arg("--force")
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--key-file={}", key.display()))
            .arg(format!("--pid-file={}", munge.join("munged.pid").display()))
            .arg(format!("--log-file={}", munge.join("munged.log").display()))
            .arg(format!("--seed-file={}", munge.join("seed").display())));
        let host = String::from_utf8_lossy(&run(&mut Command::new("hostname")).stdout)
            .trim()
            .to_string();
        let d = dir.display();
        let conf = dir.join("slurm.conf");
        std::fs::write(
            &conf,
            format!(
                "ClusterName=clearsim\nSlurmctldHost={host}(127.0.0.1)\nSlurmUser=root\nSlurmdUser=root\n\
AuthType=auth/munge\nAuthInfo=socket={}\nCredType=cred/munge\n\
StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
SlurmctldLogFile={d}/slurmctld.log\nSlurmdLogFile={d}/slurmd.log\n\
SlurmctldPort={}\nSlurmdPort={}\n\
ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nSchedulerType=sched/builtin\n\
SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nReturnToService=2\n\
JobCompType=jobcomp/none\nAccountingStorageType=accounting_storage/none\n\
JobAcctGatherType=jobacct_gather/none\nMpiDefault=none\nSwitchType=switch/none\n\
NodeName={host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN\n\
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP\n",
                socket.display(),
                free_port(),
                free_port(),
            ),
        )
        .expect("slurm.conf");
        let cluster = Cluster {
            dir: dir.to_path_buf(),
            conf,
        };
        run(cluster.slurm("slurmctld").arg("-c"));
        run(cluster.slurm("slurmd").arg("-c"));
        // Bounded: the node comes up within a minute or the test fails.
        let started = Instant::now();
        loop {
            let state = cluster.slurm("sinfo").args(["-h", "-o", "%t"]).output();
            if state.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle") {
                break cluster;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the Slurm node did not come up: {}",
                std::fs::read_to_string(dir.join("slurmctld.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn slurm(&self, program: &str) -> Command {
        let mut slurm = command(program);
        slurm.env("SLURM_CONF", &self.conf);
        slurm
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for pid in ["slurmd.pid", "slurmctld.pid", "munge/munged.pid"] {
            if let Ok(text) = std::fs::read_to_string(self.dir.join(pid)) {
                let _ = Command::new("kill").arg(text.trim()).status();
            }
        }
    }
}

#[test]
fn a_replicated_compare_as_a_slurm_array_job_merges_into_the_one_machine_result() {
    let ready = ["slurmctld", "slurmd", "sbatch", "munged"]
        .iter()
        .all(|t| tool(t).is_some())
        && Path::new("/etc/munge/munge.key").exists()
        && is_root();
    if !ready {
        assert!(
            std::env::var_os("CLEARSIM_REQUIRE_SLURM").is_none(),
            "CLEARSIM_REQUIRE_SLURM is set but slurm-wlm and munge are not installed, or this is not root"
        );
        eprintln!(
            "SKIPPED a_replicated_compare_as_a_slurm_array_job…: needs root and `apt install slurm-wlm munge`"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(dir.path());
    let clearsim = env!("CARGO_BIN_EXE_clearsim");
    let study = [
        "compare",
        "configs/netting-compare.toml",
        "--volume",
        "0.05",
        "--strategies",
        "dns:hourly;rtgs;rtgs+gridlock:5m",
        "--replications",
        "6",
        "-q",
    ];
    let one = dir.path().join("one-machine");
    run(Command::new(clearsim).args(study).arg("--out").arg(&one));
    // The study as an array job: task K runs shard K of 3.
    let script = dir.path().join("shard.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nset -e\ncd {}\nexec {clearsim} {} --shard \"$SLURM_ARRAY_TASK_ID/3\" --out {}/shard-$SLURM_ARRAY_TASK_ID\n",
            std::env::current_dir().expect("cwd").display(),
            study
                .iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(" "),
            dir.path().display()
        ),
    )
    .expect("script");
    run(Command::new("chmod").args(["+x", &script.display().to_string()]));
    run(cluster
        .slurm("sbatch")
        .args(["--wait", "--array=1-3", "--job-name=clearsim-shards"])
        .arg(format!("--output={}/task-%a.log", dir.path().display()))
        .arg(&script));
    let shards: Vec<PathBuf> = (1..=3)
        .map(|k| dir.path().join(format!("shard-{k}")))
        .collect();
    for (k, shard) in shards.iter().enumerate() {
        assert!(
            shard.join("summary.json").exists(),
            "task {} wrote nothing: {}",
            k + 1,
            std::fs::read_to_string(dir.path().join(format!("task-{}.log", k + 1)))
                .unwrap_or_default()
        );
    }
    let merged = dir.path().join("merged");
    run(Command::new(clearsim)
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged));
    let mut names: Vec<_> = std::fs::read_dir(&one)
        .expect("one")
        .map(|e| e.expect("entry").file_name())
        .collect();
    names.sort();
    assert!(names.len() >= 5);
    for name in names {
        let (a, b) = (
            std::fs::read(one.join(&name)).expect("one machine"),
            std::fs::read(merged.join(&name)).expect("merged"),
        );
        assert!(
            a == b,
            "{name:?} differs between one machine and the Slurm shards"
        );
    }
    drop(cluster);
}
