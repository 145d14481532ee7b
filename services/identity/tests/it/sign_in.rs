//! Sign-in back-off and the bound on password hashing, through the service's router: after
//! five attempts an email waits (429 with `Retry-After`), the same whether or not an account
//! has it; a sign-in clears the count; a saturated process answers 503 `busy` and does not
//! count what it did not check.

use crate::on_every_backend;
use crate::support::{PASSWORD, Reply, Service};
use axum::http::StatusCode;
use mercato_db::Db;
use mercato_identity::app::sign_in::{SignIn, SignInError, SignedIn, sign_in};
use mercato_identity::domain::{AccountRole, Realm};
use mercato_identity::repo::retention;
use mercato_identity::{IdentityConfig, PasswordHashingConfig};
use mercato_tenant_context::TenantId;
use std::net::IpAddr;
use std::num::NonZeroU32;

const WRONG: &str = "not the password at all";

fn shop() -> Realm {
    Realm::Shop(TenantId::new())
}

/// Five attempts go through (401 for a wrong password); returns the sixth answer.
async fn sixth_attempt(service: &Service, realm: Realm, email: &str, last: &str) -> Reply {
    for i in 1..=5 {
        let reply = service.login(realm, email, WRONG).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "attempt {i}: {reply:?}"
        );
    }
    service.login(realm, email, last).await
}

fn assert_throttled(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{reply:?}");
    assert_eq!(reply.str("code"), "too_many_attempts");
    let wait = reply.retry_after().expect("a Retry-After");
    assert!(
        (1..=60).contains(&wait),
        "the first lock is a minute: {wait}"
    );
}

async fn an_email_waits_after_five_failures_whether_or_not_it_has_an_account(db: Db) {
    let service = Service::start(db, IdentityConfig::default());
    let realm = shop();
    service.register(realm, "ada@example.test").await;

    // Even the right password waits once the email is locked.
    let known = sixth_attempt(&service, realm, "ada@example.test", PASSWORD).await;
    assert_throttled(&known);
    let unknown = sixth_attempt(&service, realm, "nobody@example.test", PASSWORD).await;
    assert_throttled(&unknown);
    assert_eq!(known.body, unknown.body, "the answer tells nothing");
    assert_eq!(known.retry_after(), unknown.retry_after());
    // The email as typed differently is the same email.
    assert_throttled(&service.login(realm, " ADA@example.test", PASSWORD).await);

    // Other emails, and the same email in another shop, are not held up.
    service.register(realm, "bob@example.test").await;
    let bob = service.login(realm, "bob@example.test", PASSWORD).await;
    assert_eq!(bob.status, StatusCode::OK, "{bob:?}");
    let other = shop();
    service.register(other, "ada@example.test").await;
    let elsewhere = service.login(other, "ada@example.test", PASSWORD).await;
    assert_eq!(elsewhere.status, StatusCode::OK, "{elsewhere:?}");
}

async fn a_sign_in_clears_the_count(db: Db) {
    let service = Service::start(db, IdentityConfig::default());
    let realm = shop();
    service.register(realm, "ada@example.test").await;
    for _ in 0..4 {
        let reply = service.login(realm, "ada@example.test", WRONG).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    }
    let ok = service.login(realm, "ada@example.test", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    // Five more wrong passwords are let through before the lock: the count started over.
    let sixth = sixth_attempt(&service, realm, "ada@example.test", PASSWORD).await;
    assert_throttled(&sixth);
}

async fn platform_admins_wait_too(db: Db) {
    mercato_identity::ensure_account(
        &db,
        Realm::Platform,
        "root@example.test",
        PASSWORD,
        AccountRole::PlatformAdmin,
    )
    .await
    .unwrap();
    let service = Service::start(db, IdentityConfig::default());
    let sixth = sixth_attempt(&service, Realm::Platform, "root@example.test", PASSWORD).await;
    assert_throttled(&sixth);
    // The same email on a shop's domain is another realm, with its own count.
    let shop_login = service.login(shop(), "root@example.test", WRONG).await;
    assert_eq!(
        shop_login.status,
        StatusCode::UNAUTHORIZED,
        "{shop_login:?}"
    );
}

/// What a sign-in came to, printable.
fn outcome(result: Result<SignedIn, SignInError>) -> String {
    match result {
        Ok(_) => "signed in".into(),
        Err(SignInError::BadCredentials) => "bad credentials".into(),
        Err(SignInError::Throttled { retry_after_secs })
            if (1..=60).contains(&retry_after_secs) =>
        {
            "throttled".into()
        }
        Err(e) => format!("{e:?}"),
    }
}

/// The per-address back-off, through the use case (the gateway's story
/// `limits::a_password_guesser_is_slowed_down` shows it over HTTP, with the address the
/// gateway signs into the context).
async fn an_address_waits_after_its_limit_across_emails(db: Db) {
    let mut config = IdentityConfig::default();
    config.login_backoff.attempts_per_address = NonZeroU32::new(3).unwrap();
    let service = Service::start(db, config);
    let state = &service.state;
    let realm = shop();
    service.register(realm, "ada@example.test").await;
    let attacker: IpAddr = "203.0.113.9".parse().unwrap();
    let attempt = |email: &'static str, password: &str, address: Option<IpAddr>| SignIn {
        realm,
        email,
        password: password.to_owned(),
        address,
    };

    for email in ["a@example.test", "b@example.test"] {
        let result = sign_in(state, attempt(email, WRONG, Some(attacker))).await;
        assert_eq!(outcome(result), "bad credentials");
    }
    // A good sign-in from the address does not clear what was tried from it before.
    let signed_in = sign_in(state, attempt("ada@example.test", PASSWORD, Some(attacker)))
        .await
        .unwrap();
    signed_in.tx.commit().await.unwrap();
    let third = sign_in(state, attempt("c@example.test", WRONG, Some(attacker))).await;
    assert_eq!(outcome(third), "bad credentials");
    // The address has had its three: a fresh email from it waits, one from elsewhere does not.
    let refused = sign_in(state, attempt("d@example.test", WRONG, Some(attacker))).await;
    assert_eq!(outcome(refused), "throttled");
    let neighbour: IpAddr = "2001:db8:7:7::1".parse().unwrap();
    let elsewhere = sign_in(state, attempt("d@example.test", WRONG, Some(neighbour))).await;
    assert_eq!(outcome(elsewhere), "bad credentials");
    // The refusal for the address was no attempt on the email: `d` has had one, so four
    // more go through and the sixth waits.
    for _ in 0..4 {
        let result = sign_in(state, attempt("d@example.test", WRONG, None)).await;
        assert_eq!(outcome(result), "bad credentials");
    }
    let sixth = sign_in(state, attempt("d@example.test", PASSWORD, None)).await;
    assert_eq!(outcome(sixth), "throttled");
}

