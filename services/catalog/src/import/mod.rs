//! CSV import of products and variants. A POST stores the file and enqueues a
//! `catalog.import` job in one transaction; the worker parses the file, groups rows into
//! products and applies them a chunk at a time, each chunk in its own transaction together
//! with the import's progress and row errors, so a crashed run resumes after the last chunk
//! it committed. Rows are upserted by SKU (products by slug): a re-run of the same file
//! changes nothing and says so. `mercato import products` runs the same code in-process.

mod apply;
pub mod cli;

use crate::CatalogState;
use crate::domain::ImportId;
use crate::domain::csv_file::{self, Group, Header, Row, RowError};
use crate::repo::imports::{Import, ImportStatus};
use crate::repo::{self};
use mercato_db::{Db, TenantTx};
use mercato_jobs::{Job, JobHandler, JobOutcome, NewJob, Worker};
use mercato_tenant_context::{TenantId, VendorId};
use sea_orm::DbErr;
use std::collections::HashMap;
use std::sync::Arc;

pub const JOB_KIND: &str = "catalog.import";
/// Rows applied per transaction: large enough to amortise a commit, small enough that
/// progress moves and a retry repeats little.
pub const CHUNK_ROWS: usize = 500;
/// The most rows one file may have.
pub const MAX_ROWS: usize = 100_000;

/// Why an import could not even start: the file's shape (its header), or its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblems(pub Vec<(String, String)>);

/// Checks the file before it is accepted: UTF-8 text with a valid header and 1 to
/// [`MAX_ROWS`] data rows. Returns the number of data rows.
pub fn check_file(text: &str, merchant_wide: bool) -> Result<u64, FileProblems> {
    let (names, records) = csv_file::records(text);
    if names.iter().all(|n| n.trim().is_empty()) {
        return Err(FileProblems(vec![(
            "/".to_owned(),
            "the file is empty; the first row must name the columns".to_owned(),
        )]));
    }
    let header = Header::read(&names).map_err(FileProblems)?;
    if merchant_wide && !header.has("vendor_id") {
        return Err(FileProblems(vec![(
            "/columns/vendor_id".to_owned(),
            "required when importing for all vendors (or pass ?vendor_id=)".to_owned(),
        )]));
    }
    if records.is_empty() {
        return Err(FileProblems(vec![(
            "/".to_owned(),
            "the file has a header but no rows".to_owned(),
        )]));
    }
    if records.len() > MAX_ROWS {
        return Err(FileProblems(vec![(
            "/".to_owned(),
            format!("at most {MAX_ROWS} rows per file"),
        )]));
    }
    Ok(records.len() as u64)
}

/// What starts an import.
pub struct NewImport<'a> {
    pub vendor: Option<VendorId>,
    pub as_merchant: bool,
    pub product_limit: u32,
    pub created_by: &'a str,
    pub total_rows: u64,
}

/// Records the import (queued) in `tx`; with `enqueue`, also the job that will run it.
pub async fn create(
    tx: &TenantTx,
    new: NewImport<'_>,
    source: &str,
    enqueue: bool,
) -> Result<Import, DbErr> {
    let now = crate::domain::now();
    let import = Import {
        id: ImportId::new(),
        vendor: new.vendor,
        status: ImportStatus::Queued,
        as_merchant: new.as_merchant,
        product_limit: i64::from(new.product_limit),
        total_rows: i64::try_from(new.total_rows).unwrap_or(i64::MAX),
        processed_rows: 0,
        groups_done: 0,
        created_rows: 0,
        updated_rows: 0,
        unchanged_rows: 0,
        failed_rows: 0,
        error_count: 0,
        errors: Vec::new(),
        failure: None,
        created_by: new.created_by.to_owned(),
        created_at: now,
        updated_at: now,
        finished_at: None,
    };
    repo::imports::insert(tx, &import, source).await?;
    if enqueue {
        mercato_jobs::enqueue(
            &**tx,
            NewJob {
                tenant: tx.tenant(),
                kind: JOB_KIND,
                subject: Some(import.id.to_string()),
                payload: serde_json::json!({ "import_id": import.id }),
                run_at: now,
                max_attempts: 10,
            },
        )
        .await?;
    }
    Ok(import)
}

/// The worker that runs queued imports.
pub fn worker(state: &CatalogState) -> Worker {
    Worker::new(
        state.db.clone(),
        JOB_KIND,
        Arc::new(ImportJob {
            db: state.db.clone(),
            outbox: state.outbox.clone(),
        }),
    )
    .poll_interval(std::time::Duration::from_millis(200))
    .backoff(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(60),
    )
    .lease(std::time::Duration::from_secs(600))
}

struct ImportJob {
    db: Db,
    outbox: Arc<tokio::sync::Notify>,
}

