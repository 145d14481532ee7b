//! Where the time goes during a measured window: how the machine's CPU time splits between
//! this process (server and shoppers) and everything else (PostgreSQL, other load), and, on
//! PostgreSQL, what the platform's busy sessions are waiting for.

use mercato_db::Db;
use mercato_db::sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// CPU time so far, in clock ticks (Linux `/proc`; zeros elsewhere).
#[derive(Clone, Copy, Default)]
pub struct Cpu {
    this_process: u64,
    postgres: u64,
    busy: u64,
    iowait: u64,
    total: u64,
}

impl Cpu {
    pub fn now() -> Self {
        let machine = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let ticks: Vec<u64> = machine
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|t| t.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal
        let at = |i: usize| ticks.get(i).copied().unwrap_or(0);
        let total: u64 = ticks.iter().take(8).sum();
        // Every PostgreSQL process on the machine (the server's, whoever's sessions they run).
        let mut postgres = 0;
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            if stat.contains("(postgres)") {
                postgres += process_ticks(&stat);
            }
        }
        Cpu {
            this_process: process_ticks(
                &std::fs::read_to_string("/proc/self/stat").unwrap_or_default(),
            ),
            postgres,
            busy: total.saturating_sub(at(3) + at(4)),
            iowait: at(4),
            total,
        }
    }

    /// `this process / PostgreSQL / everything else / waiting for the disk / idle`, in % of
    /// the machine.
    pub fn split_since(&self, before: &Cpu) -> String {
        let total = self.total.saturating_sub(before.total).max(1) as f64;
        let pct = |ticks: u64| 100.0 * ticks as f64 / total;
        let this = self.this_process.saturating_sub(before.this_process);
        let postgres = self.postgres.saturating_sub(before.postgres);
        let busy = self.busy.saturating_sub(before.busy);
        let iowait = self.iowait.saturating_sub(before.iowait);
        format!(
            "{:.0} / {:.0} / {:.0} / {:.0} / {:.0}",
            pct(this),
            pct(postgres),
            pct(busy.saturating_sub(this + postgres)),
            pct(iowait),
            pct(self
                .total
                .saturating_sub(before.total)
                .saturating_sub(busy + iowait)),
        )
    }
}

/// A process's user + system time from its `/proc/<pid>/stat` line: the 12th and 13th
/// fields after the command name (which is in parentheses and may contain spaces).
fn process_ticks(stat: &str) -> u64 {
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_name
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0)
}

/// Samples, every 20 ms until `until`, what this benchmark's active PostgreSQL sessions
/// wait for (`wait_event_type:wait_event`, or `CPU` when they wait for nothing); returns
/// the share of samples of each, largest first.
pub async fn pg_waits(reader: &Db, until: Instant) -> Vec<(String, f64)> {
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let sql = "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS w, count(*) AS n \
               FROM pg_stat_activity WHERE application_name = 'checkout-bench' AND state = 'active' \
               GROUP BY 1";
    while Instant::now() < until {
        if let Ok(rows) = reader
            .raw_connection()
            .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
        {
            for row in rows {
                if let (Ok(w), Ok(n)) =
                    (row.try_get::<String>("", "w"), row.try_get::<i64>("", "n"))
                {
                    *seen.entry(w).or_insert(0) += n.max(0) as u64;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all: u64 = seen.values().sum::<u64>().max(1);
    let mut shares: Vec<(String, f64)> = seen
        .into_iter()
        .map(|(w, n)| (w, 100.0 * n as f64 / all as f64))
        .collect();
    shares.sort_by(|a, b| b.1.total_cmp(&a.1));
    shares
}
