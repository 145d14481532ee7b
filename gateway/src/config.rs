//! `mercato`'s configuration: compiled-in defaults, then `mercato.toml`, then `MERCATO_…`
//! environment variables (see `mercato_kernel::config`).

use mercato_auth::SigningKey;
use mercato_kernel::Secret;
use mercato_kernel::telemetry::LogFormat;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the HTTP server listens: the API on every shop's domain, and `/healthz`.
    pub listen: SocketAddr,
    /// Where the admin listener serves `/readyz` and `/metrics` (and `/healthz`). Never
    /// expose it on shops' domains: readiness pings every database. Port 0 picks a free
    /// port (tests).
    pub admin_listen: SocketAddr,
    /// Embedded backends keep their files here (SQLite databases, mail, generated keys).
    pub data_dir: PathBuf,
    pub log: LogConfig,
    pub database: DatabaseConfig,
    pub bus: BusConfig,
    pub cache: CacheConfig,
    pub auth: AuthConfig,
    pub gateway: GatewayConfig,
    pub tenants: mercato_tenants::TenantsConfig,
    pub identity: mercato_identity::IdentityConfig,
    /// Object storage: local files under `<data_dir>/objects`, or an S3 bucket.
    pub storage: mercato_storage::StorageConfig,
    /// Product search: an embedded index under `<data_dir>/search` (one process only), or
    /// a Meilisearch server.
    pub search: mercato_search::SearchConfig,
    /// Buying: default shop settings and payment providers.
    pub orders: mercato_orders::OrdersConfig,
    /// Payouts: how runs are carried out.
    #[serde(default)]
    pub payouts: mercato_payouts::PayoutsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// An `EnvFilter` directive, e.g. `info,mercato_gateway=debug`.
    pub filter: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// A PostgreSQL URL; each service then uses its own schema in it. Empty: SQLite files
    /// under `data_dir`.
    pub url: String,
    /// Prepended to each service's schema name on PostgreSQL (`tenants` → `<prefix>tenants`),
    /// so several deployments (or test runs) can share one database.
    pub schema_prefix: String,
    pub max_connections: u32,
    /// PostgreSQL only: the URL of the role that owns the services' schemas, used for
    /// migrations alone. When set, `url`'s role only reads and writes (it is granted that
    /// after each migration) and needs no right to create anything. Empty: `url`'s role
    /// migrates too.
    pub migrate_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusKind {
    InProcess,
    Amqp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusConfig {
    pub kind: BusKind,
    pub amqp_url: String,
    pub exchange: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// A Redis URL; empty: an in-memory cache per process.
    pub redis_url: String,
    pub namespace: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Access-token signing keys; the first issues, all verify. Empty: a key is generated
    /// once and kept in `<data_dir>/secrets.toml` (the embedded shape).
    pub signing_keys: Vec<SigningKey>,
    pub access_token_ttl_secs: i64,
    /// Signs the context the gateway forwards to services. Empty: generated like the keys.
    pub internal_key: Secret,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// In the split shape: the base URL of each service (`tenants`, `identity`).
    pub upstreams: BTreeMap<String, String>,
    /// Requests per second one client address may send to one shop, on top of the shop's
    /// plan-wide limit.
    pub per_client_requests_per_second: u32,
    /// Requests per second one client address may send to the platform host and to hosts
    /// no shop answers at (burst: twice that). Sign-in on the platform host is behind it.
    pub unscoped_requests_per_second: u32,
    /// Host resolutions per second one client address may cause by naming hosts the cache
    /// does not know (burst: twice that): each is a read of the tenants database.
    pub host_resolutions_per_second: u32,
    /// Proxies (e.g. the ingress) whose `X-Forwarded-For` is believed: behind them the
    /// client is the last address they did not add. Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a host → shop resolution is cached.
    pub host_cache_ttl_secs: u64,
    /// Apply the per-shop and per-client rate limits. Off only for benchmarks that
    /// measure the gateway itself from one client address.
    pub enforce_rate_limits: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            data_dir: PathBuf::from("./data"),
            log: LogConfig {
                format: LogFormat::Pretty,
                filter: "info,sqlx=warn".into(),
            },
            database: DatabaseConfig {
                url: String::new(),
                schema_prefix: String::new(),
                max_connections: 10,
                migrate_url: String::new(),
            },
            bus: BusConfig {
                kind: BusKind::InProcess,
                amqp_url: String::new(),
                exchange: "mercato".into(),
            },
            cache: CacheConfig {
                redis_url: String::new(),
                namespace: "mercato".into(),
            },
            auth: AuthConfig {
                signing_keys: Vec::new(),
                access_token_ttl_secs: 900,
                internal_key: Secret::new(""),
            },
            gateway: GatewayConfig {
                max_body_bytes: 1024 * 1024,
                upstreams: BTreeMap::new(),
                per_client_requests_per_second: 50,
                unscoped_requests_per_second: 20,
                host_resolutions_per_second: 10,
                trusted_proxies: Vec::new(),
                host_cache_ttl_secs: 60,
                enforce_rate_limits: true,
            },
            tenants: Default::default(),
            identity: Default::default(),
            storage: Default::default(),
            search: Default::default(),
            orders: Default::default(),
            payouts: Default::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigProblem {
    #[error(transparent)]
    Load(#[from] mercato_kernel::config::ConfigError),
    #[error("invalid configuration at `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Loads the layers and checks what serde cannot.
    pub fn load(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigProblem> {
        let config: Config = mercato_kernel::config::load(&Config::default(), file, env)?;
        config.validate()?;
        Ok(config)
    }

    /// The built-in test provider marks orders paid with no money taken: on PostgreSQL (a
    /// deployment with real shops) it runs only when `orders.allow_test_payments` says so.
    pub fn test_payments_refused(&self) -> Option<ConfigProblem> {
        (self.orders.test_provider
            && !self.database.url.is_empty()
            && !self.orders.allow_test_payments)
            .then(|| ConfigProblem::Invalid {
                key: "orders.allow_test_payments",
                message: "orders.test_provider marks orders paid with no money taken; on \
                          PostgreSQL set orders.allow_test_payments = true to run it anyway \
                          (a staging deployment), or turn orders.test_provider off"
                    .to_owned(),
            })
    }

    /// The admin listener may not take the main listener's port (port 0 excepted: each
    /// listener then gets its own free port). Checked again after command-line flags.
    pub fn check_listeners(&self) -> Result<(), ConfigProblem> {
        let port = self.admin_listen.port();
        if port != 0 && port == self.listen.port() {
            return Err(ConfigProblem::Invalid {
                key: "admin_listen",
                message: format!(
                    "{} shares its port with listen ({}); give the admin listener its own",
                    self.admin_listen, self.listen
                ),
            });
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigProblem> {
        let invalid = |key, message: &str| {
            Err(ConfigProblem::Invalid {
                key,
                message: message.to_owned(),
            })
        };
        self.check_listeners()?;
        if !(1..=3300).contains(&self.orders.order_ttl_secs) {
            return invalid("orders.order_ttl_secs", "from 1 to 3300 seconds");
        }
        if !(60..=7_776_000).contains(&self.orders.cart_idle_secs) {
            return invalid("orders.cart_idle_secs", "from 60 to 7776000 seconds");
        }
        if !(0..=2_592_000).contains(&self.orders.cancel_window_secs) {
            return invalid("orders.cancel_window_secs", "from 0 to 2592000 seconds");
        }
        if !self.database.url.is_empty() && !self.database.url.starts_with("postgres") {
            return invalid(
                "database.url",
                "must be a postgres:// URL or empty for embedded SQLite",
            );
        }
        if !self.database.migrate_url.is_empty()
            && (self.database.url.is_empty() || !self.database.migrate_url.starts_with("postgres"))
        {
            return invalid(
                "database.migrate_url",
                "a postgres:// URL, and only with a PostgreSQL database.url",
            );
        }
        if !self
            .database
            .schema_prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            || self
                .database
                .schema_prefix
                .starts_with(|c: char| c.is_ascii_digit())
        {
            return invalid(
                "database.schema_prefix",
                "use lowercase letters, digits and underscores, not starting with a digit",
            );
        }
        if let Some(problem) = self.test_payments_refused() {
            return Err(problem);
        }
        if self.bus.kind == BusKind::Amqp && self.bus.amqp_url.is_empty() {
            return invalid("bus.amqp_url", "is required when bus.kind = \"amqp\"");
        }
        if self.auth.access_token_ttl_secs < 60 || self.auth.access_token_ttl_secs > 86_400 {
            return invalid("auth.access_token_ttl_secs", "must be between 60 and 86400");
        }
        if let Some(weak) = self
            .auth
            .signing_keys
            .iter()
            .find(|k| k.secret.expose().len() < 32)
        {
            return Err(ConfigProblem::Invalid {
                key: "auth.signing_keys",
                message: format!("key {:?} is shorter than 32 bytes", weak.kid),
            });
        }
        if !self.auth.internal_key.expose().is_empty() && self.auth.internal_key.expose().len() < 32
        {
            return invalid("auth.internal_key", "must be at least 32 bytes");
        }
        if let Err(e) = self.storage.validate() {
            return Err(ConfigProblem::Invalid {
                key: "storage",
                message: e.to_string(),
            });
        }
        if let Err(e) = self.search.validate() {
            return Err(ConfigProblem::Invalid {
                key: "search",
                message: e.to_string(),
            });
        }
        if self.tenants.platform_domain.is_empty()
            || self.tenants.platform_domain.contains(['/', ':', ' '])
        {
            return invalid(
                "tenants.platform_domain",
                "must be a domain name such as localhost or mercato.example",
            );
        }
        for (name, url) in &self.gateway.upstreams {
            if !crate::routes::SERVICES.contains(&name.as_str()) {
                return Err(ConfigProblem::Invalid {
                    key: "gateway.upstreams",
                    message: format!("unknown service {name:?}"),
                });
            }
            if !url.starts_with("http://") && !url.starts_with("https://") {
                return Err(ConfigProblem::Invalid {
                    key: "gateway.upstreams",
                    message: format!("{name}: not an http(s) URL"),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_valid_and_env_overrides() {
        let config = Config::load(
            None,
            env(&[
                ("MERCATO_LISTEN", "127.0.0.1:8181"),
                ("MERCATO_TENANTS__PLATFORM_DOMAIN", "shops.test"),
            ]),
        );
        let config = config.expect("valid");
        assert_eq!(config.listen.port(), 8181);
        assert_eq!(config.admin_listen.to_string(), "127.0.0.1:9090");
        assert_eq!(config.tenants.platform_domain, "shops.test");
    }

    #[test]
    fn the_admin_listener_needs_a_port_of_its_own() {
        let clash = Config::load(None, env(&[("MERCATO_ADMIN_LISTEN", "0.0.0.0:8080")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(clash.contains("`admin_listen`"), "{clash}");
        let moved = Config::load(None, env(&[("MERCATO_ADMIN_LISTEN", "0.0.0.0:9191")]));
        assert_eq!(
            moved.expect("valid").admin_listen.to_string(),
            "0.0.0.0:9191"
        );
        let both_free = Config::load(
            None,
            env(&[
                ("MERCATO_LISTEN", "127.0.0.1:0"),
                ("MERCATO_ADMIN_LISTEN", "127.0.0.1:0"),
            ]),
        );
        assert!(both_free.is_ok());
        let not_an_address = Config::load(None, env(&[("MERCATO_ADMIN_LISTEN", "9090")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(not_an_address.contains("admin_listen"), "{not_an_address}");
    }

    #[test]
    fn names_the_bad_key() {
        let err = Config::load(None, env(&[("MERCATO_DATABASE__URL", "mysql://x")]))
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("database.url"));
        let err = Config::load(None, env(&[("MERCATO_BUS__KIND", "kafka")]))
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("bus.kind"));
        let err = Config::load(None, env(&[("MERCATO_SEARCH__KIND", "meilisearch")]))
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("meilisearch.url"));
    }

    #[test]
    fn the_test_provider_is_off_by_default_and_refused_on_postgres_unless_allowed() {
        let embedded = Config::load(None, env(&[])).expect("valid");
        assert!(!embedded.orders.test_provider);
        let on_sqlite = Config::load(None, env(&[("MERCATO_ORDERS__TEST_PROVIDER", "true")]));
        assert!(on_sqlite.is_ok());
        let postgres = [
            (
                "MERCATO_DATABASE__URL",
                "postgres://mercato@127.0.0.1/mercato",
            ),
            ("MERCATO_ORDERS__TEST_PROVIDER", "true"),
        ];
        let refused = Config::load(None, env(&postgres))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(refused.contains("orders.allow_test_payments"), "{refused}");
        let mut allowed = postgres.to_vec();
        allowed.push(("MERCATO_ORDERS__ALLOW_TEST_PAYMENTS", "true"));
        assert!(Config::load(None, env(&allowed)).is_ok());
    }
}
