//! Starting the platform for a test, on embedded backends or on the real servers.

use mercato_gateway::app::{self, Shape};
use mercato_gateway::config::{BusKind, Config};
use mercato_identity::domain::{AccountRole, Realm};
use mercato_tenant_context::{Role, TenantId};
use mercato_testkit::{Client, TestDns, unique};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "correct horse battery";
pub const PLATFORM: &str = "platform.localhost";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite files, in-process bus, in-memory cache.
    Embedded,
    /// PostgreSQL, Redis and RabbitMQ from the MERCATO_TEST_* variables.
    Real,
    /// The split shape on the real servers: `mercato serve --only tenants,identity` and
    /// `mercato gateway` as separate processes.
    Split,
}

pub struct TestApp {
    pub client: Client,
    /// The admin listener (`/readyz`, `/metrics`), on its own free port.
    pub admin: Client,
    /// The split shape's services process's admin listener (for `settle`).
    services_admin: Option<Client>,
    /// Signs contexts as the gateway does (the deployment's internal key).
    pub context_key: mercato_tenant_context::ContextKey,
    /// Where a test reaches one service directly, bypassing the gateway.
    services_at: ServicesAt,
    /// The process-wide test DNS server (see `TestDns::shared`).
    pub dns: &'static TestDns,
    pub tenants_db: mercato_db::Db,
    pub identity_db: mercato_db::Db,
    /// The platform's configuration (for the split shape: the gateway's, naming the
    /// services process as every upstream).
    pub config: Config,
    shutdown: CancellationToken,
    /// The split shape's processes, killed when the app is dropped.
    _processes: Vec<tokio::process::Child>,
    /// The split shape's config file and services address, to start the services again.
    services: Option<(std::path::PathBuf, std::net::SocketAddr)>,
    /// The schemas and bucket this app made on the real servers, removed with it.
    leftovers: Option<Leftovers>,
    _dir: tempfile::TempDir,
}

/// What a test app made on the real servers and removes when it is dropped: its PostgreSQL
/// schemas (one per service, under the app's own prefix) and its S3 bucket.
struct Leftovers {
    /// The owner's URL and the schema names.
    schemas: Option<(String, Vec<String>)>,
    bucket: Option<mercato_storage::S3Config>,
}

impl Leftovers {
    fn of(config: &Config) -> Self {
        // Whoever created the schemas: the owner when migrations ran as one.
        let owner = if config.database.migrate_url.is_empty() {
            &config.database.url
        } else {
            &config.database.migrate_url
        };
        let schemas = (!owner.is_empty()).then(|| {
            let names = mercato_gateway::routes::SERVICES
                .iter()
                .map(|service| format!("{}{service}", config.database.schema_prefix))
                .collect();
            (owner.clone(), names)
        });
        let bucket = (config.storage.kind == mercato_storage::StorageKind::S3)
            .then(|| config.storage.s3.clone());
        Self { schemas, bucket }
    }

    /// Removes them, on a thread and runtime of its own (`Drop` cannot await, and the test's
    /// runtime may be ending). Best effort: a failure is reported, not raised, and the next
    /// `.ci/run` starts from an empty database anyway.
    fn remove_now(self) {
        if self.schemas.is_none() && self.bucket.is_none() {
            return;
        }
        let removed = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut failures = Vec::new();
                if let Some((url, names)) = &self.schemas
                    && let Err(e) = drop_schemas(url, names).await
                {
                    failures.push(format!("could not drop the test schemas: {e:#}"));
                }
                if let Some(s3) = &self.bucket {
                    let client = mercato_testkit::s3::client(
                        &s3.endpoint,
                        &s3.region,
                        &s3.access_key_id,
                        s3.secret_access_key.expose(),
                    );
                    if let Err(e) = mercato_testkit::s3::remove_bucket(&client, &s3.bucket).await {
                        failures.push(format!("could not remove the test bucket: {e:#}"));
                    }
                }
                if failures.is_empty() {
                    Ok(())
                } else {
                    Err(anyhow::anyhow!(failures.join("; ")))
                }
            })
        })
        .join();
        match removed {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("{e:#}"),
            Err(_) => eprintln!("removing the test app's schemas and bucket panicked"),
        }
    }
}

