//! The identity service owns accounts: each shop's customers and merchant staff, and the
//! platform's administrators, kept apart by realm (the same email in two shops is two
//! accounts). It checks passwords (argon2id, a bounded number at once, behind a back-off
//! per email and per client address); issues access tokens (JWT with a key id) and rotating
//! refresh tokens with reuse detection; resets passwords (each request a job, so the request
//! does the same work whether or not the account exists) and invites staff with one-time
//! tokens sent by mail (a mail outbox delivered by the `mail.send` job); enforces
//! staff seats and roles; issues the integration API keys the gateway verifies on
//! `/internal/v1/api-keys/verify`; and starts a new session epoch when an account's rights
//! shrink or its password changes, which the gateway checks on `/internal/v1/sessions/{id}`
//! (ADR 0029).
//!
//! It publishes `user.*`, `staff.*` and `api_key.*` events (see `events`) and consumes
//! `shop.created` to invite a new shop's owner and `vendor.applied` to record the owners of
//! vendors (vendor memberships travel in access tokens).

pub mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod hashing;
pub mod http;
pub mod invitations;
pub mod mail;
pub mod problems;
pub mod repo;
pub mod retention;

pub use config::{IdentityConfig, LoginBackoffConfig, PasswordHashingConfig};

use axum::Router;
use domain::{AccountRole, Email, Realm};
use futures::future::BoxFuture;
use mercato_auth::TokenKeys;
use mercato_db::Db;
use mercato_events::Handler;
use mercato_jobs::Worker;
use mercato_tenant_context::UserId;
use repo::users::{self, User};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct IdentityState {
    pub db: Db,
    pub keys: TokenKeys,
    pub config: Arc<IdentityConfig>,
    pub outbox: Arc<tokio::sync::Notify>,
    /// A hash to verify against when an email is unknown, so sign-in takes as long.
    pub dummy_hash: String,
    /// Delivers queued mail (by job, and at once after a commit).
    pub mail: mail::MailSender,
    /// The bound on argon2 runs at once; every hash and check goes through it.
    pub hashing: hashing::PasswordHashing,
    /// Wakes the reset-request worker when a request commits.
    pub reset_requests: Arc<tokio::sync::Notify>,
}

impl IdentityState {
    pub fn new(
        db: Db,
        keys: TokenKeys,
        config: IdentityConfig,
        outbox: Arc<tokio::sync::Notify>,
        mailer: Arc<dyn mail::Mailer>,
    ) -> Result<Self, mercato_auth::PasswordError> {
        let dummy_hash = mercato_auth::hash_password("not a password anyone has")?;
        let mail = mail::MailSender::new(db.clone(), mailer, &config.mail_from);
        let hashing = hashing::PasswordHashing::new(&config.password_hashing);
        Ok(Self {
            db,
            keys,
            config: Arc::new(config),
            outbox,
            dummy_hash,
            mail,
            hashing,
            reset_requests: Arc::new(tokio::sync::Notify::new()),
        })
    }
}

/// The worker that delivers queued mail (`mail.send` jobs).
pub fn mail_delivery_worker(state: &IdentityState) -> Worker {
    Worker::new(
        state.db.clone(),
        mail::JOB_KIND,
        Arc::new(state.mail.clone()),
    )
}

/// The worker that answers password-reset requests (`identity.password_reset` jobs), woken
/// as soon as a request commits.
pub fn reset_request_worker(state: &IdentityState) -> Worker {
    Worker::new(
        state.db.clone(),
        app::password_reset::JOB_KIND,
        Arc::new(app::password_reset::ResetRequests(state.clone())),
    )
    .wake_on(state.reset_requests.clone())
}

/// Its background workers (jobs and the retention sweep), run until `shutdown`.
pub fn workers(state: &IdentityState, shutdown: CancellationToken) -> Vec<BoxFuture<'static, ()>> {
    vec![
        Box::pin(mail_delivery_worker(state).run(shutdown.clone())),
        Box::pin(reset_request_worker(state).run(shutdown.clone())),
        Box::pin(retention::worker(
            state.db.clone(),
            state.mail.clone(),
            shutdown,
        )),
    ]
}

/// The handler of `shop.created` for the durable consumer [`events::OWNER_INVITES`].
pub fn owner_invites(state: &IdentityState) -> Arc<dyn Handler> {
    Arc::new(events::OwnerInvites(state.clone()))
}

pub fn vendor_members(state: &IdentityState) -> Arc<dyn Handler> {
    Arc::new(events::VendorMembers(state.clone()))
}

/// The events identity consumes: new shops' owners and new vendors' owners.
pub fn subscriptions(state: &IdentityState) -> Vec<mercato_events::Subscription> {
    vec![
        mercato_events::Subscription {
            consumer: events::OWNER_INVITES,
            patterns: events::OWNER_INVITES_PATTERNS,
            handler: owner_invites(state),
        },
        mercato_events::Subscription {
            consumer: events::VENDOR_MEMBERS,
            patterns: events::VENDOR_MEMBERS_PATTERNS,
            handler: vendor_members(state),
        },
    ]
}

pub async fn migrate(db: &Db) -> Result<(), sea_orm::DbErr> {
    mercato_db::migrate(db, "identity", repo::MIGRATIONS).await
}

pub fn router(state: IdentityState) -> Router {
    Router::new()
        .merge(http::auth::router())
        .merge(http::password_reset::router())
        .merge(http::invitations::router())
        .merge(http::staff::router())
        .merge(http::api_keys::router())
        .merge(http::vendor_staff::router())
        .merge(http::internal::router())
        .with_state(state)
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("invalid email {0:?}")]
    Email(String),
    #[error(transparent)]
    Password(#[from] mercato_auth::PasswordError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// Creates an account unless one with that email exists (demo seeding, first admin).
/// Returns whether it created one.
pub async fn ensure_account(
    db: &Db,
    realm: Realm,
    email: &str,
    password: &str,
    role: AccountRole,
) -> Result<bool, SeedError> {
    let email = Email::parse(email).map_err(|_| SeedError::Email(email.to_owned()))?;
    let tx = db.tenant_tx(realm.storage_tenant()).await?;
    if users::find_by_email(&tx, &email).await?.is_some() {
        return Ok(false);
    }
    let user = User {
        id: UserId::new(),
        email: email.as_str().to_owned(),
        name: None,
        password_hash: mercato_auth::hash_password(password)?,
        role,
        active: true,
        created_at: chrono::Utc::now(),
    };
    users::insert(&tx, &user).await?;
    tx.commit().await?;
    Ok(true)
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        http::auth::register,
        http::auth::login,
        http::auth::refresh,
        http::auth::logout,
        http::auth::me,
        http::auth::change_password,
        http::password_reset::request,
        http::password_reset::confirm,
        http::invitations::create,
        http::invitations::list,
        http::invitations::revoke,
        http::invitations::accept,
        http::staff::list,
        http::staff::update,
        http::staff::remove,
        http::api_keys::create,
        http::api_keys::list,
        http::api_keys::revoke,
        http::vendor_staff::invite,
        http::vendor_staff::list,
        http::vendor_staff::remove,
        http::vendor_staff::accept,
    ),
    tags(
        (name = "staff", description = "A shop's merchant staff and their invitations, on the shop's domain"),
        (name = "api_keys", description = "Integration API keys of a shop, on the shop's domain"),
        (name = "vendor_staff", description = "The people who work for a vendor and their invitations, on the shop's domain")
    )
)]
pub struct ApiDoc;
