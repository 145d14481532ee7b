//! `mercato serve --demo`: a platform admin, two shops (`acme`, `globex`) with an owner each,
//! and a customer in acme — all with the password `mercato-demo`. Seeding is idempotent.
//! Then, in the background, each shop's marketplace (see [`marketplace`]): three approved
//! vendors with ten stocked products each.

pub mod marketplace;

use mercato_db::Db;
use mercato_identity::domain::{AccountRole, Realm};
use mercato_kernel::Currency;
use mercato_tenant_context::{Role, TenantId};
use mercato_tenants::domain::plan::Plan;
use mercato_tenants::domain::shop::{NewShop, Shop};

pub const PASSWORD: &str = "mercato-demo";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Seed(#[from] mercato_identity::SeedError),
    #[error(transparent)]
    Currency(#[from] mercato_kernel::money::UnknownCurrency),
}

async fn shop(
    db: &Db,
    slug: &str,
    name: &str,
    currency: &str,
    locale: &str,
    timezone: &str,
) -> Result<TenantId, DemoError> {
    let tx = db.platform_tx("demo seed").await?;
    if let Some(existing) = mercato_tenants::repo::shops::find_by_slug(&tx, slug).await? {
        return Ok(existing.tenant);
    }
    let new = NewShop {
        name: name.into(),
        slug: slug.into(),
        currency: Currency::parse(currency)?,
        locale: locale.into(),
        timezone: timezone.into(),
        plan: Plan::Growth,
    };
    let shop = Shop::open(new, chrono::Utc::now());
    mercato_tenants::repo::shops::insert(&tx, &shop).await?;
    tx.commit().await?;
    Ok(shop.tenant)
}

/// What the first stage seeded: lines telling the user where to go, and the shops (id, host,
/// currency) whose marketplaces [`marketplace::seed`] fills next.
pub struct Seeded {
    pub lines: Vec<String>,
    pub shops: Vec<(TenantId, String, &'static str)>,
}

/// Seeds the accounts and shops of the demo.
pub async fn seed(
    tenants: &Db,
    identity: &Db,
    platform_domain: &str,
    listen: std::net::SocketAddr,
) -> Result<Seeded, DemoError> {
    let acme = shop(
        tenants,
        "acme",
        "Acme Outfitters",
        "EUR",
        "en",
        "Europe/Berlin",
    )
    .await?;
    let globex = shop(
        tenants,
        "globex",
        "Globex Market",
        "USD",
        "en-US",
        "America/New_York",
    )
    .await?;
    let accounts = [
        (
            Realm::Platform,
            format!("admin@platform.{platform_domain}"),
            AccountRole::PlatformAdmin,
        ),
        (
            Realm::Shop(acme),
            format!("owner@acme.{platform_domain}"),
            AccountRole::Shop(Role::Owner),
        ),
        (
            Realm::Shop(globex),
            format!("owner@globex.{platform_domain}"),
            AccountRole::Shop(Role::Owner),
        ),
        (
            Realm::Shop(acme),
            format!("shopper@acme.{platform_domain}"),
            AccountRole::Shop(Role::Customer),
        ),
    ];
    let port = listen.port();
    let mut lines = vec![format!(
        "demo ready; every account's password is {PASSWORD:?}"
    )];
    for (realm, email, role) in accounts {
        mercato_identity::ensure_account(identity, realm, &email, PASSWORD, role).await?;
        let host = email.split_once('@').map_or("", |(_, h)| h).to_owned();
        lines.push(format!(
            "  {:<15} {email:<32} http://{host}:{port}/",
            role.code()
        ));
    }
    lines.push("  (vendors and products are being added in the background)".to_owned());
    Ok(Seeded {
        lines,
        shops: vec![
            (acme, format!("acme.{platform_domain}"), "EUR"),
            (globex, format!("globex.{platform_domain}"), "USD"),
        ],
    })
}