pub(crate) async fn drop_schemas(url: &str, names: &[String]) -> anyhow::Result<()> {
    let target = mercato_db::DbTarget::Postgres {
        url,
        schema: "public",
    };
    let db = mercato_db::Db::connect(target, 1).await?;
    // A task of the app that is still finishing a transaction holds its locks for a moment;
    // a stuck one must not hang the test run.
    let sql = format!(
        "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {} CASCADE",
        names.join(", ")
    );
    sea_orm::ConnectionTrait::execute_unprepared(db.raw_connection(), &sql).await?;
    db.close().await?;
    Ok(())
}

/// The services behind the gateway: in this process, or the split shape's services process.
enum ServicesAt {
    InProcess(std::collections::BTreeMap<&'static str, axum::Router>),
    Remote(Client),
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        for process in &mut self._processes {
            let _ = process.start_kill();
        }
        if let Some(leftovers) = self.leftovers.take() {
            leftovers.remove_now();
        }
    }
}

/// The real servers' settings, or `None` (with a SKIPPED line) when the run has none.
fn real_backends(test: &str) -> Option<(String, String, String)> {
    let pg = mercato_testkit::backend(mercato_testkit::POSTGRES, test)?;
    let redis = mercato_testkit::backend(mercato_testkit::REDIS, test)?;
    let amqp = mercato_testkit::backend(mercato_testkit::AMQP, test)?;
    Some((pg, redis, amqp))
}

/// The test payment provider's webhook secret in every test app.
pub const TEST_WEBHOOK_SECRET: &str = "whsec_mercato_test";

pub fn test_config(
    backend: Backend,
    dir: &std::path::Path,
    dns: &TestDns,
    test: &str,
) -> Option<Config> {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    config.database.max_connections = 4;
    // Parallel apps must not share an admin port.
    config.admin_listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    // Shoppers in tests pay with test cards, on every backend; tests sign their own
    // provider webhooks with this secret.
    config.orders.test_provider = true;
    config.orders.allow_test_payments = true;
    config.orders.test_webhook_secret = TEST_WEBHOOK_SECRET.into();
    config.orders.test_webhook_delay_ms = 500;
    // No payment fees, so the ledger tests' hand calculations hold; `reconciliation.rs`
    // turns the default fee on.
    config.orders.test_fee = mercato_payments::TestFee::NONE;
    // Every test client is 127.0.0.1: the per-address limits of the platform host and of
    // host resolution would count all of one test's admin calls and new shops as one
    // client's. `limits.rs` tests them with small values.
    config.gateway.unscoped_requests_per_second = 10_000;
    config.gateway.host_resolutions_per_second = 10_000;
    config.tenants.dns.nameservers = vec![dns.addr];
    config.tenants.dns.timeout_ms = 1_000;
    config.tenants.domain_checks.max_attempts = 100;
    config.tenants.domain_checks.first_retry_ms = 50;
    config.tenants.domain_checks.max_retry_secs = 1;
    if backend != Backend::Embedded {
        let (pg, redis, amqp) = real_backends(test)?;
        config.database.url = pg;
        // Each test app owns its schemas: no other app's relay or worker takes its events/jobs.
        config.database.schema_prefix = unique("t").replace('-', "") + "_";
        config.cache.redis_url = redis;
        config.cache.namespace = unique("test");
        config.bus.kind = BusKind::Amqp;
        config.bus.amqp_url = amqp;
        config.bus.exchange = unique("mercato-test-");
        // Object storage on the S3 server when one is configured (CI has one), each test
        // app with its own bucket.
        if let Ok(endpoint) = std::env::var(mercato_testkit::S3) {
            config.storage.kind = mercato_storage::StorageKind::S3;
            config.storage.s3 = mercato_storage::S3Config {
                endpoint,
                region: "us-east-1".into(),
                bucket: unique("mercato-test-"),
                access_key_id: std::env::var(mercato_testkit::S3_ACCESS_KEY).unwrap_or_default(),
                secret_access_key: mercato_kernel::Secret::new(
                    std::env::var(mercato_testkit::S3_SECRET_KEY).unwrap_or_default(),
                ),
            };
        }
    }
    if backend == Backend::Split {
        // Separate processes must share their keys.
        config.auth.signing_keys = vec![mercato_auth::SigningKey {
            kid: "test-1".into(),
            secret: mercato_kernel::Secret::new(unique("signing-key-0123456789abcdef-")),
        }];
        config.auth.internal_key =
            mercato_kernel::Secret::new(unique("internal-key-0123456789abcdef-"));
    }
    Some(config)
}

