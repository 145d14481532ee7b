//! Checkouts per second end to end (`docs/PERFORMANCE.md`, "Orders: checkouts end to end"):
//! the whole platform in this process (all-in-one shape, release build) on embedded SQLite or
//! on PostgreSQL (`--postgres URL`, in fresh schemas that are dropped afterwards), one shop
//! with `--vendors` approved vendors of `--products` stocked products each, set up through
//! the API, and `--shoppers` concurrent guests, each in a loop for `--seconds`: a cart of 1–3
//! random lines (1–2 units each), `POST /api/v1/checkout` with an `Idempotency-Key` and a
//! test card, then `GET /api/v1/orders/{id}` (`X-Order-Token`) until the order is `paid`.
//! Every request goes through the gateway by `Host` header, over loopback.
//!
//! Cards: `4242…` pays synchronously (the provider's `payment_intent.succeeded` webhook
//! follows through a durable job and finds the order paid); `4000…3220` pays only through
//! that webhook (`orders.test_webhook_delay_ms = 0`).
//!
//! Each level runs a discarded warm-up, waits until the platform is idle (outboxes relayed,
//! webhook jobs done), then measures. Database commits are counted around the measured
//! window, up to the moment the platform is idle again (so the events and jobs a checkout
//! causes are in): on PostgreSQL from `pg_stat_database.xact_commit` of the database (every
//! committed transaction, read-only ones included; plus the transaction ids handed out,
//! i.e. transactions that wrote, and `pg_stat_wal.wal_sync`, the WAL flushes); on SQLite
//! with a commit hook on every pooled connection of every service (write transactions:
//! SQLite runs the hook only for those). Relays and job workers are included: that is what
//! a checkout costs. At the end: every variant's `on_hand + sold == initial` and
//! `reserved == 0` (GET /api/v1/stock/{variant} as the merchant), and every order in the
//! merchant's list is paid.
//!
//! On PostgreSQL the schemas are vacuumed and analyzed after each warm-up, as autovacuum
//! would (`--no-vacuum` skips it; the test server here runs with `autovacuum = off`).
//!
//! Usage: `checkout-bench [--postgres URL] [--pool N] [--shoppers 16,32,64] [--seconds 25]
//! [--warmup 3] [--vendors 10] [--products 10] [--cards 4242,3220] [--no-vacuum]`; prints
//! Markdown on stdout, progress on stderr.

mod args;
mod commits;
mod market;
mod probe;

use anyhow::ensure;
use args::{Args, args};
use commits::{CommitCounter, Databases, SERVICES, count};
use market::{Market, STOCK, created, market, merchant_orders};
use mercato_db::sea_orm::ConnectionTrait;
use mercato_db::{Db, DbTarget};
use mercato_gateway::app::{self, Shape};
use mercato_gateway::config::Config;
use mercato_testkit::{Client, Reply};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The platform runs in this process: it allocates as `mercato` does (ADR 0022).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How often a shopper asks whether the order is paid yet: after 10 ms, then twice as
/// long each time up to 100 ms (tighter polling of many shoppers would load the server
/// more than the checkouts do).
const FIRST_POLL: Duration = Duration::from_millis(10);
const MAX_POLL: Duration = Duration::from_millis(100);
/// A checkout not paid by then counts as an error.
const PAID_TIMEOUT: Duration = Duration::from_secs(60);

/// SplitMix64: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One completed checkout.
struct Completed {
    /// From the cart request to the order seen `paid`.
    end_to_end: Duration,
    /// The `POST /api/v1/checkout` call alone.
    checkout: Duration,
    lines: Vec<(usize, i64)>,
}

#[derive(Default)]
struct Shopped {
    completed: Vec<Completed>,
    errors: Vec<String>,
}

fn failure(step: &str, reply: &Reply) -> String {
    let code = reply.body["code"].as_str().unwrap_or_default();
    format!("{step}: {} {code}", reply.status)
}

