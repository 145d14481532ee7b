//! The `mercato` command.

use clap::{Parser, Subcommand};
use mercato_gateway::app::Shape;
use mercato_gateway::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

/// mimalloc rather than glibc's malloc: many small allocations freed on other threads
/// (requests, rows, events) cost glibc's arenas 16 % of the process's CPU at checkout load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Mercato: a multi-tenant, multi-vendor marketplace platform.
///
/// Configuration comes from compiled-in defaults, then the config file, then MERCATO_…
/// environment variables (MERCATO_DATABASE__URL sets database.url).
#[derive(Debug, Parser)]
#[command(name = "mercato", version)]
struct Cli {
    /// A TOML config file (default: ./mercato.toml when it exists).
    #[arg(long, global = true, env = "MERCATO_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the platform: the gateway, the services and their workers in one process.
    Serve {
        /// Seed a demo platform: an admin, shops acme and globex with owners, a customer, and
        /// vendors with stocked products. Turns the built-in test payment provider on.
        #[arg(long)]
        demo: bool,
        /// Address to listen on (config: listen).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Address of the admin listener, which alone serves /readyz and /metrics; keep it
        /// private (config: admin_listen, default 127.0.0.1:9090).
        #[arg(long)]
        admin_listen: Option<SocketAddr>,
        /// Directory for embedded databases, mail and generated keys (config: data_dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Run only these services, without the gateway (the split shape), e.g. tenants,identity,vendors,catalog,inventory,orders,accounting,payouts.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Run the gateway alone, forwarding to the services at gateway.upstreams.
    Gateway {
        /// Address to listen on (config: listen).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Address of the admin listener, which alone serves /readyz and /metrics; keep it
        /// private (config: admin_listen, default 127.0.0.1:9090).
        #[arg(long)]
        admin_listen: Option<SocketAddr>,
        /// An upstream as service=url, e.g. tenants=http://127.0.0.1:8081 (repeatable).
        #[arg(long = "upstream", value_parser = parse_upstream)]
        upstreams: Vec<(String, String)>,
    },
    /// Run background workers (outbox relays, jobs) of some services, without HTTP.
    Worker {
        /// Services whose workers to run (default: all).
        #[arg(value_delimiter = ',')]
        services: Vec<String>,
    },
    /// Apply every service's database migrations and exit.
    Migrate,
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Bulk imports, run in this process against the configured databases.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Product search tools, run in this process against the configured databases and index.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
    /// Event tools, run in this process against the configured databases.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Have a service announce the current state of everything it owns again (vendors:
    /// vendors and commission rules; catalog: products; inventory: stock; orders: tax
    /// rates), so a consumer that
    /// has nothing yet catches up: a mirror added to a running deployment, or a table
    /// rebuilt. The events go through the service's outbox; the server delivers them (at
    /// once when it runs, or when it next starts). Safe to run again: mirrors keep the
    /// newest state.
    Republish {
        /// vendors, catalog, inventory or orders.
        service: String,
        /// The shop: its id (shop_…) or slug. Default: every shop.
        #[arg(long)]
        shop: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum SearchCommand {
    /// Rebuild the search documents of one shop (or of every shop) from the catalog
    /// database; each shop's documents are swapped at once, never empty in between. With the
    /// embedded index (search.kind = "embedded") only one process may open it: stop the
    /// server first, or let merchant staff call POST /api/v1/catalog/search/reindex, which
    /// runs the same rebuild as a job inside the server.
    Reindex {
        /// The shop: its id (shop_…) or slug. Default: every shop.
        #[arg(long)]
        shop: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import products and variants of one vendor from a CSV file (the format of
    /// docs/catalog-csv.md), with a progress bar. Runs the same code as
    /// POST /api/v1/catalog/imports; rows are upserted by SKU, so a re-run changes nothing.
    Products {
        /// The CSV file (UTF-8, header row first).
        file: PathBuf,
        /// The shop: its id (shop_…) or slug.
        #[arg(long)]
        shop: String,
        /// The vendor (ven_…) whose products the file holds.
        #[arg(long)]
        vendor: String,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Load and validate the configuration; name the offending key when it is wrong.
    Check,
}

fn parse_upstream(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| "expected service=url".to_owned())
}

fn load_config(cli: &Cli) -> Result<Config, String> {
    let default_file = PathBuf::from("mercato.toml");
    let file = cli
        .config
        .clone()
        .or_else(|| default_file.exists().then_some(default_file));
    // MERCATO_CONFIG names the file and MERCATO_TEST_* configure test runs: not config keys.
    let env =
        std::env::vars().filter(|(k, _)| k != "MERCATO_CONFIG" && !k.starts_with("MERCATO_TEST_"));
    Config::load(file.as_deref(), env).map_err(|e| e.to_string())
}

fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        trigger.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        trigger.cancel();
    });
    token
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = match load_config(&cli) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    mercato_kernel::telemetry::init(config.log.format, &config.log.filter);
    let result = match cli.command {
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            eprintln!("configuration is valid");
            Ok(())
        }
        Command::Serve {
            demo,
            listen,
            admin_listen,
            data_dir,
            only,
        } => {
            config.listen = listen.unwrap_or(config.listen);
            config.admin_listen = admin_listen.unwrap_or(config.admin_listen);
            // The flags apply after the file was validated: check the pair again.
            if let Err(clash) = config.check_listeners() {
                eprintln!("error: {clash}");
                return ExitCode::from(2);
            }
            config.data_dir = data_dir.unwrap_or(config.data_dir);
            if demo {
                // The demo's shoppers pay with test cards.
                config.orders.test_provider = true;
                if let Some(refused) = config.test_payments_refused() {
                    eprintln!("error: {refused}");
                    return ExitCode::from(2);
                }
            }
            let shape = if only.is_empty() {
                Shape::AllInOne
            } else {
                Shape::Services(only)
            };
            run(config, shape, demo).await
        }
        Command::Gateway {
            listen,
            admin_listen,
            upstreams,
        } => {
            config.listen = listen.unwrap_or(config.listen);
            config.admin_listen = admin_listen.unwrap_or(config.admin_listen);
            if let Err(clash) = config.check_listeners() {
                eprintln!("error: {clash}");
                return ExitCode::from(2);
            }
            config.gateway.upstreams.extend(upstreams);
            run(config, Shape::Gateway, false).await
        }
        Command::Worker { services } => {
            let services = if services.is_empty() {
                mercato_gateway::routes::SERVICES
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            } else {
                services
            };
            mercato_gateway::work(config, services, shutdown_on_signal()).await
        }
        Command::Import {
            command: ImportCommand::Products { file, shop, vendor },
        } => import_products(&config, &file, &shop, &vendor).await,
        Command::Search {
            command: SearchCommand::Reindex { shop },
        } => reindex_search(&config, shop.as_deref()).await,
        Command::Events {
            command: EventsCommand::Republish { service, shop },
        } => republish(&config, &service, shop.as_deref()).await,
        Command::Migrate => {
            let services = mercato_gateway::routes::SERVICES
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            // Starting the workers' shape connects and migrates every service; then stop.
            let token = CancellationToken::new();
            token.cancel();
            mercato_gateway::work(config, services, token)
                .await
                .map(|()| eprintln!("migrations applied"))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "mercato stopped");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config, shape: Shape, demo: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let admin = tokio::net::TcpListener::bind(config.admin_listen)
        .await
        .map_err(|e| anyhow::anyhow!("admin_listen {}: {e}", config.admin_listen))?;
    // One line in every shape, so whoever started the process with port 0 learns its ports.
    eprintln!(
        "mercato listening on {}, admin on {}",
        listener.local_addr()?,
        admin.local_addr()?
    );
    if shape == Shape::AllInOne {
        let port = listener.local_addr()?.port();
        eprintln!(
            "mercato is running: try  curl -H 'Host: acme.localhost' http://127.0.0.1:{port}/api/v1/shop"
        );
        eprintln!("OpenAPI: http://platform.localhost:{port}/api/openapi.json");
        eprintln!(
            "readiness and metrics: http://{}/readyz, /metrics",
            admin.local_addr()?
        );
    }
    mercato_gateway::serve(config, listener, admin, shape, demo, shutdown_on_signal()).await
}

/// The database of `service` as the server would open it.
async fn open_db(config: &Config, service: &str) -> anyhow::Result<mercato_db::Db> {
    use mercato_db::{Db, DbTarget};
    let db = if config.database.url.is_empty() {
        let path = config.data_dir.join(format!("{service}.db"));
        Db::connect(DbTarget::Sqlite(&path), 2).await?
    } else {
        let schema = format!("{}{service}", config.database.schema_prefix);
        let target = DbTarget::Postgres {
            url: &config.database.url,
            schema: &schema,
        };
        Db::connect(target, 2).await?
    };
    Ok(db)
}

async fn import_products(
    config: &Config,
    file: &std::path::Path,
    shop: &str,
    vendor: &str,
) -> anyhow::Result<()> {
    use anyhow::Context;
    use mercato_tenants::repo::shops;
    let vendor = vendor
        .parse::<mercato_tenant_context::VendorId>()
        .context("--vendor")?;
    let tenants = open_db(config, "tenants").await?;
    let tx = tenants
        .platform_read("resolve the shop to import into")
        .await?;
    let found = match shop.parse::<mercato_tenant_context::TenantId>() {
        Ok(id) => shops::find(&tx, id).await?,
        Err(_) => shops::find_by_slug(&tx, shop).await?,
    }
    .with_context(|| format!("no shop {shop:?} (give its id or slug)"))?;
    drop(tx);
    let catalog =
        mercato_gateway::app::open_service_db(config, "catalog", mercato_catalog::migrate).await?;
    let limit = found.plan.limits().products;
    mercato_catalog::import::cli::import_file(&catalog, found.tenant, vendor, limit, file)
        .await
        .map(|_| ())
}

/// `mercato events republish`: one service's state announced again, per shop.
async fn republish(config: &Config, service: &str, shop: Option<&str>) -> anyhow::Result<()> {
    mercato_gateway::republish::check_owner(service)?;
    let shops = mercato_gateway::republish::shops(config, shop).await?;
    for (tenant, count) in mercato_gateway::republish::republish(config, service, &shops).await? {
        eprintln!("{tenant}: {count} events from {service}");
    }
    Ok(())
}

/// `mercato search reindex`: every shop's (or one shop's) documents rebuilt from catalog.
async fn reindex_search(config: &Config, shop: Option<&str>) -> anyhow::Result<()> {
    use anyhow::Context;
    let chosen = mercato_gateway::republish::shops(config, shop).await?;
    let catalog =
        mercato_gateway::app::open_service_db(config, "catalog", mercato_catalog::migrate).await?;
    let index = mercato_search::open(&config.search, &config.data_dir).context(
        "cannot open the search index (an embedded index is locked while the server runs)",
    )?;
    index.prepare().await?;
    for tenant in chosen {
        let count = mercato_catalog::search::reindex_shop(&catalog, index.as_ref(), tenant)
            .await
            .with_context(|| format!("reindexing shop {tenant}"))?;
        eprintln!("{tenant}: {count} products searchable");
    }
    index.commit().await?;
    Ok(())
}
