//! Ledger postings per second and the trial balance's time (`docs/PERFORMANCE.md`,
//! "Accounting: the ledger"): the accounting service's consumer (`accounting-orders`) fed
//! `order.paid` events as the bus hands them over (bursts of `--batch`, one transaction per
//! burst), for `--orders` paid orders of one shop, each of 1 to 3 vendor orders (of 20
//! vendors) with tax, commission and now and then a shop-funded discount; then the trial
//! balance (`GET /api/v1/ledger/trial-balance`'s query) read 21 times at that size. On
//! embedded SQLite, and on PostgreSQL with `--postgres URL` (a fresh schema, dropped
//! afterwards). At the end the trial balance must balance and its clearing account must hold
//! every order's total.
//!
//! Usage: `ledger-bench [--orders 100000] [--batch 50] [--postgres URL]`; prints Markdown on
//! stdout, progress on stderr.

use anyhow::{Context, ensure};
use mercato_accounting::AccountingState;
use mercato_accounting::domain::accounts::Account;
use mercato_accounting::events::OrderPostings;
use mercato_db::{Db, DbTarget};
use mercato_events::{Envelope, Handler};
use mercato_kernel::{Currency, Money};
use mercato_orders_api::events::{ORDER_PAID, OrderChanged, VendorOrderMoney};
use mercato_orders_api::lifecycle::OrderStatus;
use mercato_orders_api::{OrderId, VendorOrderId};
use mercato_tenant_context::{TenantId, VendorId};
use std::io::Write as _;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One paid order's event, and its total.
fn paid_order(
    rng: &mut Rng,
    shop: TenantId,
    vendors: &[VendorId],
    eur: Currency,
) -> anyhow::Result<(Envelope, i64)> {
    let count = 1 + rng.below(3) as usize;
    let vendor_orders: Vec<VendorOrderMoney> = (0..count)
        .map(|_| {
            let net = 500 + rng.below(50_000) as i64;
            let shipping = if rng.below(2) == 0 { 490 } else { 0 };
            let by_shop = if rng.below(5) == 0 { net / 10 } else { 0 };
            let tax = (net - by_shop + shipping) * 19 / 100;
            let total = net - by_shop + shipping + tax;
            let commission = net / 10;
            VendorOrderMoney {
                vendor_order_id: VendorOrderId::new(),
                vendor_id: vendors[rng.below(vendors.len() as u64) as usize],
                subtotal: net,
                discount_by_shop: by_shop,
                discount_by_vendor: 0,
                shipping,
                tax,
                total,
                commission,
                earnings: total - tax + by_shop - commission,
                refunded: 0,
            }
        })
        .collect();
    let total: i64 = vendor_orders.iter().map(|v| v.total).sum();
    let payload = OrderChanged {
        order_id: OrderId::new(),
        status: OrderStatus::Paid,
        previous_status: OrderStatus::PendingPayment,
        reservation_id: None,
        customer_id: None,
        total: Money::new(total, eur),
        refunded: Money::zero(eur),
        lines: Vec::new(),
        restock: false,
        vendor_order_ids: vendor_orders.iter().map(|v| v.vendor_order_id).collect(),
        vendor_orders,
        actor: "provider:test".into(),
        reason: None,
        invoice: None,
    };
    Ok((Envelope::new(ORDER_PAID, 1, shop, &payload)?, total))
}

struct Measured {
    entries: u64,
    posting: Duration,
    trial_balance: Vec<Duration>,
}

