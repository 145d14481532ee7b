//! The tenants service owns shops: their lifecycle (open, suspend, reactivate), plans,
//! limits and feature flags, settings and branding, and custom domains with DNS ownership
//! verification. It publishes `shop.*` and `domain.*` events and answers the gateway's
//! "which shop is this host?" on an internal endpoint. It consumes no events.

pub mod dns;
pub mod domain;
mod events;
pub mod http;
pub mod problems;
pub mod repo;
pub mod retention;
pub mod verification;

use axum::Router;
use mercato_db::Db;
use mercato_jobs::Worker;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub use http::internal::Resolution;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantsConfig {
    /// Shops get `<slug>.<platform_domain>`; the platform host is `platform.<platform_domain>`.
    pub platform_domain: String,
    pub dns: DnsConfig,
    pub domain_checks: DomainCheckConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsConfig {
    /// Name servers for verification look-ups; empty means the system's resolvers.
    pub nameservers: Vec<SocketAddr>,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainCheckConfig {
    /// Checks before a domain is marked failed.
    pub max_attempts: i32,
    /// Delay before the first retry; it doubles up to `max_retry_secs`.
    pub first_retry_ms: u64,
    pub max_retry_secs: u64,
}

impl Default for TenantsConfig {
    fn default() -> Self {
        Self {
            platform_domain: "localhost".into(),
            dns: DnsConfig {
                nameservers: Vec::new(),
                timeout_ms: 3_000,
            },
            // 12 tries, retrying after 30 s doubling up to 1 h: about 5 hours of checks.
            domain_checks: DomainCheckConfig {
                max_attempts: 12,
                first_retry_ms: 30_000,
                max_retry_secs: 3_600,
            },
        }
    }
}

/// Cheap handles shared by the handlers.
#[derive(Clone)]
pub struct TenantsState {
    pub db: Db,
    pub config: Arc<TenantsConfig>,
    /// Poked after a commit that wrote to the outbox, so the relay publishes at once.
    pub outbox: Arc<tokio::sync::Notify>,
}

/// The current instant as the database keeps it (microseconds), so an answer shows what a
/// later read gives on PostgreSQL too.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

pub async fn migrate(db: &Db) -> Result<(), sea_orm::DbErr> {
    mercato_db::migrate(db, "tenants", repo::MIGRATIONS).await
}

pub fn router(state: TenantsState) -> Router {
    Router::new()
        .merge(http::admin::router())
        .merge(http::shop::router())
        .merge(http::domains::router())
        .merge(http::internal::router())
        .with_state(state)
}

/// The domain-verification worker.
pub fn verification_worker(state: &TenantsState) -> Result<Worker, dns::LookupError> {
    let config = &state.config;
    let lookup = dns::HickoryLookup::new(
        &config.dns.nameservers,
        Duration::from_millis(config.dns.timeout_ms),
    )?;
    let verifier = verification::DomainVerifier {
        db: state.db.clone(),
        lookup: Arc::new(lookup),
        outbox: state.outbox.clone(),
    };
    Ok(
        Worker::new(state.db.clone(), verification::JOB_KIND, Arc::new(verifier)).backoff(
            Duration::from_millis(config.domain_checks.first_retry_ms),
            Duration::from_secs(config.domain_checks.max_retry_secs),
        ),
    )
}

/// Runs the service's workers until `shutdown`.
pub async fn run_workers(
    state: TenantsState,
    shutdown: CancellationToken,
) -> Result<(), dns::LookupError> {
    let worker = verification_worker(&state)?;
    worker.run(shutdown).await;
    Ok(())
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    http::admin::create,
    http::admin::list,
    http::admin::show,
    http::admin::update,
    http::admin::suspend,
    http::admin::reactivate,
    http::shop::public,
    http::shop::settings,
    http::shop::update_settings,
    http::shop::plan,
    http::domains::add,
    http::domains::list,
    http::domains::show,
    http::domains::remove,
    http::domains::verify,
))]
pub struct ApiDoc;
