//! The only place that queries the `jobs` table.

use crate::{Job, JobId, JobStatus, NewJob};
use chrono::{DateTime, SubsecRound, Utc};
use mercato_tenant_context::TenantId;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};

const COLUMNS: &str = "tenant_id, id, kind, subject, payload, status, attempts, max_attempts, run_at, last_error, created_at, updated_at";

/// The current instant at the precision both backends store (PostgreSQL keeps microseconds).
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn statement(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Statement {
    Statement::from_sql_and_values(conn.get_database_backend(), sql, values)
}

/// Inserts `job` in the caller's transaction, so the job exists exactly when the change that
/// needs it commits. Use the tenant's `TenantTx` (or a `PlatformTx`).
pub async fn enqueue(conn: &impl ConnectionTrait, job: NewJob) -> Result<JobId, DbErr> {
    let ids = enqueue_all(conn, vec![job]).await?;
    Ok(ids[0])
}

/// Jobs per multi-row insert of [`enqueue_all`]: 7 bind values a row plus the shared
/// instant stays far below either backend's parameter limit.
const JOBS_PER_INSERT: usize = 500;

/// [`enqueue`] for several jobs at once: one multi-row insert per 500 jobs instead of one
/// statement each (a burst of invoices queues a render job per document). Their ids, in the
/// order of `jobs`.
pub async fn enqueue_all(
    conn: &impl ConnectionTrait,
    jobs: Vec<NewJob>,
) -> Result<Vec<JobId>, DbErr> {
    const WIDTH: usize = 7;
    let now = now();
    let mut ids = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter().peekable();
    while jobs.peek().is_some() {
        let chunk: Vec<NewJob> = jobs.by_ref().take(JOBS_PER_INSERT).collect();
        let mut values: Vec<Value> = Vec::with_capacity(1 + WIDTH * chunk.len());
        values.push(now.into());
        let mut rows = Vec::with_capacity(chunk.len());
        for (i, job) in chunk.into_iter().enumerate() {
            let id = JobId::new();
            let p = 2 + WIDTH * i;
            rows.push(format!(
                "(${}, ${}, ${}, ${}, ${}, 'queued', 0, ${}, ${}, NULL, $1, $1, NULL)",
                p,
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6
            ));
            tracing::debug!(tenant_id = %job.tenant, job_id = %id, kind = job.kind, run_at = %job.run_at, "job enqueued");
            values.push(job.tenant.as_uuid().into());
            values.push(id.as_uuid().into());
            values.push(job.kind.into());
            values.push(job.subject.into());
            values.push(job.payload.into());
            values.push(job.max_attempts.max(1).into());
            values.push(job.run_at.trunc_subsecs(6).into());
            ids.push(id);
        }
        conn.execute_raw(statement(
            conn,
            &format!(
                "INSERT INTO jobs ({COLUMNS}, locked_until) VALUES {}",
                rows.join(", ")
            ),
            values,
        ))
        .await?;
    }
    Ok(ids)
}

/// One of `tenant`'s jobs; `None` if there is no such job in this shop.
pub async fn find(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: JobId,
) -> Result<Option<Job>, DbErr> {
    conn.query_one_raw(statement(
        conn,
        &format!("SELECT {COLUMNS} FROM jobs WHERE tenant_id = $1 AND id = $2"),
        [tenant.as_uuid().into(), id.as_uuid().into()],
    ))
    .await?
    .map(|row| job_from_row(&row))
    .transpose()
}

/// The most recently enqueued job of `kind` about `subject` in `tenant`'s shop, e.g. the
/// expiry job of one order.
pub async fn latest_for(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    kind: &str,
    subject: &str,
) -> Result<Option<Job>, DbErr> {
    conn.query_one_raw(statement(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM jobs WHERE tenant_id = $1 AND kind = $2 AND subject = $3 \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ),
        [tenant.as_uuid().into(), kind.into(), subject.into()],
    ))
    .await?
    .map(|row| job_from_row(&row))
    .transpose()
}

