//! Story 4: a shop over its plan's request rate gets 429 with Retry-After while another shop
//! is served. Issue 13's story 7: bots and password guessers are limited per address.

use crate::on_all_backends;
use crate::support::{Backend, PASSWORD, PLATFORM, TestApp};
use mercato_gateway::config::Config;
use mercato_testkit::Reply;
use serde_json::{Value, json};

async fn one_noisy_shop_does_not_starve_another(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn(backend, test).await else {
        return;
    };
    let admin = app.admin_token().await;
    // Free plan: 10 requests/s, bursts of 20.
    let noisy = app.shop(&admin, "free").await;
    let quiet = app.shop(&admin, "free").await;
    let requests = (0..60).map(|_| app.client.get(&noisy.host, "/api/v1/shop", None));
    let replies = futures::future::join_all(requests).await;
    let limited: Vec<_> = replies
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter(|r| r.status == 429)
        .collect();
    let served = replies
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter(|r| r.status == 200)
        .count();
    assert!(
        limited.len() >= 30,
        "most of a 60-request burst is refused, {} were",
        limited.len()
    );
    assert!(served >= 15, "the burst allowance is served, {served} were");
    let first = limited[0];
    assert_eq!(first.str("code"), "rate_limited");
    assert_eq!(first.content_type(), "application/problem+json");
    assert!(first.headers.get("retry-after").is_some());
    // Meanwhile the quiet shop is served.
    let reply = app
        .client
        .get(&quiet.host, "/api/v1/shop", None)
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text);
}
on_all_backends!(one_noisy_shop_does_not_starve_another);

/// Sends `method path` as the client at `address` (behind the trusted proxy 127.0.0.1).
async fn as_client(
    app: &TestApp,
    address: &str,
    method: &str,
    host: &str,
    path: &str,
    body: Option<&Value>,
) -> Reply {
    let mut headers = vec![("x-forwarded-for", address)];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    app.client
        .send_raw(method, host, path, &headers, bytes)
        .await
        .expect("request")
}

fn behind_a_proxy(config: &mut Config) {
    config.gateway.trusted_proxies = vec![[127, 0, 0, 1].into()];
}

/// Story 7 (issue 13): a bot that names made-up hosts, or hammers the platform host, is
/// limited per address before it costs a database read each; a host nobody answers at is
/// then served from the negative cache; other addresses are not touched.
async fn a_client_reaching_no_shop_is_limited(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn_with(backend, test, |config| {
        behind_a_proxy(config);
        config.gateway.unscoped_requests_per_second = 20;
        config.gateway.host_resolutions_per_second = 2;
    })
    .await
    else {
        return;
    };
    // Made-up hosts: each is a resolution the cache cannot answer; a burst of 4 goes through.
    let bot = "203.0.113.7";
    let mut answers = Vec::new();
    for i in 0..10 {
        let host = format!("nowhere-{i}.example.test");
        let reply = as_client(&app, bot, "GET", &host, "/api/v1/shop", None).await;
        answers.push(reply);
    }
    let found_nothing = answers.iter().filter(|r| r.status == 404).count();
    assert!(
        (4..=6).contains(&found_nothing),
        "the resolution burst is 4 (plus refill), {found_nothing} were resolved"
    );
    let last = answers.last().expect("answers");
    assert_eq!(last.status, 429, "{}", last.text);
    assert_eq!(last.str("code"), "rate_limited");
    assert!(last.headers.get("retry-after").is_some());
    // A host already found to be nobody's is answered from the negative cache, so it costs
    // no resolution: still a 404 for the bot.
    let again = as_client(
        &app,
        bot,
        "GET",
        "nowhere-0.example.test",
        "/api/v1/shop",
        None,
    )
    .await;
    assert_eq!(again.status, 404, "{}", again.text);

    // The platform host: 20 requests/s, bursts of 40, per address.
    let hammer = "198.51.100.9";
    let requests =
        (0..100).map(|_| as_client(&app, hammer, "GET", PLATFORM, "/api/v1/auth/me", None));
    let replies = futures::future::join_all(requests).await;
    let limited: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
    let answered = replies.iter().filter(|r| r.status == 401).count();
    assert!(
        limited.len() >= 40,
        "most of the burst is refused, {} were",
        limited.len()
    );
    assert!(
        answered >= 35,
        "the burst allowance is answered, {answered} were"
    );
    assert_eq!(limited[0].str("code"), "rate_limited");
    // Another address, on the platform host and on a made-up one, is served as usual.
    let other = "192.0.2.44";
    let reply = as_client(&app, other, "GET", PLATFORM, "/api/v1/auth/me", None).await;
    assert_eq!(reply.status, 401, "{}", reply.text);
    let reply = as_client(
        &app,
        other,
        "GET",
        "nowhere-99.example.test",
        "/api/v1/shop",
        None,
    )
    .await;
    assert_eq!(reply.status, 404, "{}", reply.text);
}
on_all_backends!(a_client_reaching_no_shop_is_limited);

