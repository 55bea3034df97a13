//! What the benchmark reads from and asks of the operating system: CPU pinning, a process's
//! CPU time and resident memory, and the open-files limit.

use std::process::Stdio;
use std::time::Duration;

/// Whether `taskset` is there to pin the server and the load generator to their CPUs.
pub(crate) fn taskset() -> bool {
    std::process::Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// CPU time (user + system) the process has used so far.
pub(crate) fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime and stime are 14th and 15th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// The process's resident memory in KiB (0 when `/proc` cannot tell).
pub(crate) fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// This process's open-files limit after [`raise_nofile`].
pub(crate) struct FileLimit {
    /// The limit in force (the soft limit).
    pub(crate) soft: u64,
    /// How far it may be raised without privileges (the hard limit).
    pub(crate) hard: u64,
    /// Why it could not be raised, when it could not.
    pub(crate) error: Option<String>,
}

/// Raises this process's open-files limit as far as the hard limit allows (every socket is a
/// file: the broadcast holds one per peer on each side) and says where it stands.
pub(crate) fn raise_nofile() -> FileLimit {
    let error = rlimit::increase_nofile_limit(u64::MAX)
        .err()
        .map(|e| e.to_string());
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((soft, hard)) => FileLimit { soft, hard, error },
        Err(e) => FileLimit {
            // What Linux gives a process unless told otherwise.
            soft: 1024,
            hard: 1024,
            error: Some(format!("cannot read it ({e}); assuming 1024")),
        },
    }
}
