//! Times the catalog CSV import (`docs/PERFORMANCE.md`, "Catalog: CSV import"): generates a
//! file of N rows (default 10,000: 2,500 products of 4 variants each), and runs the import
//! code the job and `mercato import products` run, in this process, on embedded SQLite in a
//! temporary directory (and on PostgreSQL too when a URL is given). Three runs: the first
//! creates everything, the second is the same file again (nothing changes), the third changes
//! every price (every variant is updated).
//!
//! Usage: `catalog-import [rows] [postgres-url]`; prints a Markdown table.

use anyhow::Context;
use mercato_catalog::domain::{Category, VendorStatus};
use mercato_catalog::{events, repo};
use mercato_db::{Db, DbTarget};
use mercato_events::{Envelope, Mirrored};
use mercato_tenant_context::{CategoryId, TenantId, UserId, VendorId};
use mercato_vendors_api::vendor::VendorSnapshot;
use std::fmt::Write as _;
use std::time::Instant;

/// The platform runs in this process: it allocates as `mercato` does (ADR 0022).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const VARIANTS: usize = 4;

fn csv(rows: usize, price_shift: i64) -> String {
    let mut text = String::with_capacity(rows * 160);
    text.push_str("product_slug,title,description,status,category,tags,option1_name,option1_value,sku,price,currency,compare_at_price,weight_grams\n");
    let sizes = ["50 g", "100 g", "250 g", "1 kg"];
    for row in 0..rows {
        let product = row / VARIANTS;
        let variant = row % VARIANTS;
        let cents = 250 + (product as i64 % 400) * 25 + variant as i64 * 300 + price_shift;
        let first = variant == 0;
        let _ = writeln!(
            text,
            "tea-{product},{},{},active,{},{},size,{},TEA-{product}-{variant},{}.{:02},EUR,{},{}",
            if first {
                format!("Tea number {product}")
            } else {
                String::new()
            },
            if first {
                "Loose leaf tea packed by hand."
            } else {
                ""
            },
            if first { "tea" } else { "" },
            if first { "loose|organic" } else { "" },
            sizes[variant],
            cents / 100,
            cents % 100,
            if variant == 3 {
                format!("{}.00", cents / 100 + 5)
            } else {
                String::new()
            },
            [50, 100, 250, 1000][variant],
        );
    }
    text
}

async fn prepare(db: &Db, tenant: TenantId, vendor: VendorId) -> anyhow::Result<()> {
    mercato_catalog::migrate(db).await?;
    // The vendor, as the vendors service would announce it.
    let approved = VendorSnapshot {
        vendor_id: vendor,
        slug: "bench-tea".into(),
        store_name: "Bench Tea".into(),
        status: VendorStatus::Approved,
        owner_user_id: UserId::new(),
        holiday_until: None,
        reason: None,
        actor: "bench".into(),
        shipping: Default::default(),
        legal: None,
    };
    let event = Envelope::new("vendor.approved", 1, tenant, &approved)?;
    let tx = db.tenant_tx(tenant).await?;
    Mirrored::new(events::VENDORS, db.clone(), events::VendorsMirror)
        .apply(&tx, &[&event])
        .await?;
    let now = chrono::Utc::now();
    repo::categories::insert(
        &tx,
        &Category {
            id: CategoryId::new(),
            parent: None,
            name: "Tea".into(),
            slug: "tea".into(),
            position: 0,
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn measure(name: &str, db: &Db, rows: usize) -> anyhow::Result<String> {
    let tenant = TenantId::new();
    let vendor = VendorId::new();
    prepare(db, tenant, vendor).await?;
    let mut out = String::new();
    for (run, file) in [
        ("first import (creates)", csv(rows, 0)),
        ("same file again (unchanged)", csv(rows, 0)),
        ("every price changed (updates)", csv(rows, 10)),
    ] {
        let started = Instant::now();
        let import =
            mercato_catalog::import::run_local(db, tenant, vendor, 1_000_000, &file, &|_| {})
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            import.failed_rows == 0 && import.processed_rows == rows as i64,
            "the import did not apply every row: {} failed, first errors {:?}",
            import.failed_rows,
            import.errors.iter().take(3).collect::<Vec<_>>()
        );
        let _ = writeln!(
            out,
            "| {name} | {run} | {rows} | {} / {} / {} | {seconds:.2} s | {:.0} |",
            import.created_rows,
            import.updated_rows,
            import.unchanged_rows,
            rows as f64 / seconds,
        );
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let rows: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()
        .context("rows: a number")?
        .unwrap_or(10_000);
    let postgres = args.next();

    let dir = tempfile::tempdir()?;
    let sqlite = Db::connect(DbTarget::Sqlite(&dir.path().join("catalog.db")), 4).await?;
    let mut table = String::from(
        "| backend | run | rows | created / updated / unchanged | time | rows/s |\n|---|---|---|---|---|---|\n",
    );
    table.push_str(&measure("SQLite (embedded)", &sqlite, rows).await?);
    if let Some(url) = postgres {
        let schema = format!("bench_catalog_{}", uuid::Uuid::now_v7().simple());
        let db = Db::connect(
            DbTarget::Postgres {
                url: &url,
                schema: &schema,
            },
            4,
        )
        .await?;
        let result = measure("PostgreSQL", &db, rows).await;
        let _ = mercato_db::sea_orm::ConnectionTrait::execute_unprepared(
            db.raw_connection(),
            &format!("DROP SCHEMA {schema} CASCADE"),
        )
        .await;
        table.push_str(&result?);
    }
    eprintln!(
        "catalog import, {rows} rows ({} products x {VARIANTS} variants), {} cores",
        rows / VARIANTS,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    eprint!("{table}");
    Ok(())
}
