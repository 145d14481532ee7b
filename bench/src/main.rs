//! Serves what `bench/run.sh` measures with wrk: the whole platform (all-in-one shape,
//! embedded backends, release build) with a shop on a DNS-verified custom domain, and a bare
//! axum handler returning a body of the same size — the ceiling on this machine.
//! Prints one `READY …` line, then serves until killed.

use anyhow::{Context, bail};
use mercato_gateway::app::{self, Shape};
use mercato_gateway::config::Config;
use mercato_identity::domain::{AccountRole, Realm};
use mercato_tenant_context::Role;
use mercato_testkit::{Client, TestDns};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The platform runs in this process: it allocates as `mercato` does (ADR 0022).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HOST: &str = "shop.bench.test";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let dns = TestDns::start("bench.test").await?;
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.tenants.dns.nameservers = vec![dns.addr];
    config.tenants.domain_checks.first_retry_ms = 100;
    config.gateway.enforce_rate_limits = false;
    config.log.filter = "warn".into();
    mercato_kernel::telemetry::init(config.log.format, &config.log.filter);

    let shutdown = CancellationToken::new();
    let running = app::start(&config, Shape::AllInOne, false, shutdown.clone()).await?;
    let identity = running.identity_db.clone().context("identity db")?;
    let gateway = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let gateway_addr = gateway.local_addr()?;
    let router = running.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(
            gateway,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });

    // A shop on a verified custom domain, set up through the API like a merchant would.
    let client = Client::new(gateway_addr);
    let password = "benchmark password";
    mercato_identity::ensure_account(
        &identity,
        Realm::Platform,
        "bench@platform.localhost",
        password,
        AccountRole::PlatformAdmin,
    )
    .await?;
    let admin = client
        .post(
            "platform.localhost",
            "/api/v1/auth/login",
            None,
            &json!({ "email": "bench@platform.localhost", "password": password }),
        )
        .await?
        .str("access_token");
    let shop = client.post("platform.localhost", "/api/v1/admin/shops", Some(&admin), &json!({ "name": "Bench", "slug": "bench", "default_currency": "EUR", "plan": "scale" })).await?;
    let shop_id = shop.str("id").parse().context("shop id")?;
    mercato_identity::ensure_account(
        &identity,
        Realm::Shop(shop_id),
        "owner@bench.localhost",
        password,
        AccountRole::Shop(Role::Owner),
    )
    .await?;
    let owner = client
        .post(
            "bench.localhost",
            "/api/v1/auth/login",
            None,
            &json!({ "email": "owner@bench.localhost", "password": password }),
        )
        .await?
        .str("access_token");
    let domain = client
        .post(
            "bench.localhost",
            "/api/v1/shop/domains",
            Some(&owner),
            &json!({ "hostname": HOST }),
        )
        .await?;
    let token = domain.body["verification"]["value"]
        .as_str()
        .context("token")?
        .to_owned();
    dns.set_txt(&format!("_mercato-verify.{HOST}"), &[&token])
        .await?;
    let started = Instant::now();
    let body = loop {
        let reply = client.get(HOST, "/api/v1/shop", None).await?;
        if reply.status == 200 {
            break reply.text;
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the custom domain did not verify: {}", reply.text);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The ceiling: a bare axum handler with the same body.
    let bare = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_addr = bare.local_addr()?;
    let bare_router = axum::Router::new().route(
        "/api/v1/shop",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(bare, bare_router).await;
    });

    eprintln!("READY gateway={gateway_addr} bare={bare_addr} host={HOST}");
    tokio::signal::ctrl_c().await?;
    shutdown.cancel();
    Ok(())
}