#[async_trait::async_trait]
impl JobHandler for ImportJob {
    async fn run(&self, job: &Job) -> JobOutcome {
        let Some(id) = job
            .payload
            .get("import_id")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<ImportId>().ok())
        else {
            return JobOutcome::Fail("job payload has no import_id".into());
        };
        let notify = self.outbox.clone();
        match run(&self.db, job.tenant, id, &move |_| notify.notify_one()).await {
            Ok(_) => JobOutcome::Done,
            Err(e) => JobOutcome::Retry(format!("database error: {e}")),
        }
    }
}

/// Runs import `id` of `tenant` to the end (or resumes it), calling `progress` after each
/// committed chunk. Finished imports are returned as they are.
pub async fn run(
    db: &Db,
    tenant: TenantId,
    id: ImportId,
    progress: &(dyn Fn(&Import) + Send + Sync),
) -> Result<Option<Import>, DbErr> {
    let tx = db.tenant_tx(tenant).await?;
    let Some(mut import) = repo::imports::find(&tx, id).await? else {
        return Ok(None);
    };
    if matches!(
        import.status,
        ImportStatus::Completed | ImportStatus::Failed
    ) {
        return Ok(Some(import));
    }
    let source = repo::imports::source(&tx, id).await?.unwrap_or_default();
    import.status = ImportStatus::Running;
    import.updated_at = crate::domain::now();
    repo::imports::save(&tx, &import).await?;
    tx.commit().await?;
    progress(&import);

    let plan = match Plan::read(&source) {
        Ok(plan) => plan,
        Err(FileProblems(problems)) => {
            let message = problems
                .iter()
                .map(|(field, message)| format!("{field}: {message}"))
                .collect::<Vec<_>>()
                .join("; ");
            return finish(db, tenant, import, Some(message)).await.map(Some);
        }
    };
    let mut context = apply::Context::load(db, tenant, &import, &plan.header).await?;
    if let Some(reason) = context.blocked.take() {
        return finish(db, tenant, import, Some(reason)).await.map(Some);
    }
    let chunks = plan.chunks();
    let mut at = 0_usize;
    for chunk in chunks {
        let end = at + chunk.len();
        if (end as i64) <= import.groups_done {
            at = end;
            continue;
        }
        let tx = db.tenant_tx(tenant).await?;
        // Another worker that took over this job may have got further: never apply twice.
        let Some(current) = repo::imports::find(&tx, id).await? else {
            return Ok(None);
        };
        if current.groups_done != at as i64 {
            return Ok(Some(current));
        }
        import = current;
        let mut outcome = apply::chunk(&tx, &mut context, chunk).await?;
        if at == 0 {
            outcome.failed += plan.unreadable.len() as i64;
            outcome.rows += plan.unreadable.len() as i64;
            outcome.errors.extend(plan.unreadable.iter().cloned());
        }
        outcome.errors.sort_by_key(|e| e.row);
        crate::events::publish_changed(&tx, &outcome.changed).await?;
        import.groups_done = end as i64;
        import.processed_rows += outcome.rows;
        import.created_rows += outcome.created;
        import.updated_rows += outcome.updated;
        import.unchanged_rows += outcome.unchanged;
        import.failed_rows += outcome.failed;
        import.add_errors(outcome.errors);
        import.updated_at = crate::domain::now();
        repo::imports::save(&tx, &import).await?;
        tx.commit().await?;
        progress(&import);
        at = end;
    }
    finish(db, tenant, import, None).await.map(Some)
}

async fn finish(
    db: &Db,
    tenant: TenantId,
    mut import: Import,
    failure: Option<String>,
) -> Result<Import, DbErr> {
    let tx = db.tenant_tx(tenant).await?;
    let now = crate::domain::now();
    import.status = if failure.is_some() {
        ImportStatus::Failed
    } else {
        ImportStatus::Completed
    };
    import.failure = failure;
    import.updated_at = now;
    import.finished_at = Some(now);
    repo::imports::save(&tx, &import).await?;
    tx.commit().await?;
    Ok(import)
}

/// A file read into product groups, in the order their first rows appear.
struct Plan {
    header: Header,
    groups: Vec<Group>,
    /// Rows the CSV reader could not split.
    unreadable: Vec<RowError>,
}

impl Plan {
    fn read(source: &str) -> Result<Self, FileProblems> {
        let (names, records) = csv_file::records(source);
        let header = Header::read(&names).map_err(FileProblems)?;
        let mut rows: Vec<Row> = Vec::with_capacity(records.len());
        let mut unreadable = Vec::new();
        for (i, record) in records.into_iter().enumerate() {
            match record {
                Ok(cells) => rows.push(csv_file::parse_row(&header, &cells, i as u64 + 2)),
                Err(error) => unreadable.push(error),
            }
        }
        mark_repeated_skus(&mut rows);
        Ok(Self {
            header,
            groups: csv_file::group(rows),
            unreadable,
        })
    }