async fn checkout_once(
    client: &Client,
    host: &str,
    card: &str,
    lines: Vec<(usize, i64)>,
    variants: &[String],
) -> Result<Completed, String> {
    let started = Instant::now();
    let body: Vec<Value> = lines
        .iter()
        .map(|(v, q)| json!({ "variant_id": variants[*v], "quantity": q }))
        .collect();
    let cart = client
        .post(host, "/api/v1/carts", None, &json!({ "lines": body }))
        .await
        .map_err(|e| format!("cart: {e}"))?;
    if cart.status != 201 {
        return Err(failure("cart", &cart));
    }
    let request = json!({
        "cart_id": cart.str("id"),
        "email": "erika@example.test",
        "shipping_address": {
            "name": "Erika Mustermann", "line1": "Hauptstraße 1", "city": "Berlin",
            "postal_code": "10115", "country": "DE"
        },
        "payment": { "provider": "test", "card": card }
    });
    let key = uuid::Uuid::now_v7().to_string();
    let checkout_started = Instant::now();
    let order = client
        .send_raw(
            "POST",
            host,
            "/api/v1/checkout",
            &[
                ("content-type", "application/json"),
                ("idempotency-key", &key),
            ],
            serde_json::to_vec(&request).map_err(|e| e.to_string())?,
        )
        .await
        .map_err(|e| format!("checkout: {e}"))?;
    let checkout = checkout_started.elapsed();
    if order.status != 201 {
        return Err(failure("checkout", &order));
    }
    let (id, token) = (order.str("id"), order.str("order_token"));
    let mut status = order.str("status");
    let path = format!("/api/v1/orders/{id}");
    let mut poll = FIRST_POLL;
    while status != "paid" {
        if status != "pending_payment" || started.elapsed() > PAID_TIMEOUT {
            return Err(format!("order {status}, not paid"));
        }
        tokio::time::sleep(poll).await;
        poll = (poll * 2).min(MAX_POLL);
        let seen = client
            .send_raw("GET", host, &path, &[("x-order-token", &token)], Vec::new())
            .await
            .map_err(|e| format!("order: {e}"))?;
        if seen.status != 200 {
            return Err(failure("order", &seen));
        }
        status = seen.str("status");
    }
    Ok(Completed {
        end_to_end: started.elapsed(),
        checkout,
        lines,
    })
}

/// One guest checking out again and again until `until`.
async fn shopper(
    client: Client,
    host: Arc<str>,
    variants: Arc<Vec<String>>,
    card: Arc<str>,
    until: Instant,
    seed: u64,
) -> Shopped {
    let mut rng = Rng(seed);
    let mut shopped = Shopped::default();
    while Instant::now() < until {
        let mut lines: Vec<(usize, i64)> = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let v = rng.below(variants.len());
            if !lines.iter().any(|(w, _)| *w == v) {
                lines.push((v, 1 + rng.below(2) as i64));
            }
        }
        match checkout_once(&client, &host, &card, lines, &variants).await {
            Ok(done) => shopped.completed.push(done),
            Err(error) => shopped.errors.push(error),
        }
    }
    shopped
}

/// What one load run did.
struct Load {
    completed: Vec<Completed>,
    errors: Vec<String>,
    elapsed: Duration,
}

