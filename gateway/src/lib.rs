//! Mercato's front door and composition root. The gateway resolves each request's `Host` to
//! a shop, verifies the caller's token, signs the tenant context and routes the request to
//! the service that owns its path — in-process in the all-in-one shape, over HTTP in the
//! split shape. `app` builds every shape from configuration; `main` is the `mercato` CLI.
//! The gateway consumes `shop.*` and `domain.*` events to keep its host cache current, and
//! `user.sessions_revoked` to refuse access tokens older than their account's session epoch.

pub mod app;
pub mod config;
pub mod demo;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod paths;
pub mod problems;
pub mod proxy;
pub mod republish;
pub mod routes;
pub mod secrets;
pub mod sessions;
pub mod upstream;

use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `shape` on `listener` (the API and `/healthz`) and `admin` (`/readyz`,
/// `/metrics`) until `shutdown`, then stops the background tasks.
pub async fn serve(
    config: config::Config,
    listener: TcpListener,
    admin: TcpListener,
    shape: app::Shape,
    demo: bool,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut running = app::start(&config, shape, demo, shutdown.clone()).await?;
    let address = listener.local_addr()?;
    let admin_address = admin.local_addr()?;
    tracing::info!(%address, %admin_address, "mercato listening");
    let server = axum::serve(
        listener,
        running
            .router
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let admin_server = axum::serve(admin, running.admin_router)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    // Either server failing stops the process: without its probes an orchestrator would
    // restart it anyway, and without its API it serves nobody.
    let result = tokio::try_join!(server.into_future(), admin_server.into_future());
    shutdown.cancel();
    // Give workers a moment to finish the job in hand; a job they drop is retried later.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while running.tasks.join_next().await.is_some() {}
    })
    .await;
    result?;
    Ok(())
}

/// Runs background workers only (no HTTP) until `shutdown`.
pub async fn work(
    config: config::Config,
    services: Vec<String>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut running = app::start(
        &config,
        app::Shape::Workers(services),
        false,
        shutdown.clone(),
    )
    .await?;
    shutdown.cancelled().await;
    while running.tasks.join_next().await.is_some() {}
    Ok(())
}