async fn the_sweep_forgets_counts_past_their_window_but_keeps_locks(db: Db) {
    let service = Service::start(db.clone(), IdentityConfig::default());
    let realm = shop();
    for _ in 0..5 {
        service.login(realm, "ada@example.test", WRONG).await;
    }
    assert_throttled(&sixth_attempt(&service, realm, "bob@example.test", WRONG).await);

    // As the hourly sweep would run sixteen minutes from now: Ada's five attempts are past
    // their window and go; Bob's lock is remembered for a day.
    let later = chrono::Utc::now() + chrono::TimeDelta::minutes(16);
    let purged = retention::purge_forgotten_backoff(&db, later)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    let ada = service.login(realm, "ada@example.test", WRONG).await;
    assert_eq!(
        ada.status,
        StatusCode::UNAUTHORIZED,
        "a fresh count: {ada:?}"
    );
    assert_throttled(&service.login(realm, "bob@example.test", PASSWORD).await);
}

fn one_slot(wait_ms: u64) -> IdentityConfig {
    IdentityConfig {
        password_hashing: PasswordHashingConfig {
            max_concurrent: NonZeroU32::new(1).unwrap(),
            wait_ms,
        },
        ..IdentityConfig::default()
    }
}

async fn a_saturated_process_answers_busy_and_counts_nothing(db: Db) {
    let service = Service::start(db, one_slot(0));
    let realm = shop();
    service.register(realm, "ada@example.test").await;

    // The only slot is taken, as by a hash in progress: every concurrent password check,
    // sign-up and reset is turned away at once with 503 and a Retry-After.
    let held = service.state.hashing.try_slot().expect("the slot is free");
    let logins = (0..8).map(|_| service.login(realm, "ada@example.test", WRONG));
    for reply in futures::future::join_all(logins).await {
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{reply:?}");
        assert_eq!(reply.str("code"), "busy");
        assert_eq!(reply.retry_after(), Some(1));
    }
    let signup = service
        .post(
            realm,
            "/api/v1/auth/register",
            serde_json::json!({ "email": "bob@example.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!(signup.status, StatusCode::SERVICE_UNAVAILABLE, "{signup:?}");
    assert_eq!(signup.str("code"), "busy");

    // Once the slot is free the account signs in: eight unchecked attempts were not counted.
    drop(held);
    let ok = service.login(realm, "ada@example.test", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    let signup = service.register(realm, "bob@example.test").await;
    assert_eq!(signup.status, StatusCode::CREATED);
}

async fn a_waiting_sign_in_takes_the_slot_that_frees(db: Db) {
    let service = Service::start(db, one_slot(60_000));
    let realm = shop();
    service.register(realm, "ada@example.test").await;
    let held = service.state.hashing.try_slot().expect("the slot is free");
    let waiting = tokio::spawn({
        let service = service.clone();
        async move { service.login(realm, "ada@example.test", PASSWORD).await }
    });
    drop(held);
    let reply = waiting.await.unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

on_every_backend!(
    an_email_waits_after_five_failures_whether_or_not_it_has_an_account,
    a_sign_in_clears_the_count,
    platform_admins_wait_too,
    an_address_waits_after_its_limit_across_emails,
    the_sweep_forgets_counts_past_their_window_but_keeps_locks,
    a_saturated_process_answers_busy_and_counts_nothing,
    a_waiting_sign_in_takes_the_slot_that_frees,
);