impl TestApp {
    /// Starts the whole platform (all-in-one shape) on a free loopback port.
    pub async fn spawn(backend: Backend, test: &str) -> Option<Self> {
        Self::spawn_with(backend, test, |_| {}).await
    }

    pub async fn spawn_with(
        backend: Backend,
        test: &str,
        adjust: impl FnOnce(&mut Config),
    ) -> Option<Self> {
        Self::start(backend, test, adjust, false).await
    }

    /// Starts the all-in-one shape as `mercato serve --demo` does (embedded or real servers).
    pub async fn spawn_demo(backend: Backend, test: &str) -> Option<Self> {
        Self::start(backend, test, |_| {}, true).await
    }

    async fn start(
        backend: Backend,
        test: &str,
        adjust: impl FnOnce(&mut Config),
        demo: bool,
    ) -> Option<Self> {
        mercato_kernel::telemetry::init(
            mercato_kernel::telemetry::LogFormat::Pretty,
            "error,mercato_jobs=off",
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let dns = TestDns::shared().expect("dns server");
        let mut config = test_config(backend, dir.path(), dns, test)?;
        adjust(&mut config);
        if backend == Backend::Split {
            return Some(Self::spawn_split(config, dir, dns).await);
        }
        let shutdown = CancellationToken::new();
        let running = app::start(&config, Shape::AllInOne, demo, shutdown.clone())
            .await
            .expect("platform starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = running.router.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            let _ = axum::serve(listener, service)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        });
        let admin_listener = tokio::net::TcpListener::bind(config.admin_listen)
            .await
            .expect("bind the admin listener");
        let admin_addr = admin_listener.local_addr().expect("admin addr");
        let admin_router = running.admin_router.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(admin_listener, admin_router)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        });
        let tenants_db = running.tenants_db.clone().expect("tenants db");
        let identity_db = running.identity_db.clone().expect("identity db");
        // The background tasks stop with `shutdown`; they live in this JoinSet until then.
        tokio::spawn(async move {
            let mut tasks = running.tasks;
            while tasks.join_next().await.is_some() {}
        });
        Some(Self {
            client: Client::new(addr),
            admin: Client::new(admin_addr),
            services_admin: None,
            context_key: running.context_key.clone(),
            services_at: ServicesAt::InProcess(running.services.clone()),
            dns,
            tenants_db,
            identity_db,
            config: config.clone(),
            shutdown,
            _processes: Vec::new(),
            services: None,
            leftovers: Some(Leftovers::of(&config)),
            _dir: dir,
        })
    }