async fn measure(db: &Db, orders: u64, batch: usize) -> anyhow::Result<Measured> {
    mercato_accounting::migrate(db).await?;
    let files = tempfile::tempdir()?;
    let storage = mercato_storage::Storage::local(
        files.path(),
        &mercato_kernel::Secret::new("ledger-bench-media-secret-0123456789".to_owned()),
    )?;
    let handler = OrderPostings(AccountingState {
        db: db.clone(),
        storage,
    });
    let shop = TenantId::new();
    let eur = Currency::parse("EUR")?;
    let vendors: Vec<VendorId> = (0..20).map(|_| VendorId::new()).collect();
    let mut rng = Rng(0x5eed);
    let (mut entries, mut paid_in, mut done) = (0u64, 0i64, 0u64);
    let mut posting = Duration::ZERO;
    let postgres = db.backend() == mercato_db::sea_orm::DbBackend::Postgres;
    while done < orders {
        let n = batch.min((orders - done) as usize);
        let mut events: Vec<Envelope> = Vec::with_capacity(n);
        for _ in 0..n {
            let (event, total) = paid_order(&mut rng, shop, &vendors, eur)?;
            paid_in += total;
            entries += event.payload["vendor_orders"]
                .as_array()
                .map_or(0, |v| v.len()) as u64;
            events.push(event);
        }
        let started = Instant::now();
        handler
            .handle_batch(&events)
            .await
            .map_err(|e| anyhow::anyhow!("posting: {e}"))?;
        posting += started.elapsed();
        done += n as u64;
        // The test server runs with autovacuum off: analyze as autovacuum would (it analyzes
        // a table once 10 % of it changed), so the planner, and the plans cached in pooled
        // connections, see the tables' real sizes. Not counted in the posting time.
        if postgres && done % 5_000 == 0 {
            mercato_db::sea_orm::ConnectionTrait::execute_unprepared(
                db.raw_connection(),
                "VACUUM ANALYZE journal_entries, journal_lines, account_balances, \
                 booked_vendor_orders, processed_events",
            )
            .await?;
        }
        if done % 10_000 == 0 {
            eprintln!("  {done} orders posted");
        }
    }
    if postgres {
        mercato_db::sea_orm::ConnectionTrait::execute_unprepared(
            db.raw_connection(),
            "VACUUM ANALYZE journal_entries, journal_lines, account_balances, \
             booked_vendor_orders, processed_events",
        )
        .await?;
    }
    let mut trial_balance = Vec::new();
    let mut totals = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        let tx = db.tenant_read(shop).await?;
        totals = mercato_accounting::repo::account_totals(&*tx, shop.as_uuid(), eur).await?;
        drop(tx);
        trial_balance.push(started.elapsed());
    }
    trial_balance.sort();
    let net = |d: i64, c: i64| d - c;
    let balance: i64 = totals.iter().map(|(_, d, c)| net(*d, *c)).sum();
    ensure!(
        balance == 0,
        "the trial balance does not balance: {balance}"
    );
    let clearing = totals
        .iter()
        .find(|(a, _, _)| *a == Account::PspClearing)
        .map(|(_, d, c)| net(*d, *c));
    ensure!(
        clearing == Some(paid_in),
        "clearing holds {clearing:?}, the orders paid {paid_in}"
    );
    Ok(Measured {
        entries,
        posting,
        trial_balance,
    })
}

fn row(backend: &str, orders: u64, batch: usize, m: &Measured) -> String {
    let secs = m.posting.as_secs_f64();
    format!(
        "| {backend} | {orders} | {} | {batch} | {:.1} s | {:.0} | {:.0} | {:.1} ms | {:.1} ms |\n",
        m.entries,
        secs,
        orders as f64 / secs,
        m.entries as f64 / secs,
        m.trial_balance[10].as_secs_f64() * 1000.0,
        m.trial_balance[20].as_secs_f64() * 1000.0,
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut orders = 100_000u64;
    let mut batch = 50usize;
    let mut postgres = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--orders" => orders = args.next().context("--orders N")?.parse()?,
            "--batch" => batch = args.next().context("--batch N")?.parse()?,
            "--postgres" => postgres = Some(args.next().context("--postgres URL")?),
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let mut table = String::from(
        "| backend | paid orders | entries | burst | posting time | orders/s | entries/s | trial balance (median) | trial balance (max of 21) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let dir = tempfile::tempdir()?;
    eprintln!("SQLite (embedded): posting {orders} paid orders");
    let sqlite = Db::connect(DbTarget::Sqlite(&dir.path().join("accounting.db")), 4).await?;
    let measured = measure(&sqlite, orders, batch).await?;
    table.push_str(&row("SQLite (embedded)", orders, batch, &measured));
    if let Some(url) = postgres {
        eprintln!("PostgreSQL: posting {orders} paid orders");
        let schema = format!("bench_accounting_{}", uuid::Uuid::now_v7().simple());
        let db = Db::connect(
            DbTarget::Postgres {
                url: &url,
                schema: &schema,
            },
            4,
        )
        .await?;
        let result = measure(&db, orders, batch).await;
        let _ = mercato_db::sea_orm::ConnectionTrait::execute_unprepared(
            db.raw_connection(),
            &format!("DROP SCHEMA {schema} CASCADE"),
        )
        .await;
        table.push_str(&row("PostgreSQL", orders, batch, &result?));
    }
    eprintln!(
        "ledger postings, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    std::io::stdout().write_all(table.as_bytes())?;
    Ok(())
}