    /// Groups in chunks of about [`CHUNK_ROWS`] rows (a product is never split).
    fn chunks(&self) -> Vec<&[Group]> {
        let mut chunks = Vec::new();
        let mut start = 0;
        let mut rows = 0;
        for (i, group) in self.groups.iter().enumerate() {
            rows += group.rows.len();
            if rows >= CHUNK_ROWS {
                chunks.push(&self.groups[start..=i]);
                start = i + 1;
                rows = 0;
            }
        }
        if start < self.groups.len() {
            chunks.push(&self.groups[start..]);
        }
        chunks
    }
}

/// A SKU may appear on one row only: later rows with it are errors.
fn mark_repeated_skus(rows: &mut [Row]) {
    let mut first: HashMap<String, u64> = HashMap::new();
    for row in rows.iter_mut() {
        let Some(variant) = &row.variant else {
            continue;
        };
        match first.get(&variant.sku) {
            Some(&at) => {
                row.errors.push(RowError::new(
                    row.number,
                    "sku",
                    format!("the same SKU is on row {at}; each variant once"),
                ));
                row.variant = None;
            }
            None => {
                first.insert(variant.sku.clone(), row.number);
            }
        }
    }
}

/// Imports `source` for `vendor` of `tenant` in this process (the CLI): records the import
/// like the API does, then runs it, calling `progress` after each chunk.
pub async fn run_local(
    db: &Db,
    tenant: TenantId,
    vendor: VendorId,
    product_limit: u32,
    source: &str,
    progress: &(dyn Fn(&Import) + Send + Sync),
) -> Result<Import, LocalImportError> {
    let total_rows = check_file(source, false).map_err(LocalImportError::File)?;
    let tx = db.tenant_tx(tenant).await?;
    match repo::vendors::find(&tx, vendor).await? {
        None => return Err(LocalImportError::UnknownVendor),
        Some(v) if !v.may_list() => return Err(LocalImportError::VendorNotSelling),
        Some(_) => {}
    }
    let import = create(
        &tx,
        NewImport {
            vendor: Some(vendor),
            as_merchant: true,
            product_limit,
            created_by: "cli",
            total_rows,
        },
        source,
        false,
    )
    .await?;
    tx.commit().await?;
    progress(&import);
    run(db, tenant, import.id, progress)
        .await?
        .ok_or(LocalImportError::Vanished)
}

#[derive(Debug, thiserror::Error)]
pub enum LocalImportError {
    #[error("the file cannot be imported: {}", .0.0.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; "))]
    File(FileProblems),
    #[error(
        "no such vendor in this shop (or its vendor.* events have not reached the catalog yet)"
    )]
    UnknownVendor,
    #[error("the vendor is rejected or suspended and may not list products")]
    VendorNotSelling,
    #[error("the import record vanished while running")]
    Vanished,
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(rows: &[&str]) -> String {
        let mut text = "product_slug,title,sku,price,currency\n".to_owned();
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        text
    }

    #[test]
    fn files_are_checked_before_they_are_accepted() {
        assert_eq!(check_file(&csv(&["tea,Tea,T-1,1.00,EUR"]), false), Ok(1));
        assert!(check_file("", false).is_err());
        assert!(check_file(&csv(&[]), false).is_err());
        let wrong = check_file("slug,name,sku\nx,y,z\n", false).unwrap_err();
        assert!(wrong.0.iter().any(|(f, _)| f == "/columns/slug"));
        let wide = check_file(&csv(&["tea,Tea,T-1,1.00,EUR"]), true).unwrap_err();
        assert_eq!(wide.0[0].0, "/columns/vendor_id");
    }

    #[test]
    fn products_stay_whole_within_chunks_and_skus_once() {
        let mut rows = Vec::new();
        for p in 0..300 {
            for v in 0..3 {
                rows.push(format!("p-{p},P {p},S-{p}-{v},1.00,EUR"));
            }
        }
        rows.push("p-0,P 0,S-0-0,1.00,EUR".to_owned());
        let text = csv(&rows.iter().map(String::as_str).collect::<Vec<_>>());
        let plan = Plan::read(&text).unwrap();
        assert_eq!(plan.groups.len(), 300);
        let chunks = plan.chunks();
        assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), 300);
        assert!(
            chunks
                .iter()
                .all(|c| c.iter().map(|g| g.rows.len()).sum::<usize>() <= CHUNK_ROWS + 3)
        );
        let repeated = &plan.groups[0].rows[3];
        assert!(repeated.variant.is_none());
        assert_eq!(repeated.errors[0].column, "sku");
        assert!(repeated.errors[0].message.contains("row 2"));
    }
}
