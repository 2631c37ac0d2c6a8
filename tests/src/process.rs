//! Child processes that never outlive their test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running child whose output goes to a log file. Dropping it stops the
/// process (SIGTERM, then SIGKILL after a grace period).
pub struct Daemon {
    pub name: String,
    pub log: PathBuf,
    child: Option<Child>,
}

impl Daemon {
    pub fn spawn(name: &str, cmd: &mut Command, log_dir: &Path) -> Daemon {
        let log = log_dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("create log file");
        let err = out.try_clone().expect("clone log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Daemon {
            name: name.to_string(),
            log,
            child: Some(child),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// CPU time the process has used so far (user + system), from
    /// `/proc/<pid>/stat`; zero when it cannot be read.
    pub fn cpu_time(&self) -> Duration {
        cpu_time(self.pid())
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// The last lines of the log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        // Lossy: one invalid byte must not hide the whole log.
        let bytes = std::fs::read(&self.log).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The log's error lines (`Error: ...`, panics, ERROR events), which a
    /// backtrace after them would push out of [`log_tail`](Self::log_tail).
    pub fn log_errors(&self) -> String {
        let bytes = std::fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| l.starts_with("Error") || l.contains("panicked") || l.contains(" ERROR "))
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The exit status once the process has ended (None while it runs).
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Sends `sig` (a `kill` name: `STOP`, `CONT`, `KILL`, ...).
    pub fn signal(&self, sig: &str) {
        if let Some(child) = &self.child {
            signal(child.id(), sig);
        }
    }

    /// The log without terminal colour codes.
    pub fn log_plain(&self) -> String {
        let bytes = std::fs::read(&self.log).unwrap_or_default();
        strip_ansi(&String::from_utf8_lossy(&bytes))
    }

    /// The Lease holderIdentity this process campaigns under, from the
    /// `attempting to acquire leader lease ... identity=<id>` line the
    /// client crate's leader election logs first.
    pub fn leader_identity(&self) -> Option<String> {
        let log = self.log_plain();
        let line = log
            .lines()
            .find(|l| l.contains("attempting to acquire leader lease"))?;
        let rest = &line[line.find("identity=")? + "identity=".len()..];
        rest.split_whitespace().next().map(str::to_string)
    }

    /// Stops the process and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), "TERM");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

/// `text` without ANSI escape sequences (`ESC [ ... letter`).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Polls `ready` until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs a command to completion, returning (success, stdout, stderr).
pub fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// CPU time (user + system) a process has used, from `/proc/<pid>/stat`
/// in clock ticks of `getconf CLK_TCK`; zero when it cannot be read.
pub fn cpu_time(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // The command name (field 2) may hold spaces; count fields after it.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime and stime are fields 14 and 15.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Resident memory of a process in MiB (`VmRSS` of `/proc/<pid>/status`);
/// zero when it cannot be read.
pub fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// The `p`th percentile (nearest rank) of latency samples.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut s = samples.to_vec();
    s.sort();
    let idx = ((p / 100.0) * (s.len() - 1) as f64).round() as usize;
    s[idx.min(s.len() - 1)]
}