/// Claims up to `limit` due jobs of `kind`, oldest due first: queued ones, and running ones
/// whose lease expired (their worker died). Marks them running with one more attempt and a
/// lease until `locked_until`.
///
/// One statement, so SQLite takes its write lock at once. The two cases are separate
/// branches of a `UNION ALL`, each an equality on `(kind, status)` and a range on `run_at`,
/// so each walks the `jobs_due` index in order and stops after `limit` rows (an `OR` of the
/// two statuses cannot use it as a range); the outer `ORDER BY … LIMIT` then keeps the
/// oldest `limit` of the two. On PostgreSQL each branch locks its rows `FOR UPDATE SKIP
/// LOCKED`, so concurrent workers claim disjoint jobs, and the candidates are a
/// `MATERIALIZED` CTE so they are computed exactly once (a re-scanned `IN` subquery could
/// lock and return further rows). A branch row that the outer limit drops stays locked
/// only until the claim commits, a moment later.
pub(crate) async fn claim(
    conn: &impl ConnectionTrait,
    kind: &str,
    now: DateTime<Utc>,
    locked_until: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<Job>, DbErr> {
    let (materialized, lock) = if conn.get_database_backend() == DbBackend::Postgres {
        ("MATERIALIZED", "FOR UPDATE SKIP LOCKED")
    } else {
        ("", "")
    };
    let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
    let rows = conn
        .query_all_raw(statement(
            conn,
            &format!(
                "WITH due AS {materialized} (\
                     SELECT tenant_id, id FROM (\
                         SELECT tenant_id, id, run_at FROM (\
                             SELECT tenant_id, id, run_at FROM jobs \
                             WHERE kind = $1 AND status = 'queued' AND run_at <= $2 \
                             ORDER BY run_at, id LIMIT $4 {lock}) AS queued \
                         UNION ALL \
                         SELECT tenant_id, id, run_at FROM (\
                             SELECT tenant_id, id, run_at FROM jobs \
                             WHERE kind = $1 AND status = 'running' AND run_at <= $2 AND locked_until <= $2 \
                             ORDER BY run_at, id LIMIT $4 {lock}) AS expired\
                     ) AS candidates \
                     ORDER BY run_at, id LIMIT $4) \
                 UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $3, updated_at = $2 \
                 WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM due) \
                 RETURNING {COLUMNS}"
            ),
            [kind.into(), now.into(), locked_until.into(), limit.into()],
        ))
        .await?;
    let mut jobs = rows
        .iter()
        .map(job_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    // RETURNING follows no order; run (and log) them oldest due first.
    jobs.sort_by_key(|job| (job.run_at, job.id.as_uuid()));
    Ok(jobs)
}

/// The state a finished run leaves the job in.
pub(crate) struct Finish {
    pub status: JobStatus,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// Records how each job's run ended and releases its lease, in one statement. A job must
/// still be running the same attempt: if its lease expired and another worker took it over,
/// that run's outcome is stale and nothing is written for it (false at its position).
pub(crate) async fn finish_all(
    conn: &impl ConnectionTrait,
    finished: &[(&Job, &Finish)],
    now: DateTime<Utc>,
) -> Result<Vec<bool>, DbErr> {
    if finished.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = Vec::with_capacity(1 + finished.len() * 6);
    values.push(now.into());
    for (job, finish) in finished {
        values.extend([
            job.tenant.as_uuid().into(),
            job.id.as_uuid().into(),
            job.attempts.into(),
            finish.status.as_str().into(),
            finish.run_at.into(),
            finish.last_error.clone().into(),
        ]);
    }
    let rows = conn
        .query_all_raw(statement(
            conn,
            &format!(
                "WITH d (tenant_id, id, attempts, status, run_at, last_error) AS (VALUES {}) \
                 UPDATE jobs SET status = d.status, run_at = d.run_at, last_error = d.last_error, \
                   locked_until = NULL, updated_at = $1 \
                 FROM d WHERE jobs.tenant_id = d.tenant_id AND jobs.id = d.id \
                   AND jobs.status = 'running' AND jobs.attempts = d.attempts \
                 RETURNING jobs.tenant_id AS tenant_id, jobs.id AS id",
                mercato_db::sql::value_rows(2, finished.len(), 6)
            ),
            values,
        ))
        .await?;
    let mut written = std::collections::HashSet::with_capacity(rows.len());
    for row in &rows {
        let tenant: uuid::Uuid = row.try_get("", "tenant_id")?;
        let id: uuid::Uuid = row.try_get("", "id")?;
        written.insert((tenant, id));
    }
    Ok(finished
        .iter()
        .map(|(job, _)| written.contains(&(job.tenant.as_uuid(), job.id.as_uuid())))
        .collect())
}

fn job_from_row(row: &QueryResult) -> Result<Job, DbErr> {
    let status: String = row.try_get("", "status")?;
    Ok(Job {
        id: JobId::from_uuid(row.try_get("", "id")?),
        tenant: TenantId::from_uuid(row.try_get("", "tenant_id")?),
        kind: row.try_get("", "kind")?,
        subject: row.try_get("", "subject")?,
        payload: row.try_get("", "payload")?,
        status: JobStatus::parse(&status)
            .ok_or_else(|| DbErr::Type(format!("unknown job status {status:?}")))?,
        attempts: row.try_get("", "attempts")?,
        max_attempts: row.try_get("", "max_attempts")?,
        run_at: row.try_get("", "run_at")?,
        last_error: row.try_get("", "last_error")?,
        created_at: row.try_get("", "created_at")?,
        updated_at: row.try_get("", "updated_at")?,
    })
}
