//! The composition root: builds the services, their workers and the gateway from the
//! configuration, for each shape `mercato` runs in.

use crate::config::{BusKind, Config, GatewayConfig};
use crate::limits::{ClientRates, RateLimits};
use crate::metrics::Metrics;
use crate::problems::GatewayProblem;
use crate::proxy::{Gateway, GatewayInner};
use crate::upstream::Upstream;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Router};
use mercato_auth::TokenKeys;
use mercato_cache::Cache;
use mercato_db::{Db, DbTarget};
use mercato_events::{Bus, Envelope, Handler, HandlerError, InProcessBus, Relay};
use mercato_identity::IdentityState;
use mercato_identity::mail::FileMailer;
use mercato_kernel::Problem;
use mercato_tenant_context::ContextKey;
use mercato_tenants::TenantsState;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// What this process runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// Gateway, every service and every worker in one process.
    AllInOne,
    /// Some services with their workers, without the gateway (the split shape's upstreams).
    Services(Vec<String>),
    /// The gateway alone, forwarding to `gateway.upstreams`.
    Gateway,
    /// Workers (outbox relays, jobs) of some services, no HTTP.
    Workers(Vec<String>),
}

impl Shape {
    fn services(&self) -> Vec<&str> {
        match self {
            Shape::AllInOne => crate::routes::SERVICES.to_vec(),
            Shape::Services(names) | Shape::Workers(names) => {
                names.iter().map(String::as_str).collect()
            }
            Shape::Gateway => Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretsError),
    #[error("access-token keys: {0}")]
    Keys(#[from] mercato_auth::TokenError),
    #[error("database of {service}: {source}")]
    Connect {
        service: &'static str,
        source: mercato_db::ConnectError,
    },
    #[error("migrating {service}: {source}")]
    Migrate {
        service: &'static str,
        source: sea_orm::DbErr,
    },
    #[error("event bus: {0}")]
    Bus(#[from] mercato_events::BusError),
    #[error("object storage: {0}")]
    Storage(#[from] mercato_storage::StorageError),
    #[error("search index: {0}")]
    Search(#[from] mercato_search::SearchError),
    #[error("cache: {0}")]
    Cache(#[from] mercato_cache::CacheError),
    #[error("dns resolver: {0}")]
    Dns(#[from] mercato_tenants::dns::LookupError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigProblem),
    #[error(
        "unknown service {0:?}; known: tenants, identity, vendors, catalog, inventory, orders, accounting, payouts"
    )]
    UnknownService(String),
    #[error("the gateway needs an upstream URL for {0} (gateway.upstreams.{0})")]
    MissingUpstream(&'static str),
    #[error("the split shape needs {0}: each process would otherwise generate its own")]
    SplitNeeds(&'static str),
    #[error("cannot hash: {0}")]
    Password(#[from] mercato_auth::PasswordError),
    #[error("http client: {0}")]
    HttpClient(reqwest::Error),
    #[error("demo seed: {0}")]
    Demo(#[from] crate::demo::DemoError),
    #[error(transparent)]
    Stripe(#[from] mercato_payments::stripe::StripeSetupError),
}

/// A started process: the routers to serve and the background tasks it runs.
pub struct Running {
    /// The main listener's: the API on every shop's domain, and `/healthz`.
    pub router: Router,
    /// The admin listener's: `/readyz` and `/metrics`, kept off shops' domains (they tell
    /// anyone who asks which databases answer and how busy the platform is).
    pub admin_router: Router,
    /// Each service's router as the gateway calls it in process (context key and body
    /// limit installed), for tools and tests that talk to one service directly.
    pub services: BTreeMap<&'static str, Router>,
    pub tasks: JoinSet<()>,
    pub tenants_db: Option<Db>,
    pub identity_db: Option<Db>,
    pub vendors_db: Option<Db>,
    pub catalog_db: Option<Db>,
    pub inventory_db: Option<Db>,
    pub orders_db: Option<Db>,
    pub accounting_db: Option<Db>,
    pub payouts_db: Option<Db>,
    pub context_key: ContextKey,
    pub bus: Arc<dyn Bus>,
}

async fn connect(config: &Config, service: &'static str) -> Result<Db, StartError> {
    if config.database.url.is_empty() {
        let path = config.data_dir.join(format!("{service}.db"));
        return Db::connect(DbTarget::Sqlite(&path), config.database.max_connections)
            .await
            .map_err(|source| StartError::Connect { service, source });
    }
    let schema = format!("{}{service}", config.database.schema_prefix);
    let target = DbTarget::Postgres {
        url: &config.database.url,
        schema: &schema,
    };
    Db::connect(target, config.database.max_connections)
        .await
        .map_err(|source| StartError::Connect { service, source })
}

/// A service's database, connected and migrated. With `database.migrate_url` set, the
/// migrations run as that (owner) role, which then lets the serving role read and write the
/// tables; the serving role itself never needs to create or alter anything.
pub async fn open_service_db(
    config: &Config,
    service: &'static str,
    migrate: impl AsyncFnOnce(&Db) -> Result<(), sea_orm::DbErr>,
) -> Result<Db, StartError> {
    let db = connect(config, service).await?;
    if config.database.url.is_empty() || config.database.migrate_url.is_empty() {
        migrate(&db).await.map_err(migrate_error(service))?;
        return Ok(db);
    }
    let schema = format!("{}{service}", config.database.schema_prefix);
    let owner = Db::connect_owner(DbTarget::Postgres {
        url: &config.database.migrate_url,
        schema: &schema,
    })
    .await
    .map_err(|source| StartError::Connect { service, source })?;
    migrate(&owner).await.map_err(migrate_error(service))?;
    let role = db.current_role().await.map_err(migrate_error(service))?;
    mercato_db::grant_use(&owner, &role)
        .await
        .map_err(migrate_error(service))?;
    if let Err(e) = owner.close().await {
        tracing::warn!(service, error = %e, "cannot close the migration connection");
    }
    Ok(db)
}

fn migrate_error(service: &'static str) -> impl FnOnce(sea_orm::DbErr) -> StartError {
    move |source| StartError::Migrate { service, source }
}

/// Subscribes a service's durable consumers (before any relay runs; see `start`).
async fn subscribe_all(
    bus: &dyn Bus,
    subscriptions: Vec<mercato_events::Subscription>,
) -> Result<(), StartError> {
    for subscription in subscriptions {
        bus.subscribe(
            subscription.consumer,
            subscription.patterns,
            subscription.handler,
        )
        .await?;
    }
    Ok(())
}

async fn bus(config: &Config) -> Result<Arc<dyn Bus>, StartError> {
    Ok(match config.bus.kind {
        BusKind::InProcess => Arc::new(InProcessBus::new()),
        BusKind::Amqp => Arc::new(
            mercato_events::AmqpBus::connect(&config.bus.amqp_url, &config.bus.exchange).await?,
        ),
    })
}

fn client_rates(config: &GatewayConfig) -> ClientRates {
    ClientRates {
        per_shop: config.per_client_requests_per_second,
        unscoped: config.unscoped_requests_per_second,
        resolutions: config.host_resolutions_per_second,
    }
}

async fn cache(config: &Config) -> Result<Cache, StartError> {
    Ok(if config.cache.redis_url.is_empty() {
        Cache::in_memory(100_000)
    } else {
        Cache::redis(&config.cache.redis_url, &config.cache.namespace).await?
    })
}

/// Builds everything `shape` needs and starts its background tasks.
pub async fn start(
    config: &Config,
    shape: Shape,
    demo: bool,
    shutdown: CancellationToken,
) -> Result<Running, StartError> {
    for name in shape.services() {
        if !crate::routes::SERVICES.contains(&name) {
            return Err(StartError::UnknownService(name.to_owned()));
        }
    }
    if matches!(shape, Shape::Gateway | Shape::Services(_)) {
        if config.auth.signing_keys.is_empty() {
            return Err(StartError::SplitNeeds("auth.signing_keys"));
        }
        if config.auth.internal_key.expose().is_empty() {
            return Err(StartError::SplitNeeds("auth.internal_key"));
        }
    }
    // The gateway learns of suspended shops and changed domains from events.
    if shape == Shape::Gateway && config.bus.kind != BusKind::Amqp {
        return Err(StartError::SplitNeeds(
            "bus.kind = \"amqp\" (the gateway's host cache follows shop and domain events)",
        ));
    }
    let (signing_keys, internal_key) = crate::secrets::resolve(
        &config.auth.signing_keys,
        &config.auth.internal_key,
        &config.data_dir,
    )?;
    let keys = TokenKeys::new(&signing_keys, config.auth.access_token_ttl_secs)?;
    let context_key = ContextKey::new(internal_key.expose().as_bytes());
    let bus = bus(config).await?;
    // Local media links are signed with a key derived from the internal key, which every
    // process of a deployment shares.
    let media_secret =
        mercato_kernel::Secret::new(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            format!("mercato media links\0{}", internal_key.expose()).as_bytes(),
        )));
    let storage =
        mercato_storage::Storage::from_config(&config.storage, &config.data_dir, &media_secret)?;
    storage.ensure_bucket().await?;
    // Background tasks start once every consumer has subscribed, so no relay publishes an
    // event (e.g. `shop.created` from the demo seed) before its consumers listen.
    let mut background: Vec<futures::future::BoxFuture<'static, ()>> = Vec::new();
    let wants = |name: &str| shape.services().contains(&name);

    let mut routers: BTreeMap<&'static str, Router> = BTreeMap::new();
    let mut tenants_db = None;
    let mut identity_db = None;
    let mut vendors_db = None;
    let mut catalog_db = None;
    let mut inventory_db = None;
    let mut orders_db = None;
    let mut accounting_db = None;
    let mut payouts_db = None;

    if wants("tenants") {
        let db = open_service_db(config, "tenants", mercato_tenants::migrate).await?;
        let relay = Relay::new(db.clone(), bus.clone());
        let state = TenantsState {
            db: db.clone(),
            config: Arc::new(config.tenants.clone()),
            outbox: relay.notifier(),
        };
        let worker = mercato_tenants::verification_worker(&state)?;
        background.push(Box::pin(relay.run(shutdown.clone())));
        background.push(Box::pin(worker.run(shutdown.clone())));
        background.push(Box::pin(mercato_tenants::retention::worker(
            db.clone(),
            shutdown.clone(),
        )));
        routers.insert("tenants", mercato_tenants::router(state));
        tenants_db = Some(db);
    }
    if wants("identity") {
        let db = open_service_db(config, "identity", mercato_identity::migrate).await?;
        let relay = Relay::new(db.clone(), bus.clone());
        let mut identity = config.identity.clone();
        if identity.mail_dir.as_os_str().is_empty() {
            identity.mail_dir = config.data_dir.join("mail");
        }
        let mailer = Arc::new(FileMailer::new(identity.mail_dir.clone()));
        let state =
            IdentityState::new(db.clone(), keys.clone(), identity, relay.notifier(), mailer)?;
        subscribe_all(bus.as_ref(), mercato_identity::subscriptions(&state)).await?;
        background.push(Box::pin(relay.run(shutdown.clone())));
        background.extend(mercato_identity::workers(&state, shutdown.clone()));
        routers.insert("identity", mercato_identity::router(state));
        identity_db = Some(db);
    }
    if wants("vendors") {
        let db = open_service_db(config, "vendors", mercato_vendors::migrate).await?;
        let relay = Relay::new(db.clone(), bus.clone());
        let state = mercato_vendors::VendorsState {
            db: db.clone(),
            outbox: relay.notifier(),
            storage: storage.clone(),
        };
        background.push(Box::pin(relay.run(shutdown.clone())));
        subscribe_all(bus.as_ref(), mercato_vendors::subscriptions(&state)).await?;
        background.push(Box::pin(mercato_vendors::retention::worker(
            db.clone(),
            shutdown.clone(),
        )));
        routers.insert("vendors", mercato_vendors::router(state));
        vendors_db = Some(db);
    }
    if wants("catalog") {
        let db = open_service_db(config, "catalog", mercato_catalog::migrate).await?;
        let relay = Relay::new(db.clone(), bus.clone());
        // Only the process that runs catalog opens the index (an embedded one is locked to it).
        let search = mercato_search::open(&config.search, &config.data_dir)?;
        search.prepare().await?;
        let state = mercato_catalog::CatalogState {
            db: db.clone(),
            outbox: relay.notifier(),
            storage: storage.clone(),
            search,
        };
        subscribe_all(bus.as_ref(), mercato_catalog::subscriptions(&state)).await?;
        background.push(Box::pin(relay.run(shutdown.clone())));
        background.extend(mercato_catalog::workers(&state, shutdown.clone()));
        routers.insert("catalog", mercato_catalog::router(state));
        catalog_db = Some(db);
    }
    if wants("inventory") {
        let db = open_service_db(config, "inventory", mercato_inventory::migrate).await?;
        let relay = Relay::new(db.clone(), bus.clone());
        let state = mercato_inventory::InventoryState {
            db: db.clone(),
            outbox: relay.notifier(),
            sweeps: Default::default(),
        };
        subscribe_all(bus.as_ref(), mercato_inventory::subscriptions(&state)).await?;
        background.push(Box::pin(relay.run(shutdown.clone())));
        background.extend(mercato_inventory::workers(&state, shutdown.clone()));
        routers.insert("inventory", mercato_inventory::router(state));
        inventory_db = Some(db);
    }
    if wants("orders") {
        let db = open_service_db(config, "orders", mercato_orders::migrate).await?;
        let relay = Relay::new(db.clone(), bus.clone());
        // Checkout holds stock through inventory: in this process when it runs here, else
        // at its upstream URL.
        let link = match routers.get("inventory") {
            Some(router) => mercato_orders::inventory::InventoryLink::Local(
                router.clone().layer(Extension(context_key.clone())),
            ),
            None => mercato_orders::inventory::InventoryLink::Remote {
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .map_err(StartError::HttpClient)?,
                base: config
                    .gateway
                    .upstreams
                    .get("inventory")
                    .cloned()
                    .ok_or(StartError::MissingUpstream("inventory"))?,
            },
        };
        let derive = |purpose: &str| {
            <sha2::Sha256 as sha2::Digest>::digest(
                format!("mercato {purpose}\0{}", internal_key.expose()).as_bytes(),
            )
        };
        let mut payments =
            mercato_orders::usecases::payment::Providers::new(config.orders.webhook_tolerance_secs);
        if let Some(refused) = config.test_payments_refused() {
            return Err(refused.into());
        }
        if config.orders.test_provider {
            if !config.database.url.is_empty() {
                tracing::warn!(
                    "the test payment provider is on with PostgreSQL \
                     (orders.allow_test_payments): orders can be paid with no money taken"
                );
            }
            let secret = if config.orders.test_webhook_secret.is_empty() {
                format!("whsec_{}", hex::encode(derive("test payment webhooks")))
            } else {
                config.orders.test_webhook_secret.clone()
            };
            payments = payments.with_test(
                mercato_payments::TestProvider::new(
                    db.clone(),
                    secret,
                    Duration::from_millis(config.orders.test_webhook_delay_ms),
                )
                .with_fee(config.orders.test_fee),
            );
        }
        let stripe = &config.orders.stripe;
        if !stripe.secret_key.expose().is_empty() {
            let api_base = Some(stripe.api_base.clone()).filter(|base| !base.is_empty());
            let provider = mercato_payments::StripeProvider::new(
                stripe.secret_key.expose().to_owned(),
                api_base,
            )?;
            let secrets = stripe
                .webhook_secrets
                .iter()
                .map(|secret| secret.expose().to_owned())
                .collect();
            payments = payments.with(Arc::new(provider), secrets);
        }
        let state = mercato_orders::OrdersState {
            db: db.clone(),
            outbox: relay.notifier(),
            config: Arc::new(config.orders.clone()),
            inventory: mercato_orders::inventory::InventoryClient {
                link,
                key: context_key.clone(),
            },
            payments,
            token_key: derive("order tokens").to_vec().into(),
            sweeps: Default::default(),
        };
        subscribe_all(bus.as_ref(), mercato_orders::subscriptions(&state)).await?;
        background.push(Box::pin(relay.run(shutdown.clone())));
        background.extend(mercato_orders::workers(&state, shutdown.clone()));
        routers.insert("orders", mercato_orders::router(state));
        orders_db = Some(db);
    }
    if wants("accounting") {
        let db = open_service_db(config, "accounting", mercato_accounting::migrate).await?;
        let state = mercato_accounting::AccountingState {
            db: db.clone(),
            storage: storage.clone(),
        };
        subscribe_all(bus.as_ref(), mercato_accounting::subscriptions(&state)).await?;
        // The documents' renderer and the retention sweep.
        background.extend(mercato_accounting::workers(&state, shutdown.clone()));
        routers.insert("accounting", mercato_accounting::router(state));
        accounting_db = Some(db);
    }
    if wants("payouts") {
        let db = open_service_db(config, "payouts", mercato_payouts::migrate).await?;
        let relay = Relay::new(db.clone(), bus.clone());
        // Stripe Connect transfers leave from the Stripe account that takes the payments;
        // without one, the test payout provider stands in exactly when the test payment
        // provider is on: money that never came in goes out the same way.
        let stripe = &config.orders.stripe;
        let connect: Option<Arc<dyn mercato_payouts::providers::Connect>> =
            if !stripe.secret_key.expose().is_empty() {
                let api_base = Some(stripe.api_base.clone()).filter(|base| !base.is_empty());
                Some(Arc::new(StripeConnect {
                    stripe: mercato_payments::StripeProvider::new(
                        stripe.secret_key.expose().to_owned(),
                        api_base,
                    )?,
                    // Transfer events come signed like the payment ones, by the same
                    // account's endpoints (ADR 0044).
                    webhook_secrets: stripe
                        .webhook_secrets
                        .iter()
                        .map(|secret| secret.expose().to_owned())
                        .collect(),
                    tolerance_secs: config.orders.webhook_tolerance_secs,
                }))
            } else if config.orders.test_provider {
                Some(Arc::new(mercato_payouts::providers::TestPayouts {
                    db: db.clone(),
                    delay: Duration::from_millis(config.payouts.test_transfer_delay_ms),
                }))
            } else {
                None
            };
        let providers = mercato_payouts::providers::Providers { connect };
        let state = mercato_payouts::PayoutsState {
            db: db.clone(),
            config: Arc::new(config.payouts.clone()),
            outbox: relay.notifier(),
            runs: Default::default(),
            providers,
        };
        subscribe_all(bus.as_ref(), mercato_payouts::subscriptions(&state)).await?;
        background.push(Box::pin(relay.run(shutdown.clone())));
        background.extend(mercato_payouts::workers(&state, shutdown.clone()));
        routers.insert("payouts", mercato_payouts::router(state));
        payouts_db = Some(db);
    }
    let mut demo_shops = Vec::new();
    if demo && let (Some(t), Some(i)) = (&tenants_db, &identity_db) {
        let seeded =
            crate::demo::seed(t, i, &config.tenants.platform_domain, config.listen).await?;
        for line in seeded.lines {
            tracing::info!("{line}");
        }
        demo_shops = seeded.shops;
    }

    // Each service router verifies the signed context with the internal key, and answers
    // unknown paths and methods with problems too.
    let routers: BTreeMap<&'static str, Router> = routers
        .into_iter()
        .map(|(name, router)| {
            let router = router.layer(Extension(context_key.clone()));
            (
                name,
                router.layer(axum::extract::DefaultBodyLimit::max(
                    config.gateway.max_body_bytes,
                )),
            )
        })
        .collect();
    let with_fallbacks = |router: Router| {
        router
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
    };
    let dbs: Vec<(&'static str, Db)> = [
        ("tenants", tenants_db.clone()),
        ("identity", identity_db.clone()),
        ("vendors", vendors_db.clone()),
        ("catalog", catalog_db.clone()),
        ("inventory", inventory_db.clone()),
        ("orders", orders_db.clone()),
        ("accounting", accounting_db.clone()),
        ("payouts", payouts_db.clone()),
    ]
    .into_iter()
    .filter_map(|(name, db)| db.map(|db| (name, db)))
    .collect();
    let readiness = Readiness {
        outboxes: dbs
            .iter()
            .filter(|(name, _)| *name != "accounting")
            .cloned()
            .collect(),
        dbs,
        cache: None,
        bus: bus.clone(),
    };

    let (router, admin_router) = match &shape {
        Shape::Workers(_) => (Router::new(), Router::new()),
        Shape::Services(_) => {
            let mut router = Router::new();
            for service_router in routers.values() {
                router = router.merge(service_router.clone());
            }
            (
                with_liveness(
                    with_fallbacks(router).layer(axum::middleware::from_fn(service_span)),
                ),
                admin(readiness, None),
            )
        }
        Shape::AllInOne | Shape::Gateway => {
            let upstreams: BTreeMap<&'static str, Upstream> = if shape == Shape::Gateway {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .map_err(StartError::HttpClient)?;
                let mut upstreams = BTreeMap::new();
                for name in crate::routes::SERVICES {
                    let base = config
                        .gateway
                        .upstreams
                        .get(*name)
                        .ok_or(StartError::MissingUpstream(name))?;
                    upstreams.insert(
                        *name,
                        Upstream::Remote {
                            client: client.clone(),
                            base: base.clone(),
                        },
                    );
                }
                upstreams
            } else {
                routers
                    .iter()
                    .map(|(name, router)| (*name, Upstream::Local(with_fallbacks(router.clone()))))
                    .collect()
            };
            let cache = cache(config).await?;
            let gateway = Gateway(Arc::new(GatewayInner {
                upstreams,
                keys: keys.clone(),
                context_key: context_key.clone(),
                cache: cache.clone(),
                host_ttl: Duration::from_secs(config.gateway.host_cache_ttl_secs),
                limits: config
                    .gateway
                    .enforce_rate_limits
                    .then(|| RateLimits::new(client_rates(&config.gateway))),
                max_body: config.gateway.max_body_bytes,
                metrics: Arc::new(Metrics::default()),
                trusted_proxies: config.gateway.trusted_proxies.clone(),
            }));
            let consumer = format!("gateway-host-cache-{}", uuid::Uuid::now_v7().simple());
            bus.subscribe_transient(
                &consumer,
                &["shop.*", "domain.*"],
                Arc::new(HostCacheInvalidator(gateway.clone())),
            )
            .await?;
            // Access tokens of accounts whose rights shrank end at once (ADR 0029).
            let consumer = format!("gateway-sessions-{}", uuid::Uuid::now_v7().simple());
            bus.subscribe_transient(
                &consumer,
                &[mercato_identity::events::SESSIONS_REVOKED],
                Arc::new(crate::sessions::SessionInvalidator(gateway.clone())),
            )
            .await?;
            let readiness = Readiness {
                cache: Some(cache),
                ..readiness
            };
            let metrics = gateway.0.metrics.clone();
            // Media links open only on their own shop's host (see `proxy::media_host`).
            let media = mercato_storage::media_router(storage.clone()).route_layer(
                axum::middleware::from_fn_with_state(gateway.clone(), crate::proxy::media_host),
            );
            let router = Router::new()
                .route("/api/openapi.json", get(crate::openapi::serve))
                .route("/api/docs", get(crate::openapi::docs_page))
                .fallback(crate::proxy::forward)
                .with_state(gateway)
                .merge(media);
            // Last, so it wraps every route and the proxy: no path with a dot or empty
            // segment reaches any of them.
            let router = with_liveness(router).layer(axum::middleware::from_fn(
                crate::paths::refuse_ambiguous_paths,
            ));
            (router, admin(readiness, Some(metrics)))
        }
    };
    let mut tasks = JoinSet::new();
    for task in background {
        tasks.spawn(task);
    }
    // The demo marketplace goes through the API, so it starts once everything runs.
    if shape == Shape::AllInOne
        && !demo_shops.is_empty()
        && let Some(identity) = identity_db.clone()
    {
        let seed = crate::demo::marketplace::seed(router.clone(), identity, demo_shops);
        let stop = shutdown.clone();
        tasks.spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                seeded = seed => match seeded {
                    Ok(lines) if lines.is_empty() => tracing::info!("demo marketplace already seeded"),
                    Ok(lines) => {
                        tracing::info!("demo marketplace ready:");
                        for line in lines {
                            tracing::info!("{line}");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "demo marketplace not seeded"),
                },
            }
        });
    }
    Ok(Running {
        router,
        admin_router,
        services: routers
            .into_iter()
            .map(|(name, router)| (name, with_fallbacks(router)))
            .collect(),
        tasks,
        tenants_db,
        identity_db,
        vendors_db,
        catalog_db,
        inventory_db,
        orders_db,
        accounting_db,
        payouts_db,
        context_key,
        bus,
    })
}

/// In the split shape each service opens its own request span; the context extractors
/// fill in the request and tenant ids the gateway sent.
async fn service_span(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = tracing::field::Empty,
        tenant_id = tracing::field::Empty,
    );
    next.run(request).instrument(span).await
}

async fn not_found() -> Problem {
    Problem::not_found()
}

async fn method_not_allowed() -> Problem {
    Problem::from(GatewayProblem::MethodNotAllowed)
}

/// Payouts' Stripe Connect transfers through payments' Stripe client: a refusal is final (the
/// payout fails, its money goes back), an outage is retried with the same key. Stripe's
/// transfer webhooks are checked with payments' signature scheme and the Stripe secrets.
struct StripeConnect {
    stripe: mercato_payments::StripeProvider,
    webhook_secrets: Vec<String>,
    tolerance_secs: i64,
}

#[async_trait::async_trait]
impl mercato_payouts::providers::Connect for StripeConnect {
    async fn transfer(
        &self,
        t: &mercato_payouts::providers::Transfer<'_>,
    ) -> Result<mercato_payouts::providers::Sent, String> {
        use mercato_payouts::providers::Sent;
        let Some(destination) = t.destination else {
            return Ok(Sent::Refused(
                "the vendor's payout account names no connected account".into(),
            ));
        };
        match self
            .stripe
            .transfer(
                t.tenant,
                destination,
                t.amount,
                t.group.as_deref(),
                &t.idempotency_key,
            )
            .await
        {
            Ok(made) => Ok(Sent::Paid(made.provider_ref)),
            Err(mercato_payments::ProviderError::Unavailable(why)) => Err(why),
            Err(refused) => Ok(Sent::Refused(refused.to_string())),
        }
    }

    fn verify_webhook(
        &self,
        signature: &str,
        body: &[u8],
    ) -> Result<(), mercato_payouts::providers::WebhookRefused> {
        use mercato_payouts::providers::WebhookRefused;
        if self.webhook_secrets.is_empty() {
            return Err(WebhookRefused::NoEndpoint);
        }
        mercato_payments::signature::verify(
            signature,
            body,
            &self.webhook_secrets,
            chrono::Utc::now().timestamp(),
            self.tolerance_secs,
        )
        .map(|_| ())
        .map_err(|e| WebhookRefused::BadSignature(e.to_string()))
    }
}

/// Keeps the host cache honest: a changed shop or domain drops its cached resolutions.
struct HostCacheInvalidator(Gateway);

#[async_trait::async_trait]
impl Handler for HostCacheInvalidator {
    async fn handle(&self, _event: &Envelope) -> Result<(), HandlerError> {
        self.0.forget().await;
        Ok(())
    }
}

#[derive(Clone)]
struct Readiness {
    /// The databases of the services this process runs, by service.
    dbs: Vec<(&'static str, Db)>,
    /// Those of them with an outbox (every service that publishes events; accounting only
    /// consumes).
    outboxes: Vec<(&'static str, Db)>,
    cache: Option<Cache>,
    bus: Arc<dyn Bus>,
}

/// `/healthz` on the main listener: it only says the process serves HTTP.
fn with_liveness(router: Router) -> Router {
    router.route("/healthz", get(alive))
}

async fn alive() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// The admin listener's router: `/readyz`, `/metrics` (shapes with the gateway),
/// `/events/pending`, and `/healthz` too, so one port can serve every probe.
fn admin(readiness: Readiness, metrics: Option<Arc<Metrics>>) -> Router {
    let router = Router::new()
        .route("/healthz", get(alive))
        .route(
            "/events/pending",
            get(events_pending).with_state(readiness.clone()),
        )
        .route("/readyz", get(ready).with_state(readiness));
    let router = match metrics {
        Some(metrics) => router.route("/metrics", get(render_metrics).with_state(metrics)),
        None => router,
    };
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn ready(
    State(readiness): State<Readiness>,
) -> Result<axum::Json<serde_json::Value>, Problem> {
    for (_, db) in &readiness.dbs {
        db.ping().await.map_err(|e| {
            tracing::warn!(error = %e, "database not ready");
            Problem::of(GatewayProblem::NotReady, "a database is not reachable")
        })?;
    }
    if !readiness.bus.is_ready() {
        tracing::warn!("event bus not ready");
        return Err(Problem::of(
            GatewayProblem::NotReady,
            "the event bus is not connected",
        ));
    }
    if let Some(cache) = &readiness.cache {
        cache.ping().await.map_err(|e| {
            tracing::warn!(error = %e, "cache not ready");
            Problem::of(GatewayProblem::NotReady, "the cache is not reachable")
        })?;
    }
    Ok(axum::Json(serde_json::json!({ "status": "ready" })))
}

/// `/events/pending`: what this process has not finished of the events published so far:
/// each of its services' outbox (rows not relayed yet, and the last sequence number, which
/// only grows) and its consumers' queues and deliveries in hand. `settled` is all of them at
/// zero. One answer is a snapshot: a caller that wants to know that everything published
/// was handled (a test's barrier, an operator before a maintenance) asks every process until
/// two answers in a row are settled with the same sequence numbers.
async fn events_pending(
    State(readiness): State<Readiness>,
) -> Result<axum::Json<serde_json::Value>, Problem> {
    let mut outboxes = serde_json::Map::new();
    let mut settled = true;
    for (service, db) in &readiness.outboxes {
        let state = mercato_events::outbox_state(db)
            .await
            .map_err(|e| Problem::internal(anyhow::anyhow!("outbox of {service}: {e}")))?;
        settled &= state.unpublished == 0;
        outboxes.insert(
            (*service).to_owned(),
            serde_json::to_value(state).map_err(Problem::internal)?,
        );
    }
    let bus = readiness.bus.pending().await.map_err(|e| {
        tracing::warn!(error = %e, "cannot count the bus's pending events");
        Problem::of(GatewayProblem::NotReady, "the event bus cannot be asked")
    })?;
    settled &= bus.queued == 0 && bus.in_flight == 0;
    Ok(axum::Json(serde_json::json!({
        "settled": settled,
        "outboxes": outboxes,
        "bus": bus,
    })))
}

async fn render_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}
