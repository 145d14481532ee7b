//! `mercato events republish <service> [--shop …]`: an owner announces the current state of
//! everything it owns again, for one shop or every shop, so a consumer that has nothing
//! yet (a mirror added to a running deployment, a table rebuilt, a search index) catches
//! up. The events go through the owner's outbox like any other; its relay (the running
//! server's, or the next one to start) delivers them, and every mirror applies them as it
//! applies the live ones (newest wins, so nothing newer is undone).

use crate::app::open_service_db;
use crate::config::Config;
use anyhow::Context;
use mercato_tenant_context::TenantId;

/// The services that own data others mirror, and what each announces.
pub const OWNERS: &[(&str, &str)] = &[
    (
        "vendors",
        "vendor.republished per vendor, commission_rule.republished per rule",
    ),
    ("catalog", "product.changed per product"),
    ("inventory", "stock.changed per variant"),
    ("orders", "tax_rate.republished per tax rate"),
];

/// Refuses a `service` that owns nothing another service mirrors, naming those that do.
pub fn check_owner(service: &str) -> anyhow::Result<()> {
    if OWNERS.iter().any(|(name, _)| *name == service) {
        return Ok(());
    }
    let owners: Vec<&str> = OWNERS.iter().map(|(name, _)| *name).collect();
    anyhow::bail!(
        "{service:?} owns nothing another service mirrors: choose one of {}",
        owners.join(", ")
    )
}

/// The shops `shop` names (its id `shop_…` or slug), or every shop when `None`.
pub async fn shops(config: &Config, shop: Option<&str>) -> anyhow::Result<Vec<TenantId>> {
    use mercato_tenants::repo::shops;
    let tenants = open_service_db(config, "tenants", mercato_tenants::migrate).await?;
    let tx = tenants.platform_read("choose the shops to act on").await?;
    let mut chosen = Vec::new();
    match shop {
        Some(shop) => {
            let found = match shop.parse::<TenantId>() {
                Ok(id) => shops::find(&tx, id).await?,
                Err(_) => shops::find_by_slug(&tx, shop).await?,
            }
            .with_context(|| format!("no shop {shop:?} (give its id or slug)"))?;
            chosen.push(found.tenant);
        }
        None => loop {
            let page = shops::list(&tx, None, chosen.last().copied(), 500).await?;
            if page.is_empty() {
                break;
            }
            chosen.extend(page.iter().map(|s| s.tenant));
        },
    }
    drop(tx);
    tenants.close().await?;
    Ok(chosen)
}

/// Has `service` announce its state again for `shops`, one transaction per shop. Returns
/// how many events each shop got. `service` must be one of [`OWNERS`].
pub async fn republish(
    config: &Config,
    service: &str,
    shops: &[TenantId],
) -> anyhow::Result<Vec<(TenantId, u64)>> {
    check_owner(service)?;
    let db = match service {
        "vendors" => open_service_db(config, "vendors", mercato_vendors::migrate).await?,
        "catalog" => open_service_db(config, "catalog", mercato_catalog::migrate).await?,
        "orders" => open_service_db(config, "orders", mercato_orders::migrate).await?,
        _ => open_service_db(config, "inventory", mercato_inventory::migrate).await?,
    };
    let mut out = Vec::with_capacity(shops.len());
    for &tenant in shops {
        let count = match service {
            "vendors" => mercato_vendors::events::republish(&db, tenant).await,
            "catalog" => mercato_catalog::events::republish(&db, tenant).await,
            "orders" => mercato_orders::events::republish(&db, tenant).await,
            _ => mercato_inventory::events::republish(&db, tenant).await,
        }
        .with_context(|| format!("republishing {service}'s state of shop {tenant}"))?;
        out.push((tenant, count));
    }
    db.close().await?;
    Ok(out)
}
