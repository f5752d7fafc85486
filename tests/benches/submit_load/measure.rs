//! What the load benchmark measures of a timed phase: its rates and
//! latencies, and the CPU and memory it cost, read from `/proc` (Linux).

use std::time::Duration;

/// The process's peak resident memory in MB (`VmHWM` of
/// `/proc/self/status`), on Linux.
pub(crate) fn peak_resident_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// What a timed phase measured.
#[derive(Default)]
pub(crate) struct Measure {
    pub(crate) units: usize,
    pub(crate) wall: Duration,
    /// Every request's latency, sorted.
    pub(crate) requests: Vec<Duration>,
    /// Every unit's latency, sorted.
    pub(crate) units_latency: Vec<Duration>,
    pub(crate) errors: usize,
    pub(crate) first_error: Option<String>,
    /// CPU time (user + system) over the phase: of this process (server and
    /// clients), and of PostgreSQL's processes.
    pub(crate) cpu: Cpu,
}

impl Measure {
    /// CPU µs per unit: this process's, PostgreSQL's.
    pub(crate) fn cpu_per_unit(&self) -> (f64, f64) {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / self.units.max(1) as f64;
        (per(self.cpu.process), per(self.cpu.postgres))
    }

    pub(crate) fn per_second(&self) -> f64 {
        self.units as f64 / self.wall.as_secs_f64()
    }

    pub(crate) fn requests_per_second(&self) -> f64 {
        self.requests.len() as f64 / self.wall.as_secs_f64()
    }

    pub(crate) fn request(&self, quantile: f64) -> Duration {
        percentile(&self.requests, quantile)
    }

    pub(crate) fn unit(&self, quantile: f64) -> Duration {
        percentile(&self.units_latency, quantile)
    }
}

/// CPU time spent, read from `/proc` (Linux; zero elsewhere).
#[derive(Default, Clone, Copy)]
pub(crate) struct Cpu {
    process: Duration,
    postgres: Duration,
}

impl Cpu {
    /// The CPU used so far by this process and by every process named
    /// `postgres` (the cluster's backends and helpers).
    pub(crate) fn now() -> Cpu {
        let mut postgres = Duration::ZERO;
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let path = entry.path();
                if std::fs::read_to_string(path.join("comm")).is_ok_and(|c| c.trim() == "postgres")
                {
                    postgres += cpu_of(&path.join("stat"));
                }
            }
        }
        Cpu {
            process: cpu_of(std::path::Path::new("/proc/self/stat")),
            postgres,
        }
    }

    pub(crate) fn since(self, before: Cpu) -> Cpu {
        Cpu {
            process: self.process.saturating_sub(before.process),
            postgres: self.postgres.saturating_sub(before.postgres),
        }
    }
}

/// utime + stime of a `/proc/<pid>/stat`, in clock ticks of 10 ms (Linux's
/// `USER_HZ`, 100 on every architecture it runs here).
fn cpu_of(stat: &std::path::Path) -> Duration {
    let Ok(text) = std::fs::read_to_string(stat) else {
        return Duration::ZERO;
    };
    // Fields after the command's closing parenthesis: state is field 3,
    // utime 14 and stime 15.
    let Some(after) = text.rfind(')').map(|i| &text[i + 1..]) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// The nearest-rank percentile of sorted durations.
pub(crate) fn percentile(sorted: &[Duration], quantile: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