    /// Starts the services and the gateway as two `mercato` processes sharing a config file.
    async fn spawn_split(
        mut config: Config,
        dir: tempfile::TempDir,
        dns: &'static TestDns,
    ) -> Self {
        // Each process binds port 0 and says where it listens: a port picked here and
        // released could be taken by another test's process before ours binds it, and
        // that process would then answer for ours.
        let file = dir.path().join("mercato.toml");
        std::fs::write(&file, toml::to_string(&config).expect("config as toml"))
            .expect("write config");
        let any_port = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let mut services = start_services(&file, dir.path(), any_port, "services");
        let (services_addr, services_admin) =
            wait_listening(&mut services, dir.path(), "services").await;
        wait_healthy(services_addr, dir.path(), "services").await;
        let upstream = format!("http://{services_addr}");
        config.gateway.upstreams = [
            ("tenants".to_owned(), upstream.clone()),
            ("identity".to_owned(), upstream.clone()),
            ("vendors".to_owned(), upstream.clone()),
            ("catalog".to_owned(), upstream.clone()),
            ("inventory".to_owned(), upstream.clone()),
            ("orders".to_owned(), upstream.clone()),
            ("accounting".to_owned(), upstream.clone()),
            ("payouts".to_owned(), upstream),
        ]
        .into();
        std::fs::write(&file, toml::to_string(&config).expect("config as toml"))
            .expect("write config");
        let mut gateway = start_process(
            &file,
            dir.path(),
            "gateway",
            &[
                "gateway",
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0",
            ],
        );
        let (gateway_addr, admin_addr) = wait_listening(&mut gateway, dir.path(), "gateway").await;
        wait_healthy(gateway_addr, dir.path(), "gateway").await;
        let connect = |service: &'static str| {
            let url = config.database.url.clone();
            let schema = format!("{}{service}", config.database.schema_prefix);
            async move {
                let target = mercato_db::DbTarget::Postgres {
                    url: &url,
                    schema: &schema,
                };
                mercato_db::Db::connect(target, 2).await.expect("connect")
            }
        };
        let tenants_db = connect("tenants").await;
        let identity_db = connect("identity").await;
        Self {
            client: Client::new(gateway_addr),
            admin: Client::new(admin_addr),
            services_admin: Some(Client::new(services_admin)),
            context_key: mercato_tenant_context::ContextKey::new(
                config.auth.internal_key.expose().as_bytes(),
            ),
            services_at: ServicesAt::Remote(Client::new(services_addr)),
            dns,
            tenants_db,
            identity_db,
            config: config.clone(),
            shutdown: CancellationToken::new(),
            _processes: vec![services, gateway],
            services: Some((file, services_addr)),
            leftovers: Some(Leftovers::of(&config)),
            _dir: dir,
        }
    }

    /// The PostgreSQL schemas (owner's URL, names) and the S3 bucket this app made, which
    /// go when it is dropped; `None` for what it keeps embedded.
    pub fn made_on_servers(
        &self,
    ) -> (
        Option<(String, Vec<String>)>,
        Option<mercato_storage::S3Config>,
    ) {
        let leftovers = self.leftovers.as_ref().expect("until dropped");
        (leftovers.schemas.clone(), leftovers.bucket.clone())
    }

    /// A new token of `email` (signed in with [`PASSWORD`]) that carries its membership of
    /// `vendor`, checked on `/api/v1/auth/me`. Identity learns the membership from
    /// `vendor.applied`, so the caller has settled the events; a sign-in reads memberships
    /// afresh.
    pub async fn member_token(&self, host: &str, email: &str, vendor: &str) -> String {
        let token = self.login(host, email, PASSWORD).await;
        let me = self
            .client
            .get(host, "/api/v1/auth/me", Some(&token))
            .await
            .unwrap();
        assert_eq!(
            me.body["vendors"][0]["vendor"], vendor,
            "a token with the vendor membership: {}",
            me.text
        );
        token
    }

    /// A connection of `service`'s own database (its SQLite file, or its schema), as the
    /// service's operator would open one.
    pub async fn service_db(&self, service: &str) -> mercato_db::Db {
        let target_schema = format!("{}{service}", self.config.database.schema_prefix);
        let file = self.config.data_dir.join(format!("{service}.db"));
        let target = if self.config.database.url.is_empty() {
            mercato_db::DbTarget::Sqlite(&file)
        } else {
            mercato_db::DbTarget::Postgres {
                url: &self.config.database.url,
                schema: &target_schema,
            }
        };
        mercato_db::Db::connect(target, 2)
            .await
            .expect("connect to the service's database")
    }

    /// Runs `mercato <args>` with this app's configuration, as an operator beside the running
    /// platform would; panics with its output unless it succeeds, and returns what it said.
    pub async fn run_cli(&self, args: &[&str]) -> String {
        let file = self._dir.path().join("cli.toml");
        std::fs::write(
            &file,
            toml::to_string(&self.config).expect("config as toml"),
        )
        .expect("write config");
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_mercato"))
            .arg("--config")
            .arg(&file)
            .args(args)
            .env("MERCATO_LOG__FILTER", "warn")
            .output()
            .await
            .expect("run mercato");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "mercato {args:?} failed: {said}");
        said
    }

    /// Kills the split shape's services process with SIGKILL (no shutdown: whatever it was
    /// doing stops there), starts it again with the same config file and address (logging to
    /// `services.restarted.log`), and waits until it answers.
    pub async fn restart_services(&mut self) {
        let (file, addr) = self
            .services
            .clone()
            .expect("only the split shape has processes");
        self._processes[0]
            .kill()
            .await
            .expect("kill the services process");
        let name = "services.restarted";
        // The gateway knows the services by this address, so the new process must get it
        // back; it exits (and this panics) if something else took it meanwhile.
        self._processes[0] = start_services(&file, self._dir.path(), addr, name);
        let (_, admin) = wait_listening(&mut self._processes[0], self._dir.path(), name).await;
        self.services_admin = Some(Client::new(admin));
        wait_healthy(addr, self._dir.path(), name).await;
    }

    /// The admin listener of the process that runs the services: the split shape's services
    /// process, or the one process of the others.
    pub fn services_admin(&self) -> &Client {
        self.services_admin.as_ref().unwrap_or(&self.admin)
    }

    /// The barrier: waits until every consumer has handled every event published so far,
    /// on every backend and shape. It asks each process's admin listener for
    /// `/events/pending` (outboxes, the bus's queues and deliveries in hand) until two
    /// answers in a row, 20 ms apart, are settled with the same outbox sequence numbers: no
    /// event waiting or in hand, and none published between the two. Panics after 30 s with
    /// the last answers. Use it instead of polling a mirror's content.
    pub async fn settle(&self) {
        let admins: Vec<&Client> = std::iter::once(&self.admin)
            .chain(self.services_admin.as_ref())
            .collect();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut last_settled: Option<Vec<serde_json::Value>> = None;
        loop {
            let mut answers = Vec::with_capacity(admins.len());
            let mut settled = true;
            for admin in &admins {
                let reply = admin
                    .get("localhost", "/events/pending", None)
                    .await
                    .expect("/events/pending answers");
                assert_eq!(reply.status, 200, "/events/pending: {}", reply.text);
                settled &= reply.body["settled"] == true;
                answers.push(reply.body);
            }
            if settled {
                let sequences: Vec<serde_json::Value> =
                    answers.iter().map(|a| a["outboxes"].clone()).collect();
                if last_settled.as_ref() == Some(&sequences) {
                    return;
                }
                last_settled = Some(sequences);
            } else {
                last_settled = None;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "events did not settle within 30 s: {answers:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// What the split shape's processes logged (warnings and errors), for failure messages.
    pub fn process_logs(&self) -> String {
        ["services", "services.restarted", "gateway"]
            .iter()
            .map(|name| {
                let log = std::fs::read_to_string(self._dir.path().join(format!("{name}.log")));
                format!("--- {name}.log\n{}", log.unwrap_or_default())
            })
            .collect()
    }

    /// Sends `method path` straight to the services (not through the gateway) with a
    /// context signed by the deployment's key, as a client's request would arrive if it got
    /// past the gateway's routing; `body` is JSON.
    pub async fn call_service(
        &self,
        service: &'static str,
        method: &str,
        path: &str,
        context: &mercato_tenant_context::RequestContext,
        body: Option<&Value>,
    ) -> mercato_testkit::Reply {
        let signed = self.context_key.sign(context);
        let mut headers = vec![(mercato_tenant_context::CONTEXT_HEADER, signed.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        match &self.services_at {
            ServicesAt::Remote(client) => client
                .send_raw(method, "localhost", path, &headers, bytes)
                .await
                .expect("call the services process"),
            ServicesAt::InProcess(routers) => {
                use tower::ServiceExt as _;
                let router = routers.get(service).expect("a service of this app").clone();
                let mut request = axum::http::Request::builder().method(method).uri(path);
                for (name, value) in &headers {
                    request = request.header(*name, *value);
                }
                let request = request
                    .body(axum::body::Body::from(bytes))
                    .expect("request");
                let response = router.oneshot(request).await.expect("infallible");
                let status = response.status().as_u16();
                let mut headers = reqwest::header::HeaderMap::new();
                for (name, value) in response.headers() {
                    headers.append(name.clone(), value.clone());
                }
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("body");
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let body = serde_json::from_str(&text).unwrap_or(Value::Null);
                mercato_testkit::Reply {
                    status,
                    headers,
                    body,
                    text,
                }
            }
        }
    }

    /// Where the identity service files mail in every shape (`<data_dir>/mail`).
    pub fn mail_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("mail")
    }

    /// Creates a platform admin and signs in on the platform host.
    pub async fn admin_token(&self) -> String {
        let email = format!("{}@platform.localhost", unique("admin"));
        mercato_identity::ensure_account(
            &self.identity_db,
            Realm::Platform,
            &email,
            PASSWORD,
            AccountRole::PlatformAdmin,
        )
        .await
        .expect("admin account");
        self.login(PLATFORM, &email, PASSWORD).await
    }

    pub async fn login(&self, host: &str, email: &str, password: &str) -> String {
        let reply = self
            .client
            .post(
                host,
                "/api/v1/auth/login",
                None,
                &json!({ "email": email, "password": password }),
            )
            .await
            .expect("login");
        assert_eq!(reply.status, 200, "login on {host}: {}", reply.text);
        reply.str("access_token")
    }

    /// A new shop with an owner signed in.
    pub async fn shop(&self, admin: &str, plan: &str) -> Shop {
        let slug = unique("shop-");
        let reply = self
            .client
            .post(PLATFORM, "/api/v1/admin/shops", Some(admin), &json!({
                "name": format!("Shop {slug}"), "slug": slug, "default_currency": "EUR", "plan": plan,
                "timezone": "Europe/Berlin", "locale": "de-DE"
            }))
            .await
            .expect("create shop");
        assert_eq!(reply.status, 201, "{}", reply.text);
        let id: TenantId = reply.str("id").parse().expect("shop id");
        let host = format!("{slug}.localhost");
        let owner_email = format!("owner@{host}");
        mercato_identity::ensure_account(
            &self.identity_db,
            Realm::Shop(id),
            &owner_email,
            PASSWORD,
            AccountRole::Shop(Role::Owner),
        )
        .await
        .expect("owner");
        let owner = self.login(&host, &owner_email, PASSWORD).await;
        Shop {
            id,
            slug,
            host,
            owner,
            body: reply.body,
        }
    }
}

impl TestApp {
    /// Registers a customer on the shop and signs them in; returns their email and token.
    pub async fn customer(&self, shop: &Shop) -> (String, String) {
        let email = format!("{}@example.test", unique("customer-"));
        let reply = self
            .client
            .post(
                &shop.host,
                "/api/v1/auth/register",
                None,
                &json!({ "email": email, "password": PASSWORD }),
            )
            .await
            .expect("register");
        assert_eq!(reply.status, 201, "register: {}", reply.text);
        let token = self.login(&shop.host, &email, PASSWORD).await;
        (email, token)
    }
}

pub struct Shop {
    pub id: TenantId,
    pub slug: String,
    pub host: String,
    pub owner: String,
    pub body: Value,
}

/// `mercato serve` with every service the split shape's gateway forwards to.
fn start_services(
    config: &std::path::Path,
    dir: &std::path::Path,
    addr: std::net::SocketAddr,
    name: &str,
) -> tokio::process::Child {
    let only = "tenants,identity,vendors,catalog,inventory,orders,accounting,payouts";
    let listen = addr.to_string();
    let args = ["serve", "--only", only, "--listen", &listen];
    start_process(config, dir, name, &args)
}

fn start_process(
    config: &std::path::Path,
    dir: &std::path::Path,
    name: &str,
    args: &[&str],
) -> tokio::process::Child {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).expect("log file");
    tokio::process::Command::new(env!("CARGO_BIN_EXE_mercato"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("MERCATO_LOG__FILTER", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("start mercato")
}

/// The addresses (main, admin) a started process says it listens on; panics with its log
/// if it exits first or does not say within 30 s.
async fn wait_listening(
    child: &mut tokio::process::Child,
    dir: &std::path::Path,
    name: &str,
) -> (std::net::SocketAddr, std::net::SocketAddr) {
    let path = dir.join(format!("{name}.log"));
    for _ in 0..300 {
        let log = std::fs::read_to_string(&path).unwrap_or_default();
        let said = log.lines().find_map(|line| {
            let rest = line.strip_prefix("mercato listening on ")?;
            let (main, admin) = rest.split_once(", admin on ")?;
            Some((main.parse().ok()?, admin.trim().parse().ok()?))
        });
        if let Some(addrs) = said {
            return addrs;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the {name} process exited ({status}) before listening:\n{log}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(&path).unwrap_or_default();
    panic!("the {name} process did not say where it listens:\n{log}");
}

async fn wait_healthy(addr: std::net::SocketAddr, dir: &std::path::Path, name: &str) {
    let client = Client::new(addr);
    for _ in 0..300 {
        if client
            .get("localhost", "/healthz", None)
            .await
            .is_ok_and(|r| r.status == 200)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
    panic!("the {name} process did not become healthy:\n{log}");
}

/// Waits (bounded) until `check` holds, polling; returns the last value.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F, check: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
    T: std::fmt::Debug,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let value = probe().await;
        if check(&value) || std::time::Instant::now() > deadline {
            assert!(
                check(&value),
                "timed out waiting for {what}: last {value:?}"
            );
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Runs one scenario on every shape: `embedded` always, `real` and `split` (the gateway and
/// the services as separate processes, on the real servers) when configured. For scenarios
/// whose requests take a path through the gateway's proxy that no other scenario takes
/// (headers, uploads, raw webhook bodies, PDFs, sessions, limits); the others run on
/// [`on_embedded_and_real`] (ADR 0046).
#[macro_export]
macro_rules! on_all_backends {
    ($name:ident) => {
        $crate::on_shapes!($name: Embedded embedded, Real real, Split split);
    };
}

/// Runs one scenario on the embedded backends and on the real servers (all-in-one shape):
/// for scenarios about what the services do, whose requests the split shape's proxy passes
/// through as other scenarios' already prove (ADR 0046).
#[macro_export]
macro_rules! on_embedded_and_real {
    ($name:ident) => {
        $crate::on_shapes!($name: Embedded embedded, Real real);
    };
}

/// A module `$name` with one test per listed shape (`Backend` variant, test name), each
/// running scenario `$name` on it.
#[macro_export]
macro_rules! on_shapes {
    ($name:ident: $($backend:ident $test:ident),+) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$name(
                        $crate::support::Backend::$backend,
                        concat!(stringify!($name), "::", stringify!($test)),
                    )
                    .await;
                }
            )+
        }
    };
}

impl TestApp {
    /// A vendor of `shop` taken through onboarding (apply, accept, checklist completed or
    /// overridden, submit, approve) by a new shopper: (vendor id, the shopper's token).
    pub async fn approved_vendor(&self, shop: &Shop, name: &str) -> (String, String) {
        let (vendor, _, seller) = self.approved_vendor_account(shop, name).await;
        (vendor, seller)
    }

    /// Like `approved_vendor`, with the shopper's email too (to sign in again once their
    /// token should carry the vendor membership): (vendor id, email, token).
    pub async fn approved_vendor_account(
        &self,
        shop: &Shop,
        name: &str,
    ) -> (String, String, String) {
        let (email, seller) = self.customer(shop).await;
        let host = shop.host.as_str();
        let applied = self
            .client
            .post(
                host,
                "/api/v1/vendors",
                Some(&seller),
                &json!({
                    "store_name": name,
                    "legal_entity": format!("{name} GmbH"),
                    "country": "DE",
                    "contact_email": "sales@example.test",
                }),
            )
            .await
            .expect("apply");
        assert_eq!(applied.status, 201, "apply: {}", applied.text);
        let vendor = applied.str("id");
        let path = format!("/api/v1/vendors/{vendor}");
        let step = |token: &str, suffix: &str, method: &'static str, body: Value| {
            let url = format!("{path}{suffix}");
            let token = token.to_owned();
            async move {
                let reply = self
                    .client
                    .send(method, host, &url, Some(&token), Some(&body))
                    .await
                    .expect("vendor step");
                assert!(reply.status < 300, "{method} {url}: {}", reply.text);
            }
        };
        let owner = shop.owner.as_str();
        step(owner, "/transitions", "POST", json!({ "action": "accept" })).await;
        for (code, body) in [
            ("business_details", json!({ "value": "HRB 1, Hamburg" })),
            ("tax_id", json!({ "value": "DE123456789" })),
            ("terms_accepted", json!({ "accepted": true })),
        ] {
            step(&seller, &format!("/checklist/{code}"), "PUT", body).await;
        }
        for code in ["registration_document", "payout_account"] {
            let reason = json!({ "reason": "checked by phone" });
            step(
                owner,
                &format!("/checklist/{code}/override"),
                "POST",
                reason,
            )
            .await;
        }
        step(
            &seller,
            "/transitions",
            "POST",
            json!({ "action": "submit" }),
        )
        .await;
        step(
            owner,
            "/transitions",
            "POST",
            json!({ "action": "approve" }),
        )
        .await;
        // Identity learns the membership from `vendor.applied` on the bus (the barrier waits
        // for it): a sign-in before that issues a token without it, and the vendor's later calls to services that read
        // memberships from the token (orders) are 404s. This was the intermittent 404 of a
        // vendor's ship under CI load (issue 13, item 16).
        self.settle().await;
        let me = self
            .client
            .get(host, "/api/v1/auth/me", Some(&seller))
            .await
            .expect("me");
        assert!(
            me.body["vendors"]
                .as_array()
                .is_some_and(|v| v.iter().any(|m| m["vendor"] == vendor.as_str())),
            "identity knows the vendor's owner: {}",
            me.text
        );
        (vendor, email, seller)
    }
}

/// The `id`s of a list response's `data`.
pub fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The field paths a problem response names.
pub fn error_fields(reply: &mercato_testkit::Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A vendor application body for a store called `name`.
pub fn application(name: &str) -> Value {
    json!({
        "store_name": name,
        "legal_entity": format!("{name} GmbH"),
        "country": "DE",
        "contact_email": "sales@example.test",
    })
}

impl TestApp {
    /// A vendor applied for by a new customer of `shop`: (vendor id, email, token). The token
    /// predates the owner membership (the vendors service knows the owner from its row).
    pub async fn applied_vendor(&self, shop: &Shop, name: &str) -> (String, String, String) {
        let (email, seller) = self.customer(shop).await;
        let applied = self
            .client
            .post(
                &shop.host,
                "/api/v1/vendors",
                Some(&seller),
                &application(name),
            )
            .await
            .expect("apply");
        assert_eq!(applied.status, 201, "{}", applied.text);
        (applied.str("id"), email, seller)
    }

    /// Like `applied_vendor`, once identity has recorded the applicant as the vendor's owner;
    /// returns a fresh token that carries the membership: (vendor id, token).
    pub async fn vendor_with_owner(&self, shop: &Shop, name: &str) -> (String, String) {
        let (vendor, email, seller) = self.applied_vendor(shop, name).await;
        self.settle().await;
        let me = self
            .client
            .get(&shop.host, "/api/v1/auth/me", Some(&seller))
            .await
            .expect("me");
        assert_eq!(
            me.body["vendors"][0]["vendor"],
            vendor.as_str(),
            "the owner membership: {}",
            me.text
        );
        let token = self.login(&shop.host, &email, PASSWORD).await;
        (vendor, token)
    }
}
