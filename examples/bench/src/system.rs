//! What the benchmark reads from and asks of the operating system: the machine, CPU
//! pinning, a process's CPU time, resident memory and open sockets, the open-files limit, and
//! how busy the CPUs are with other work.

use std::process::Stdio;
use std::time::Duration;

/// The machine: CPU model and count, from `/proc/cpuinfo`.
pub(crate) fn machine() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let cpus = cpu_count();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{model}, {cpus} CPU{} (Linux {})",
        if cpus == 1 { "" } else { "s" },
        kernel.trim()
    )
}

/// CPUs the machine has online (processor entries in `/proc/cpuinfo`).
pub(crate) fn cpu_count() -> usize {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let n = info.lines().filter(|l| l.starts_with("processor")).count();
    if n > 0 {
        n
    } else {
        std::thread::available_parallelism().map_or(1, usize::from)
    }
}

/// Whether `taskset` is there to pin the servers and the load generator to their CPUs.
pub(crate) fn taskset() -> bool {
    std::process::Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Moves every thread of this process to `cpu` (threads made later inherit it).
pub(crate) fn pin_self(cpu: usize) -> bool {
    let me = std::process::id().to_string();
    std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", &cpu.to_string(), &me])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The CPUs a process may run on, as the kernel says (`Cpus_allowed_list`).
pub(crate) fn allowed_cpus(pid: u32) -> String {
    status_field(pid, "Cpus_allowed_list:").unwrap_or_else(|| "?".to_owned())
}

/// CPU time (user + system, every thread, those that have ended included) the process has
/// used so far, from its CPU-time clock (`clock_getcpuclockid`): in nanoseconds, as of
/// each thread's last scheduler update (a thread running when read may be counted up to a
/// scheduler tick late). Where this process cannot read its own clock, from
/// `/proc/PID/stat`, in 10 ms ticks. [`cpu_clock`] says which; one run never mixes them.
/// A process that is gone reads as zero.
pub(crate) fn cpu_time(pid: u32) -> Duration {
    if precise_cpu_time() {
        process_clock(pid).unwrap_or_default()
    } else {
        ticked(pid)
    }
}

/// How [`cpu_time`] reads CPU time here, for the tables' notes.
pub(crate) fn cpu_clock() -> &'static str {
    if precise_cpu_time() {
        "each process's CPU-time clock"
    } else {
        "/proc (10 ms ticks)"
    }
}

/// The least CPU time a per-item figure is divided from: five ticks of `/proc`, and more
/// than the few milliseconds a running process's clock may lag by.
pub(crate) const ENOUGH_TO_DIVIDE: Duration = Duration::from_millis(50);

/// `used` CPU time per item for `n` items, in nanoseconds; `None` for no items, or for less
/// than [`ENOUGH_TO_DIVIDE`], where the figure would be mostly the count's error.
pub(crate) fn per_item(used: Duration, n: u64) -> Option<f64> {
    (n > 0 && used >= ENOUGH_TO_DIVIDE).then(|| used.as_secs_f64() * 1e9 / n as f64)
}

/// Whether this process can read its own CPU-time clock (checked once).
fn precise_cpu_time() -> bool {
    static PRECISE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PRECISE.get_or_init(|| process_clock(std::process::id()).is_some())
}

/// The process's CPU-time clock, when the kernel lets this process read it.
fn process_clock(pid: u32) -> Option<Duration> {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).ok()?);
    let clock = nix::time::clock_getcpuclockid(pid).ok()?;
    nix::time::clock_gettime(clock).ok().map(Duration::from)
}

/// CPU time from `/proc/PID/stat`, in whole 10 ms ticks.
fn ticked(pid: u32) -> Duration {
    let ticks = user_and_kernel(pid);
    // USER_HZ is 100 on Linux.
    Duration::from_millis((ticks.user + ticks.kernel) * 10)
}

/// A process's CPU time so far in user space and in the kernel, in 10 ms ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Ticks {
    pub(crate) user: u64,
    pub(crate) kernel: u64,
}

impl Ticks {
    /// The ticks from `before` to `self` (each saturating at zero).
    pub(crate) fn since(self, before: Ticks) -> Ticks {
        Ticks {
            user: self.user.saturating_sub(before.user),
            kernel: self.kernel.saturating_sub(before.kernel),
        }
    }

    /// The kernel's share of the ticks; `None` without any.
    pub(crate) fn kernel_share(self) -> Option<f64> {
        let all = self.user + self.kernel;
        (all > 0).then(|| self.kernel as f64 / all as f64)
    }
}

impl std::iter::Sum for Ticks {
    fn sum<I: Iterator<Item = Ticks>>(iter: I) -> Ticks {
        iter.fold(Ticks::default(), |a, b| Ticks {
            user: a.user + b.user,
            kernel: a.kernel + b.kernel,
        })
    }
}