/// Story 7 (issue 13): a password guesser on a shop's domain. After five wrong passwords
/// the owner's email waits (429 `too_many_attempts`, `Retry-After`), and so does an email
/// no account has, with the same answer; the guesser's address then waits across emails
/// while another address may still try a different account.
async fn a_password_guesser_is_slowed_down(backend: Backend, test: &str) {
    let Some(app) = TestApp::spawn_with(backend, test, |config| {
        behind_a_proxy(config);
        config.identity.login_backoff.attempts_per_address =
            std::num::NonZeroU32::new(10).expect("10");
    })
    .await
    else {
        return;
    };
    let admin = app.admin_token().await;
    let shop = app.shop(&admin, "growth").await;
    let guesser = "203.0.113.50";
    let guess = |email: String, password: &'static str| {
        let body = json!({ "email": email, "password": password });
        let app = &app;
        let host = shop.host.clone();
        async move {
            as_client(
                app,
                guesser,
                "POST",
                &host,
                "/api/v1/auth/login",
                Some(&body),
            )
            .await
        }
    };
    let nobody = format!("nobody@{}", shop.host);
    let owner = format!("owner@{}", shop.host);
    for (email, what) in [(&owner, "the owner"), (&nobody, "an unknown email")] {
        for attempt in 1..=5 {
            let reply = guess(email.clone(), "wrong horse battery").await;
            assert_eq!(
                reply.status, 401,
                "{what}, attempt {attempt}: {}",
                reply.text
            );
        }
        let sixth = guess(email.clone(), "wrong horse battery").await;
        assert_eq!(sixth.status, 429, "{what}: {}", sixth.text);
        assert_eq!(sixth.str("code"), "too_many_attempts");
        let wait: u64 = sixth.headers["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!(wait >= 1, "{what}: Retry-After {wait}");
        // Even the right password waits now.
        let right = guess(email.clone(), PASSWORD).await;
        assert_eq!(right.status, 429, "{what}: {}", right.text);
    }
    // Ten passwords checked from one address (refusals for an email do not count against
    // the address): an eleventh, for a third email, waits too, before any check.
    let third = guess(format!("someone@{}", shop.host), "wrong horse battery").await;
    assert_eq!(third.status, 429, "{}", third.text);
    // Meanwhile an honest client elsewhere signs in to its own account.
    let staff = format!("staff@{}", shop.host);
    mercato_identity::ensure_account(
        &app.identity_db,
        mercato_identity::domain::Realm::Shop(shop.id),
        &staff,
        PASSWORD,
        mercato_identity::domain::AccountRole::Shop(mercato_tenant_context::Role::Staff),
    )
    .await
    .expect("staff account");
    let body = json!({ "email": staff, "password": PASSWORD });
    let honest = as_client(
        &app,
        "192.0.2.10",
        "POST",
        &shop.host,
        "/api/v1/auth/login",
        Some(&body),
    )
    .await;
    assert_eq!(honest.status, 200, "{}", honest.text);
}
on_all_backends!(a_password_guesser_is_slowed_down);
