//! The market under test, set up through the API as a platform admin, a merchant and their
//! vendors would, and the merchant's view of its orders at the end.

use anyhow::{Context, bail, ensure};
use mercato_db::Db;
use mercato_identity::domain::{AccountRole, Realm};
use mercato_tenant_context::Role;
use mercato_testkit::{Client, Reply};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const PASSWORD: &str = "benchmark password";
/// Units each variant starts with.
pub const STOCK: i64 = 1_000_000;

/// Polls `probe` every 100 ms until `check` holds (at most a minute).
pub async fn eventually<T, F, Fut>(
    what: &str,
    mut probe: F,
    check: impl Fn(&T) -> bool,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let value = probe().await?;
        if check(&value) {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn created(reply: Reply, what: &str) -> anyhow::Result<Reply> {
    ensure!(
        reply.status < 300,
        "{what}: {} {}",
        reply.status,
        reply.text
    );
    Ok(reply)
}

/// The shop under test, as its merchant and its shoppers reach it.
pub struct Market {
    pub host: String,
    pub owner: String,
    pub variants: Vec<String>,
}

/// One shop (scale plan) with 19 % tax for Germany, a 10 % commission, and `vendors`
/// approved vendors, each with flat-rate shipping, a warehouse and `products` published
/// products of one variant with [`STOCK`] units; returns once orders knows every price
/// and stock level.
pub async fn market(
    client: &Client,
    identity: &Db,
    vendors: usize,
    products: usize,
) -> anyhow::Result<Market> {
    let admin_email = "bench@platform.localhost";
    mercato_identity::ensure_account(
        identity,
        Realm::Platform,
        admin_email,
        PASSWORD,
        AccountRole::PlatformAdmin,
    )
    .await?;
    let login = |host: String, email: String| async move {
        let reply = client
            .post(
                &host,
                "/api/v1/auth/login",
                None,
                &json!({ "email": email, "password": PASSWORD }),
            )
            .await?;
        Ok::<_, anyhow::Error>(created(reply, "login")?.str("access_token"))
    };
    let admin = login("platform.localhost".into(), admin_email.into()).await?;
    let shop = client
        .post("platform.localhost", "/api/v1/admin/shops", Some(&admin), &json!({
            "name": "Checkout Bench", "slug": "checkout", "default_currency": "EUR", "plan": "scale"
        }))
        .await?;
    let shop = created(shop, "create shop")?;
    let host = "checkout.localhost".to_owned();
    let owner_email = format!("owner@{host}");
    let shop_id = shop.str("id").parse().context("shop id")?;
    mercato_identity::ensure_account(
        identity,
        Realm::Shop(shop_id),
        &owner_email,
        PASSWORD,
        AccountRole::Shop(Role::Owner),
    )
    .await?;
    let owner = login(host.clone(), owner_email).await?;
    let send = |method: &'static str, path: String, token: String, body: Value| {
        let host = host.clone();
        async move {
            let reply = client
                .send(method, &host, &path, Some(&token), Some(&body))
                .await?;
            created(reply, &format!("{method} {path}"))
        }
    };
    send(
        "PUT",
        "/api/v1/tax-rates".into(),
        owner.clone(),
        json!({ "country": "DE", "rate": "19" }),
    )
    .await?;
    send(
        "POST",
        "/api/v1/commission-rules".into(),
        owner.clone(),
        json!({ "percent": "10" }),
    )
    .await?;

    let mut variants = Vec::new();
    for v in 0..vendors {
        let email = format!("vendor{v}@example.test");
        let registered = client
            .post(
                &host,
                "/api/v1/auth/register",
                None,
                &json!({ "email": email, "password": PASSWORD }),
            )
            .await?;
        let seller = created(registered, "register")?.str("access_token");
        let name = format!("Bench Vendor {v}");
        let vendor = send(
            "POST",
            "/api/v1/vendors".into(),
            seller.clone(),
            json!({
                "store_name": name, "legal_entity": format!("{name} GmbH"), "country": "DE",
                "contact_email": "sales@example.test",
            }),
        )
        .await?
        .str("id");
        let path = format!("/api/v1/vendors/{vendor}");
        send(
            "POST",
            format!("{path}/transitions"),
            owner.clone(),
            json!({ "action": "accept" }),
        )
        .await?;
        for (code, body) in [
            ("business_details", json!({ "value": "HRB 1, Hamburg" })),
            ("tax_id", json!({ "value": "DE123456789" })),
            ("terms_accepted", json!({ "accepted": true })),
        ] {
            send(
                "PUT",
                format!("{path}/checklist/{code}"),
                seller.clone(),
                body,
            )
            .await?;
        }
        for code in ["registration_document", "payout_account"] {
            send(
                "POST",
                format!("{path}/checklist/{code}/override"),
                owner.clone(),
                json!({ "reason": "checked by phone" }),
            )
            .await?;
        }
        send(
            "POST",
            format!("{path}/transitions"),
            seller.clone(),
            json!({ "action": "submit" }),
        )
        .await?;
        send(
            "POST",
            format!("{path}/transitions"),
            owner.clone(),
            json!({ "action": "approve" }),
        )
        .await?;
        send(
            "PATCH",
            path,
            owner.clone(),
            json!({
                "shipping_flat_rate": { "amount": 490, "currency": "EUR" },
                "free_shipping_over": { "amount": 5000, "currency": "EUR" },
            }),
        )
        .await?;
        // A token that carries the vendor membership, once identity has recorded it.
        eventually(
            "the vendor membership",
            || async {
                Ok(client
                    .get(&host, "/api/v1/auth/me", Some(&seller))
                    .await?
                    .body)
            },
            |me| me["vendors"][0]["vendor"] == vendor.as_str(),
        )
        .await?;
        let seller = login(host.clone(), email).await?;
        eventually(
            "the catalog's vendors mirror",
            || async {
                let path = format!("/api/v1/catalog/products?vendor_id={vendor}");
                Ok(client.get(&host, &path, Some(&seller)).await?.status)
            },
            |status| *status == 200,
        )
        .await?;
        let warehouse = eventually(
            "the vendor known to inventory",
            || async {
                client.post(&host, "/api/v1/warehouses", Some(&owner), &json!({
                    "vendor_id": vendor, "name": "Main",
                    "address": { "line1": "Am Sandtorkai 5", "postal_code": "20457", "city": "Hamburg", "country": "DE" }
                })).await
            },
            |reply| reply.status == 201,
        )
        .await?
        .str("id");
        for p in 0..products {
            let price = 450 + ((v * products + p) % 20) as i64 * 150;
            let product = send("POST", "/api/v1/catalog/products".into(), seller.clone(), json!({
                "vendor_id": vendor, "title": format!("Tea {v}-{p}"),
                "variants": [{ "sku": format!("TEA-{v}-{p}"), "price": { "amount": price, "currency": "EUR" } }],
            }))
            .await?;
            let id = product.str("id");
            let variant = product.body["variants"][0]["id"]
                .as_str()
                .context("variant id")?
                .to_owned();
            send(
                "POST",
                format!("/api/v1/catalog/products/{id}/transitions"),
                owner.clone(),
                json!({ "action": "publish" }),
            )
            .await?;
            eventually(
                "the variant known to inventory",
                || async {
                    client
                        .post(
                            &host,
                            &format!("/api/v1/warehouses/{warehouse}/adjustments"),
                            Some(&owner),
                            &json!({ "variant_id": variant, "delta": STOCK, "reason": "received" }),
                        )
                        .await
                },
                |reply| reply.status == 201,
            )
            .await?;
            variants.push(variant);
        }
        eprintln!("vendor {}/{vendors} ready", v + 1);
    }
    for variant in &variants {
        eventually(
            "the variant, its stock and its vendor's shipping known to orders",
            || async {
                let body = json!({ "lines": [{ "variant_id": variant, "quantity": 1 }] });
                client.post(&host, "/api/v1/carts", None, &body).await
            },
            |reply| {
                reply.status == 201
                    && reply.body["lines"][0]["available"] == STOCK
                    && !reply.body["vendors"][0]["shipping"].is_null()
            },
        )
        .await?;
    }
    Ok(Market {
        host,
        owner,
        variants,
    })
}

/// The merchant's view at the end: orders by status and the units they sold per variant.
pub async fn merchant_orders(
    client: &Client,
    market: &Market,
) -> anyhow::Result<(BTreeMap<String, u64>, BTreeMap<String, i64>)> {
    let mut statuses = BTreeMap::new();
    let mut sold = BTreeMap::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/api/v1/orders?limit=200&cursor={cursor}");
        let page = created(
            client.get(&market.host, &path, Some(&market.owner)).await?,
            "list orders",
        )?;
        for order in page.body["data"].as_array().context("orders")? {
            let status = order["status"].as_str().unwrap_or_default().to_owned();
            *statuses.entry(status.clone()).or_insert(0) += 1;
            for vendor_order in order["vendor_orders"].as_array().context("vendor orders")? {
                for line in vendor_order["lines"].as_array().context("lines")? {
                    if status == "paid" {
                        let variant = line["variant_id"].as_str().unwrap_or_default().to_owned();
                        *sold.entry(variant).or_insert(0) += line["quantity"].as_i64().unwrap_or(0);
                    }
                }
            }
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    Ok((statuses, sold))
}