/// The process's user and kernel ticks from `/proc/PID/stat` (all threads, ended ones
/// included); zero for a process that is gone.
pub(crate) fn user_and_kernel(pid: u32) -> Ticks {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime and stime are 14th and 15th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse().ok()).unwrap_or(0);
    Ticks {
        user: field(11),
        kernel: field(12),
    }
}

/// The process's resident memory in KiB (0 when `/proc` cannot tell).
pub(crate) fn rss_kib(pid: u32) -> u64 {
    status_field(pid, "VmRSS:")
        .and_then(|v| v.trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// How many files (sockets included) the process has open.
pub(crate) fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn status_field(pid: u32, name: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .map(|v| v.trim().to_owned())
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
/// file: the broadcast and memory scenarios hold one per peer on each side) and says where it
/// stands.
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

/// Busy and total time of every CPU and the machine (jiffies from `/proc/stat`).
#[derive(Clone, Default)]
struct CpuTimes {
    /// `(busy, total)` per CPU, in order.
    per_cpu: Vec<(u64, u64)>,
}

impl CpuTimes {
    fn now() -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let per_cpu = stat
            .lines()
            .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
            .map(|l| {
                let v: Vec<u64> = l
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|x| x.parse().ok())
                    .collect();
                // user nice system idle iowait irq softirq steal (guest is inside user).
                let total: u64 = v.iter().take(8).sum();
                let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
                (total - idle, total)
            })
            .collect();
        Self { per_cpu }
    }
}

/// The load check: how much CPU time processes other than the benchmark's own used while it
/// measured (another engineer's build on the same machine takes CPU from the servers or the
/// load generator, and the figures drop).
pub(crate) struct Load {
    cpus: CpuTimes,
    ours: Duration,
    pids: Vec<u32>,
    /// CPU time of our processes that started and exited while watched.
    exited: Duration,
}

impl Load {
    /// Starts watching; `pids` are the benchmark's own processes.
    pub(crate) fn start(pids: &[u32]) -> Self {
        Self {
            cpus: CpuTimes::now(),
            ours: pids.iter().map(|&p| cpu_time(p)).sum(),
            pids: pids.to_vec(),
            exited: Duration::ZERO,
        }
    }

    /// Counts as ours a process started after [`Load::start`] that used `cpu` before it
    /// exited (a server started for one measurement).
    pub(crate) fn add_exited(&mut self, cpu: Duration) {
        self.exited += cpu;
    }

    /// Per CPU, the share of time that was busy (`busy_by_all`, 0..1), and for the machine
    /// the share of all CPUs' time used by other processes than ours.
    pub(crate) fn finish(&self) -> (Vec<f64>, f64) {
        let now = CpuTimes::now();
        let ours: Duration = self.pids.iter().map(|&p| cpu_time(p)).sum::<Duration>() + self.exited;
        let mut busy_all = 0u64;
        let mut total_all = 0u64;
        let per_cpu = now
            .per_cpu
            .iter()
            .zip(&self.cpus.per_cpu)
            .map(|(&(b1, t1), &(b0, t0))| {
                let (b, t) = (b1.saturating_sub(b0), t1.saturating_sub(t0));
                busy_all += b;
                total_all += t;
                if t == 0 { 0.0 } else { b as f64 / t as f64 }
            })
            .collect();
        // Jiffies are 10 ms: the processes' CPU time in the same unit.
        let ours = (ours.saturating_sub(self.ours).as_millis() / 10) as u64;
        let others = if total_all == 0 {
            0.0
        } else {
            busy_all.saturating_sub(ours) as f64 / total_all as f64
        };
        (per_cpu, others)
    }

    /// One line for a table's notes: how busy other processes kept the CPUs meanwhile.
    pub(crate) fn note(&self) -> String {
        let (_, others) = self.finish();
        let mut line = format!(
            "load check: other processes used {:.0}% of the machine's CPU time meanwhile",
            others * 100.0
        );
        if others > 0.1 {
            line.push_str(" (busy machine: the figures above are likely low and noisy)");
        }
        line
    }
}

/// How busy each CPU is over `span`, before the benchmark starts its load.
pub(crate) async fn idle_check(span: Duration) -> Vec<f64> {
    let load = Load::start(&[]);
    tokio::time::sleep(span).await;
    load.finish().0
}

#[cfg(test)]
mod tests {
    use std::hint::black_box;
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use super::{
        ENOUGH_TO_DIVIDE, Ticks, cpu_time, per_item, precise_cpu_time, ticked, user_and_kernel,
    };

    /// Burns CPU until `pid` has used `more` CPU time than `before` (bounded).
    fn work_until(pid: u32, before: Duration, more: Duration) {
        let started = Instant::now();
        let mut sum = 0u64;
        while cpu_time(pid) < before + more {
            for i in 0..10_000u64 {
                sum = sum.wrapping_add(black_box(i));
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no CPU time counted"
            );
        }
        black_box(sum);
    }

    /// `/proc`'s count, read before and after: the clock lies between them, less the two
    /// ticks /proc may round off (user and system time are rounded down apart).
    fn agrees_with_proc(pid: u32) {
        let low = ticked(pid);
        let clock = cpu_time(pid);
        let high = ticked(pid);
        assert!(low <= clock, "{low:?} {clock:?}");
        assert!(
            clock < high + Duration::from_millis(20),
            "{clock:?} {high:?}"
        );
    }

    #[test]
    fn the_clock_counts_this_process_and_agrees_with_proc() {
        assert!(
            precise_cpu_time(),
            "Linux lets a process read CPU-time clocks"
        );
        let me = std::process::id();
        work_until(me, cpu_time(me), Duration::from_millis(30));
        agrees_with_proc(me);
    }

    #[test]
    fn a_thread_that_has_ended_still_counts() {
        let me = std::process::id();
        let before = cpu_time(me);
        let thread = std::thread::spawn(|| {
            let own = || {
                let clock = nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID;
                nix::time::clock_gettime(clock).map_or(Duration::ZERO, Duration::from)
            };
            let mut sum = 0u64;
            while own() < Duration::from_millis(20) {
                for i in 0..10_000u64 {
                    sum = sum.wrapping_add(black_box(i));
                }
            }
            black_box(sum);
            own()
        });
        let spent = thread.join().expect("the thread");
        assert!(spent >= Duration::from_millis(20));
        assert!(
            cpu_time(me) - before >= spent,
            "the ended thread's time is kept"
        );
    }

    #[test]
    fn another_process_s_clock_is_read() {
        let mut child = Command::new("sh")
            .args([
                "-c",
                "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo done; read x",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sh");
        let pid = child.id();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let said = rx.recv_timeout(Duration::from_secs(60));
        assert_eq!(said.as_deref(), Ok("done\n"));
        // Read while the child waits on its stdin, its count loop done.
        assert!(cpu_time(pid) > Duration::ZERO, "its loop used CPU time");
        agrees_with_proc(pid);
        let _ = child.stdin.take().map(|mut i| i.write_all(b"\n"));
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(
            cpu_time(pid),
            Duration::ZERO,
            "a process that is gone reads zero"
        );
    }

    #[test]
    fn user_and_kernel_time_are_told_apart() {
        use std::io::Read;
        let me = std::process::id();
        // In user space only.
        let before = user_and_kernel(me);
        work_until(me, cpu_time(me), Duration::from_millis(200));
        let user = user_and_kernel(me).since(before);
        assert!(user.user >= 10 && user.user > 4 * user.kernel, "{user:?}");
        // Mostly in the kernel: reads of /dev/zero, which the kernel fills.
        let mut zero = std::fs::File::open("/dev/zero").expect("/dev/zero");
        let mut buf = vec![1u8; 1 << 20];
        let (start, started) = (cpu_time(me), Instant::now());
        let before = user_and_kernel(me);
        while cpu_time(me) < start + Duration::from_millis(200) {
            zero.read_exact(&mut buf).expect("read /dev/zero");
            assert!(started.elapsed() < Duration::from_secs(30), "no CPU time");
        }
        let kernel = user_and_kernel(me).since(before);
        assert!(
            kernel.kernel >= 10 && kernel.kernel > kernel.user,
            "{kernel:?}"
        );
        assert!(kernel.kernel_share().is_some_and(|s| s > 0.5));
        assert_eq!(
            [user, kernel].into_iter().sum::<Ticks>(),
            Ticks {
                user: user.user + kernel.user,
                kernel: user.kernel + kernel.kernel
            }
        );
        assert_eq!(Ticks::default().kernel_share(), None);
        assert_eq!(before.since(user_and_kernel(me)), Ticks::default());
    }

    #[test]
    fn a_per_item_figure_needs_enough_cpu_time_and_an_item() {
        let ns = Duration::from_nanos(1);
        assert_eq!(per_item(ENOUGH_TO_DIVIDE - ns, 1), None);
        assert_eq!(per_item(ENOUGH_TO_DIVIDE, 1), Some(50e6));
        assert_eq!(per_item(ENOUGH_TO_DIVIDE + ns, 2), Some((50e6 + 1.0) / 2.0));
        assert_eq!(per_item(Duration::from_secs(1), 0), None);
    }
}
