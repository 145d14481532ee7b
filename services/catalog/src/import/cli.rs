//! `mercato import products FILE --shop … --vendor …`: the import the API runs as a job, run
//! in this process against the catalog database, with a progress bar on stderr. The
//! products' `product.changed` events wait in the outbox until a running relay sends them.

use super::{LocalImportError, run_local};
use crate::repo::imports::{Import, ImportStatus};
use indicatif::{ProgressBar, ProgressStyle};
use mercato_db::Db;
use mercato_tenant_context::{TenantId, VendorId};
use std::path::Path;
use std::time::Instant;

/// Imports the CSV file at `path` for `vendor` of `tenant`, drawing progress, and prints a
/// summary with the rows that failed. Returns the finished import.
pub async fn import_file(
    db: &Db,
    tenant: TenantId,
    vendor: VendorId,
    product_limit: u32,
    path: &Path,
) -> anyhow::Result<Import> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {} as UTF-8 text: {e}", path.display()))?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)",
        )
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("importing {}", path.display()));
    let started = Instant::now();
    let progress = {
        let bar = bar.clone();
        move |import: &Import| {
            bar.set_length(u64::try_from(import.total_rows).unwrap_or(0));
            bar.set_position(u64::try_from(import.processed_rows).unwrap_or(0));
        }
    };
    let result = run_local(db, tenant, vendor, product_limit, &source, &progress).await;
    bar.finish_and_clear();
    let import = match result {
        Ok(import) => import,
        Err(LocalImportError::Db(e)) => return Err(e.into()),
        Err(other) => anyhow::bail!("{other}"),
    };
    eprintln!(
        "import {} {} in {:.1}s: {} rows, {} created, {} updated, {} unchanged, {} failed",
        import.id,
        import.status.code(),
        started.elapsed().as_secs_f64(),
        import.processed_rows,
        import.created_rows,
        import.updated_rows,
        import.unchanged_rows,
        import.failed_rows,
    );
    for error in import.errors.iter().take(50) {
        eprintln!("  row {}, {}: {}", error.row, error.column, error.message);
    }
    if import.error_count > 50 {
        eprintln!("  … and {} more", import.error_count - 50);
    }
    if let Some(failure) = &import.failure {
        eprintln!("  stopped: {failure}");
    }
    if import.status == ImportStatus::Failed {
        anyhow::bail!("the import failed");
    }
    Ok(import)
}
