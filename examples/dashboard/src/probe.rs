//! [`Probe`]: the process's CPU time and resident memory, read from `/proc/self` on Linux.
//! Elsewhere both read as zero.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::Sample;

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, 100 on Linux whatever the
/// kernel's own tick rate).
const TICKS_PER_SECOND: f64 = 100.0;

/// Takes [`Sample`]s; the CPU figure of each covers the time since the previous one.
#[derive(Debug)]
pub struct Probe {
    last_ticks: u64,
    last_at: Instant,
}

impl Probe {
    /// Starts measuring from now.
    pub fn start() -> Self {
        Self {
            last_ticks: cpu_ticks().unwrap_or(0),
            last_at: Instant::now(),
        }
    }

    /// A sample now, with `connections` as given.
    pub fn sample(&mut self, connections: usize) -> Sample {
        let now = Instant::now();
        let ticks = cpu_ticks().unwrap_or(self.last_ticks);
        let seconds = now.duration_since(self.last_at).as_secs_f64();
        let used = ticks.saturating_sub(self.last_ticks) as f64 / TICKS_PER_SECOND;
        let cpu = if seconds > 0.0 {
            (used / seconds * 1000.0).round() / 10.0
        } else {
            0.0
        };
        self.last_ticks = ticks;
        self.last_at = now;
        Sample {
            t: now_ms(),
            cpu,
            rss_kib: rss_kib().unwrap_or(0),
            connections,
        }
    }
}

/// User plus system CPU time of this process, in clock ticks (fields 14 and 15 of
/// `/proc/self/stat`, counted after the command name, which may contain spaces).
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// `VmRSS` of `/proc/self/status`, in KiB.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        assert!(rss_kib().unwrap() > 0);
        let before = cpu_ticks().unwrap();
        // Burn a little CPU: the counter never goes backwards.
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(cpu_ticks().unwrap() >= before);
        let mut probe = Probe::start();
        let sample = probe.sample(3);
        assert_eq!(sample.connections, 3);
        assert!(sample.cpu >= 0.0);
        assert!(sample.t > 1_600_000_000_000);
    }
}