async fn load(
    client: &Client,
    market: &Market,
    card: &str,
    shoppers: usize,
    seconds: u64,
    seed: u64,
) -> anyhow::Result<Load> {
    let host: Arc<str> = market.host.as_str().into();
    let variants = Arc::new(market.variants.clone());
    let card: Arc<str> = card.into();
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::with_capacity(shoppers);
    for i in 0..shoppers {
        tasks.push(tokio::spawn(shopper(
            client.clone(),
            host.clone(),
            variants.clone(),
            card.clone(),
            until,
            seed.wrapping_mul(1000).wrapping_add(i as u64),
        )));
    }
    let mut run = Load {
        completed: Vec::new(),
        errors: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        let shopped = task.await?;
        run.completed.extend(shopped.completed);
        run.errors.extend(shopped.errors);
    }
    run.elapsed = started.elapsed();
    Ok(run)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn card_label(card: &str) -> &'static str {
    if card.ends_with("3220") {
        "3220, paid by the webhook"
    } else {
        "4242, paid at checkout"
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let dir = tempfile::tempdir()?;
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.gateway.enforce_rate_limits = false;
    // The bench's shoppers pay with test cards, on PostgreSQL too.
    config.orders.test_provider = true;
    config.orders.allow_test_payments = true;
    config.orders.test_webhook_delay_ms = 0;
    config.database.max_connections = args.pool;
    config.log.filter = "warn".into();
    let prefix = format!(
        "bench_{}_",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    );
    let backend = if let Some(url) = &args.postgres {
        let separator = if url.contains('?') { '&' } else { '?' };
        config.database.url = format!("{url}{separator}application_name=checkout-bench");
        config.database.schema_prefix = prefix.clone();
        "PostgreSQL"
    } else {
        "SQLite (embedded)"
    };
    mercato_kernel::telemetry::init(config.log.format, &config.log.filter);

    let shutdown = CancellationToken::new();
    let running = app::start(&config, Shape::AllInOne, false, shutdown.clone()).await?;
    let dbs = Databases::of(&running)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = running.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    let client = Client::new(addr);
    let counter = match &args.postgres {
        Some(url) => CommitCounter::Postgres {
            reader: Db::connect(
                DbTarget::Postgres {
                    url,
                    schema: "public",
                },
                1,
            )
            .await?,
            prefix: prefix.clone(),
        },
        None => CommitCounter::Sqlite(
            dbs.0
                .iter()
                .map(|(name, db)| (*name, db.clone(), Arc::new(AtomicU64::new(0))))
                .collect(),
        ),
    };

    let result = run(&args, backend, &client, &dbs, &counter).await;
    shutdown.cancel();
    drop(running);
    if let CommitCounter::Postgres { reader, prefix } = &counter {
        for service in SERVICES {
            let _ = reader
                .raw_connection()
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {prefix}{service} CASCADE"))
                .await;
        }
    }
    let report = result?;
    std::io::stdout().lock().write_all(report.as_bytes())?;
    Ok(())
}

async fn run(
    args: &Args,
    backend: &str,
    client: &Client,
    dbs: &Databases,
    counter: &CommitCounter,
) -> anyhow::Result<String> {
    let started = Instant::now();
    let market = market(client, dbs.get("identity")?, args.vendors, args.products).await?;
    eprintln!(
        "{backend}: {} vendors x {} products set up in {:.1} s",
        args.vendors,
        args.products,
        started.elapsed().as_secs_f64()
    );
    counter.arm().await?;
    // What the platform commits when idle (relays and job workers polling).
    let (before, _) = counter.read_settled(dbs).await?;
    let idle_window = Duration::from_secs(10);
    tokio::time::sleep(idle_window).await;
    let idle = counter.read().await?.since(&before);
    let idle_per_s = idle.commits as f64 / idle_window.as_secs_f64();

    let mut out = String::new();
    let mut commits = String::new();
    let _ = writeln!(
        out,
        "| backend | card | shoppers | checkouts | checkouts/s | p50 | p99 | checkout call p50 / p99 | errors | settled after | sustained/s | commits per checkout |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut profile = String::new();
    let mut sold: BTreeMap<usize, i64> = BTreeMap::new();
    let mut placed = 0u64;
    let mut errors_total = 0usize;
    let mut seed = 1;
    for card in &args.cards {
        for &shoppers in &args.shoppers {
            seed += 1;
            let warm = load(client, &market, card, shoppers, args.warmup, seed).await?;
            seed += 1;
            counter.arm().await?;
            if args.vacuum {
                dbs.settle().await?;
                counter.vacuum().await?;
            }
            let (before, _) = counter.read_settled(dbs).await?;
            let counted = Instant::now();
            let cpu = probe::Cpu::now();
            let until = counted + Duration::from_secs(args.seconds);
            let waits = async {
                match counter {
                    CommitCounter::Postgres { reader, .. } => probe::pg_waits(reader, until).await,
                    CommitCounter::Sqlite(_) => Vec::new(),
                }
            };
            let (run, waits) = tokio::join!(
                load(client, &market, card, shoppers, args.seconds, seed),
                waits
            );
            let mut run = run?;
            let cpu = probe::Cpu::now().split_since(&cpu);
            let left = dbs
                .backlog()
                .await?
                .iter()
                .map(|(what, n)| format!("{what} {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let (after, settled) = counter.read_settled(dbs).await?;
            let window = counted.elapsed();
            let delta = after.since(&before);
            for done in warm.completed.iter().chain(&run.completed) {
                for (v, q) in &done.lines {
                    *sold.entry(*v).or_insert(0) += q;
                }
            }
            placed += (warm.completed.len() + run.completed.len()) as u64;
            errors_total += warm.errors.len() + run.errors.len();
            let n = run.completed.len().max(1) as f64;
            run.completed.sort_by_key(|c| c.end_to_end);
            let end_to_end: Vec<Duration> = run.completed.iter().map(|c| c.end_to_end).collect();
            let mut calls: Vec<Duration> = run.completed.iter().map(|c| c.checkout).collect();
            calls.sort();
            let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
            for e in &run.errors {
                *kinds.entry(e.as_str()).or_insert(0) += 1;
            }
            let rate = run.completed.len() as f64 / run.elapsed.as_secs_f64();
            let row = format!(
                "| {backend} | {} | {shoppers} | {} | **{rate:.0}** | {} | {} | {} / {} | {} | {:.1} s | {:.0} | {:.1} |",
                card_label(card),
                run.completed.len(),
                ms(percentile(&end_to_end, 50.0)),
                ms(percentile(&end_to_end, 99.0)),
                ms(percentile(&calls, 50.0)),
                ms(percentile(&calls, 99.0)),
                run.errors.len(),
                settled.as_secs_f64(),
                run.completed.len() as f64 / (run.elapsed + settled).as_secs_f64(),
                delta.commits as f64 / n,
            );
            let waits = waits
                .iter()
                .take(6)
                .map(|(w, share)| format!("{w} {share:.0} %"))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                profile,
                "| {backend} | {} | {shoppers} | {cpu} | {} | {} |",
                card_label(card),
                if left.is_empty() { "none" } else { &left },
                if waits.is_empty() { "–" } else { &waits },
            );
            eprintln!("{row}");
            if !kinds.is_empty() {
                eprintln!("  errors: {kinds:?}");
            }
            let _ = writeln!(out, "{row}");
            let idle_share = idle_per_s * window.as_secs_f64() / n;
            let per_service = delta
                .per_service
                .iter()
                .map(|(s, c)| format!("{s} {:.1}", *c as f64 / n))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                commits,
                "| {backend} | {} | {shoppers} | {:.1} | {idle_share:.1} | {} | {} | {per_service} | {} / {} |",
                card_label(card),
                delta.commits as f64 / n,
                delta
                    .writes
                    .map_or("–".into(), |w| format!("{:.1}", w as f64 / n)),
                delta
                    .wal_syncs
                    .map_or("–".into(), |w| format!("{:.1}", w as f64 / n)),
                delta.sessions_here,
                delta.elsewhere,
            );
        }
    }

    // Nothing sold twice, nothing left held, every order paid.
    dbs.settle().await?;
    let (statuses, listed_sold) = merchant_orders(client, &market).await?;
    let mut problems = Vec::new();
    for (i, variant) in market.variants.iter().enumerate() {
        let stock = client
            .get(
                &market.host,
                &format!("/api/v1/stock/{variant}"),
                Some(&market.owner),
            )
            .await?;
        let stock = created(stock, "stock")?.body;
        let on_hand = stock["on_hand"].as_i64().unwrap_or(-1);
        let reserved = stock["reserved"].as_i64().unwrap_or(-1);
        let ours = sold.get(&i).copied().unwrap_or(0);
        let theirs = listed_sold.get(variant).copied().unwrap_or(0);
        if on_hand + ours != STOCK || reserved != 0 || ours != theirs {
            problems.push(format!("{variant}: on_hand {on_hand}, reserved {reserved}, sold {ours} (orders list: {theirs})"));
        }
    }
    let paid = statuses.get("paid").copied().unwrap_or(0);
    let webhooks = count(dbs.get("orders")?, "SELECT count(*) AS n FROM jobs WHERE kind = 'payments.test_webhook' AND status <> 'succeeded'").await?;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Checks: {} variants, {} with on_hand + sold ≠ {STOCK}, reserved ≠ 0 or a sale the orders list does not show{}; \
         orders in the merchant's list by status: {statuses:?} ({placed} paid checkouts seen by the shoppers, {errors_total} errors including warm-ups); \
         webhook jobs not succeeded: {webhooks}.",
        market.variants.len(),
        problems.len(),
        if problems.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                problems
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        },
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Commits per checkout (idle platform: {idle_per_s:.0} commits/s, share of the window in the second column):"
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| backend | card | shoppers | commits | of which idle polling | writing transactions | WAL flushes | per service ({}) | other clients: sessions here / commits in other databases |",
        if args.postgres.is_some() {
            "rows written"
        } else {
            "commits"
        }
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    out.push_str(&commits);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Where the time goes during the window (CPU in % of the machine; PostgreSQL: what the platform's active sessions waited for, share of samples every 20 ms):"
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| backend | card | shoppers | CPU: this process / PostgreSQL / everything else / I/O wait / idle | left to do when the window closed | PostgreSQL sessions waiting on |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    out.push_str(&profile);
    // What the connections to PostgreSQL pay for: TLS (the URL's `sslmode`; `prefer`, the
    // default, takes it whenever the server offers it) costs about a tenth of the rate here.
    let transport = if args.postgres.is_some() {
        let tls = count(
            dbs.get("orders")?,
            "SELECT count(*) AS n FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl",
        )
        .await?;
        if tls == 1 {
            ", connections to PostgreSQL over TLS"
        } else {
            ", connections to PostgreSQL without TLS"
        }
    } else {
        ""
    };
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} cores, {} vendors x {} products, {} s per level after a {} s warm-up, pool {} per service{transport}, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.vendors,
        args.products,
        args.seconds,
        args.warmup,
        args.pool,
        chrono::Utc::now().format("%Y-%m-%d"),
    );
    ensure!(
        problems.is_empty() && paid == placed && webhooks == 0,
        "verification failed:\n{out}"
    );
    Ok(out)
}
