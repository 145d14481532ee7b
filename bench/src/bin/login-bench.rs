//! Peak memory of the platform under a burst of concurrent sign-ins (issue 13, item 7).
//!
//! `login-bench [--logins 1000]` runs three servers one after another, each in a child
//! process of its own (the whole platform, all-in-one shape, embedded backends), and fires
//! the same burst of concurrent `POST /api/v1/auth/login` at each from this process:
//!
//! - `bounded`: the defaults (`identity.password_hashing.max_concurrent = 8`, wait 1 s);
//!   sign-ins that find no slot in time get 503 `busy`;
//! - `bounded, patient`: 8 slots, but a sign-in waits up to 120 s for one, so every
//!   password of the burst is checked;
//! - `unbounded`: 1,000 slots, as before ADR 0025 (argon2 then runs on as many blocking
//!   threads as tokio allows, 512).
//!
//! The child's peak resident memory is its `VmHWM` from `/proc/<pid>/status`, read after the
//! burst. The sign-in back-off is raised out of the way (one account, one address), and the
//! gateway's rate limits are off: the point is what the hashing costs.
//! Prints a Markdown table for docs/PERFORMANCE.md.

use anyhow::{Context, bail};
use mercato_gateway::app::{self, Shape};
use mercato_gateway::config::Config;
use mercato_identity::domain::{AccountRole, Realm};
use mercato_testkit::Client;
use serde_json::json;
use std::io::Write as _;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

/// A line on stdout (the table, or the child's `READY` line), which the parent reads.
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout(), $($arg)*)?
    };
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EMAIL: &str = "bench@platform.localhost";
const PASSWORD: &str = "benchmark password";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(slots) = value("--serve-slots") {
        let wait_ms = value("--wait-ms").context("--wait-ms")?.parse()?;
        return serve(slots.parse()?, wait_ms).await;
    }
    let logins: usize = value("--logins").map_or(Ok(1000), |v| v.parse())?;
    say!(
        "{logins} concurrent sign-ins, one account, {} cores, {}\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        chrono::Utc::now().format("%Y-%m-%d")
    );
    say!(
        "| server | hashing slots | wait for a slot | 200 | 503 busy | other | burst took | idle RSS | peak RSS |"
    );
    say!("|---|---|---|---|---|---|---|---|---|");
    for (name, slots, wait_ms) in [
        ("bounded (defaults)", 8, 1_000),
        ("bounded, patient", 8, 120_000),
        ("unbounded (before ADR 0025)", 1_000, 120_000),
    ] {
        let row = measure(logins, slots, wait_ms).await?;
        say!(
            "| {name} | {slots} | {} s | {} | {} | {} | {:.1} s | {} MiB | {} MiB |",
            wait_ms / 1000,
            row.ok,
            row.busy,
            row.other,
            row.took.as_secs_f64(),
            row.idle_kib / 1024,
            row.peak_kib / 1024
        );
    }
    Ok(())
}

struct Row {
    ok: usize,
    busy: usize,
    other: usize,
    took: Duration,
    idle_kib: u64,
    peak_kib: u64,
}

/// One server in a child process, one burst against it.
async fn measure(logins: usize, slots: u32, wait_ms: u64) -> anyhow::Result<Row> {
    let exe = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(exe)
        .args([
            "--serve-slots",
            &slots.to_string(),
            "--wait-ms",
            &wait_ms.to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().context("child pid")?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let addr: std::net::SocketAddr = loop {
        let line = lines.next_line().await?.context("the server stopped")?;
        if let Some(addr) = line.strip_prefix("READY ") {
            break addr.parse()?;
        }
    };
    let idle_kib = status_kib(pid, "VmRSS:")?;
    let client = Client::new(addr);
    let started = Instant::now();
    let burst = (0..logins).map(|_| {
        let client = client.clone();
        async move {
            client
                .post(
                    "platform.localhost",
                    "/api/v1/auth/login",
                    None,
                    &json!({ "email": EMAIL, "password": PASSWORD }),
                )
                .await
                .map(|r| r.status)
        }
    });
    let statuses = futures::future::join_all(burst).await;
    let took = started.elapsed();
    let peak_kib = status_kib(pid, "VmHWM:")?;
    child.kill().await?;
    let count = |want: u16| {
        statuses
            .iter()
            .filter(|s| s.as_ref().is_ok_and(|s| *s == want))
            .count()
    };
    let (ok, busy) = (count(200), count(503));
    Ok(Row {
        ok,
        busy,
        other: logins - ok - busy,
        took,
        idle_kib,
        peak_kib,
    })
}

/// A `kB` line of `/proc/<pid>/status`.
fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    match line.split_whitespace().nth(1).map(str::parse) {
        Some(Ok(kib)) => Ok(kib),
        _ => bail!("cannot read {line:?}"),
    }
}

/// The child: the platform with `slots` hashing slots, until killed.
async fn serve(slots: u32, wait_ms: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.gateway.enforce_rate_limits = false;
    config.log.filter = "error".into();
    let hashing = &mut config.identity.password_hashing;
    hashing.max_concurrent = NonZeroU32::new(slots).context("slots")?;
    hashing.wait_ms = wait_ms;
    let backoff = &mut config.identity.login_backoff;
    backoff.attempts_per_account = NonZeroU32::MAX;
    backoff.attempts_per_address = NonZeroU32::MAX;
    mercato_kernel::telemetry::init(config.log.format, &config.log.filter);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = app::start(&config, Shape::AllInOne, false, shutdown.clone()).await?;
    let identity = running.identity_db.clone().context("identity db")?;
    mercato_identity::ensure_account(
        &identity,
        Realm::Platform,
        EMAIL,
        PASSWORD,
        AccountRole::PlatformAdmin,
    )
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    say!("READY {}", listener.local_addr()?);
    let router = running.router.clone();
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
