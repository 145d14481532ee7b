//! The marketplace half of `mercato serve --demo`: in each demo shop, three vendors apply,
//! complete their checklist and are approved (with shipping rates), list ten products each
//! and stock them; the shop gets a tax rate and a coupon, and the demo customer places a
//! paid order across two vendors. It is
//! driven through the platform's own API (in-process, through the gateway router), so the
//! demo data is exactly what merchants and vendors would create, events and all. It runs in
//! the background once the relays are up, waits for each service to learn what it needs
//! from events, and skips a shop that has its vendors already.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use mercato_db::Db;
use mercato_identity::domain::{AccountRole, Realm};
use mercato_tenant_context::{Role, TenantId};
use serde_json::{Value, json};
use std::time::Duration;
use tower::ServiceExt;

use super::PASSWORD;

/// One demo vendor and what it sells: (title, comma-separated tags) per product.
struct DemoVendor {
    slug: &'static str,
    store_name: &'static str,
    legal_entity: &'static str,
    country: &'static str,
    description: &'static str,
    products: &'static [(&'static str, &'static str)],
}

const ACME: &[DemoVendor] = &[
    DemoVendor {
        slug: "nordic-trail",
        store_name: "Nordic Trail Co.",
        legal_entity: "Nordic Trail AB",
        country: "SE",
        description: "Tents, packs and shelter for long walks in the north.",
        products: &[
            ("Fjäll 2 Tent", "tent,camping,2-person"),
            ("Fjäll 3 Tent", "tent,camping,3-person"),
            ("Lapland Down Sleeping Bag", "sleeping bag,down,winter"),
            ("Kungsleden 45L Backpack", "backpack,hiking"),
            ("Kungsleden 65L Backpack", "backpack,trekking"),
            ("Tarp Shelter 3x3", "tarp,shelter,ultralight"),
            ("Trekking Poles Carbon", "poles,carbon,hiking"),
            ("Insulated Sleeping Mat", "mat,insulated,camping"),
            ("Titanium Cook Pot 900ml", "cookware,titanium"),
            ("Dry Bag Set", "dry bag,waterproof"),
        ],
    },
    DemoVendor {
        slug: "alpine-threads",
        store_name: "Alpine Threads",
        legal_entity: "Alpine Threads GmbH",
        country: "AT",
        description: "Merino and shell layers made in the Alps.",
        products: &[
            ("Merino Base Layer Top", "merino,base layer"),
            ("Merino Leggings", "merino,base layer"),
            ("Hardshell Rain Jacket", "jacket,waterproof,shell"),
            ("Softshell Hiking Pants", "pants,softshell"),
            ("Down Puffer Vest", "vest,down,insulated"),
            ("Fleece Mid Layer", "fleece,mid layer"),
            ("Wool Beanie", "hat,wool"),
            ("Hiking Socks 3-Pack", "socks,merino"),
            ("Windproof Gloves", "gloves,windproof"),
            ("Sun Hoodie", "hoodie,sun protection"),
        ],
    },
    DemoVendor {
        slug: "summit-lights",
        store_name: "Summit Lights",
        legal_entity: "Summit Lights Ltd",
        country: "GB",
        description: "Headlamps, lanterns and power for the backcountry.",
        products: &[
            ("Headlamp 400 Lumen", "headlamp,light"),
            ("Headlamp 900 Lumen", "headlamp,light,rechargeable"),
            ("Camp Lantern", "lantern,light,camping"),
            ("Solar Panel 21W", "solar,power"),
            ("Power Bank 20000mAh", "power bank,battery"),
            ("Emergency Beacon", "beacon,safety"),
            ("GPS Handheld", "gps,navigation"),
            ("Compass Pro", "compass,navigation"),
            ("Satellite Messenger", "satellite,safety"),
            ("Bike Light Set", "light,bike"),
        ],
    },
];

const GLOBEX: &[DemoVendor] = &[
    DemoVendor {
        slug: "hearth-and-clay",
        store_name: "Hearth & Clay",
        legal_entity: "Hearth and Clay LLC",
        country: "US",
        description: "Stoneware made by hand in small batches.",
        products: &[
            ("Stoneware Dinner Plate", "plate,stoneware,dinnerware"),
            ("Stoneware Bowl", "bowl,stoneware"),
            ("Espresso Cup Pair", "cup,espresso"),
            ("Large Serving Platter", "platter,serving"),
            ("Ceramic Teapot", "teapot,tea"),
            ("Pour-Over Coffee Dripper", "coffee,pour over"),
            ("Salad Bowl", "bowl,salad"),
            ("Butter Dish", "butter,dish"),
            ("Mug Set of 4", "mug,coffee,set"),
            ("Flower Vase", "vase,decor"),
        ],
    },
    DemoVendor {
        slug: "cast-iron-works",
        store_name: "Cast Iron Works",
        legal_entity: "Cast Iron Works Inc.",
        country: "US",
        description: "Pans and pots that outlive their cooks.",
        products: &[
            ("Cast Iron Skillet 10in", "skillet,cast iron"),
            ("Cast Iron Skillet 12in", "skillet,cast iron"),
            ("Dutch Oven 5qt", "dutch oven,cast iron"),
            ("Grill Pan", "grill pan,cast iron"),
            ("Carbon Steel Wok", "wok,carbon steel"),
            ("Cornbread Pan", "baking,cast iron"),
            ("Pan Scraper Set", "tools,cleaning"),
            ("Seasoning Oil", "care,seasoning"),
            ("Chainmail Scrubber", "cleaning,tools"),
            ("Trivet", "trivet,kitchen"),
        ],
    },
    DemoVendor {
        slug: "linen-loft",
        store_name: "Linen Loft",
        legal_entity: "Linen Loft Co.",
        country: "CA",
        description: "Washed linen for the table and the bed.",
        products: &[
            ("Linen Tablecloth", "tablecloth,linen"),
            ("Linen Napkins Set of 4", "napkins,linen"),
            ("Linen Duvet Cover", "bedding,linen"),
            ("Linen Pillowcases", "bedding,pillowcase"),
            ("Linen Apron", "apron,kitchen"),
            ("Tea Towels Set of 3", "towels,kitchen"),
            ("Linen Curtains", "curtains,decor"),
            ("Table Runner", "table runner,decor"),
            ("Bath Towel", "towel,bath"),
            ("Throw Blanket", "blanket,throw"),
        ],
    },
];

#[derive(Debug, thiserror::Error)]
pub enum MarketplaceError {
    #[error("{what} answered {status}: {body}")]
    Refused {
        what: String,
        status: StatusCode,
        body: String,
    },
    #[error("{0} did not become ready in time")]
    Timeout(String),
    #[error(transparent)]
    Seed(#[from] mercato_identity::SeedError),
    #[error("in-process request: {0}")]
    Request(String),
}

/// Calls the gateway in-process as a client on `host` would.
struct Client {
    router: Router,
    host: String,
}

struct Reply {
    status: StatusCode,
    body: Value,
}

impl Client {
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply, MarketplaceError> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        }
        .map_err(|e| MarketplaceError::Request(e.to_string()))?;
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| MarketplaceError::Request(e.to_string()))?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 4 * 1024 * 1024)
            .await
            .map_err(|e| MarketplaceError::Request(e.to_string()))?;
        Ok(Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }

    /// Sends until the answer is one of `ok`, waiting out rate limits and services that have
    /// not yet heard of what an earlier call created (they learn it from events).
    async fn expect(
        &self,
        what: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        ok: &[u16],
    ) -> Result<Value, MarketplaceError> {
        let mut last = None;
        for _ in 0..150 {
            let reply = self.send(method, path, token, body).await?;
            if ok.contains(&reply.status.as_u16()) {
                return Ok(reply.body);
            }
            let retry = matches!(reply.status.as_u16(), 404 | 409 | 422 | 429 | 503);
            last = Some(reply);
            if !retry {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        match last {
            Some(reply) => Err(MarketplaceError::Refused {
                what: what.to_owned(),
                status: reply.status,
                body: reply.body.to_string(),
            }),
            None => Err(MarketplaceError::Timeout(what.to_owned())),
        }
    }

    /// POSTs with an `Idempotency-Key`, expecting 200 or 201.
    async fn send_keyed(
        &self,
        path: &str,
        token: &str,
        key: &str,
        body: &Value,
    ) -> Result<Value, MarketplaceError> {
        let request = Request::builder()
            .method("POST")
            .uri(path)
            .header("host", &self.host)
            .header("authorization", format!("Bearer {token}"))
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .map_err(|e| MarketplaceError::Request(e.to_string()))?;
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| MarketplaceError::Request(e.to_string()))?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 4 * 1024 * 1024)
            .await
            .map_err(|e| MarketplaceError::Request(e.to_string()))?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            Err(MarketplaceError::Refused {
                what: path.to_owned(),
                status,
                body: body.to_string(),
            })
        }
    }

    async fn login(&self, email: &str) -> Result<String, MarketplaceError> {
        let body = json!({ "email": email, "password": PASSWORD });
        let reply = self
            .expect(
                "sign-in",
                "POST",
                "/api/v1/auth/login",
                None,
                Some(&body),
                &[200],
            )
            .await?;
        Ok(reply["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }
}

/// Seeds both demo shops' marketplaces; returns lines telling what is there.
pub async fn seed(
    router: Router,
    identity: Db,
    shops: Vec<(TenantId, String, &'static str)>,
) -> Result<Vec<String>, MarketplaceError> {
    let mut lines = Vec::new();
    for (tenant, host, currency) in shops {
        let vendors = if host.starts_with("acme.") {
            ACME
        } else {
            GLOBEX
        };
        let client = Client {
            router: router.clone(),
            host: host.clone(),
        };
        let listed = client
            .expect("vendor list", "GET", "/api/v1/vendors", None, None, &[200])
            .await?;
        if listed["data"]
            .as_array()
            .is_some_and(|a| a.len() >= vendors.len())
        {
            continue;
        }
        let owner = client.login(&format!("owner@{host}")).await?;
        let mut first_variants = Vec::new();
        let mut sellers = Vec::new();
        for (i, vendor) in vendors.iter().enumerate() {
            let email = format!("seller{}@{host}", i + 1);
            mercato_identity::ensure_account(
                &identity,
                Realm::Shop(tenant),
                &email,
                PASSWORD,
                AccountRole::Shop(Role::Customer),
            )
            .await?;
            let seller = client.login(&email).await?;
            let id = onboard(&client, &owner, &seller, vendor, currency, i).await?;
            let variants = list_products(&client, &owner, &id, vendor, currency, i).await?;
            stock(&client, &owner, &id, vendor, &variants).await?;
            if let Some(first) = variants.first() {
                first_variants.push(first.clone());
            }
            sellers.push((id.clone(), email.clone()));
            lines.push(format!(
                "  {host:<18} vendor {:<18} {} products, {} variants in stock; seller {email}",
                vendor.store_name,
                vendor.products.len(),
                variants.len()
            ));
        }
        let (bought, order) = buying(&client, &owner, &host, currency, &first_variants).await?;
        lines.extend(bought);
        if let Some(order) = order {
            lines.extend(payouts(&client, &owner, &host, currency, &order, &sellers).await?);
        }
    }
    Ok(lines)
}

/// Paid vendors: the demo shop pays out on delivery (`hold_days` 0), its vendors ship and
/// deliver the demo order, and a payout run pays them (the first vendor through Stripe
/// Connect, i.e. the test payout provider, at once; the others by bank transfer, on its way
/// until the merchant marks it). `sellers`: each vendor's id and its seller's email.
async fn payouts(
    client: &Client,
    owner: &str,
    host: &str,
    currency: &str,
    order: &str,
    sellers: &[(String, String)],
) -> Result<Vec<String>, MarketplaceError> {
    // The shop's legal details: with them, each paid payout gets a commission invoice.
    let (country, legal_name, vat_id) = if currency == "EUR" {
        ("DE", "Acme Marketplace GmbH", Some("DE123456789"))
    } else {
        ("US", "Globex Marketplace Inc.", None)
    };
    client
        .expect(
            "invoice settings",
            "PUT",
            "/api/v1/invoice-settings",
            Some(owner),
            Some(&json!({
                "legal_name": legal_name, "country": country, "vat_id": vat_id,
                "address": { "lines": ["Marktplatz 1"], "postal_code": "10115", "city": "Berlin" },
            })),
            &[200],
        )
        .await?;
    client
        .expect(
            "payout hold",
            "PUT",
            "/api/v1/payouts/settings",
            Some(owner),
            Some(&json!({ "hold_days": 0 })),
            &[200],
        )
        .await?;
    let seen = client
        .expect(
            "demo order",
            "GET",
            &format!("/api/v1/orders/{order}"),
            Some(owner),
            None,
            &[200],
        )
        .await?;
    let mut delivered = Vec::new();
    for vo in seen["vendor_orders"].as_array().into_iter().flatten() {
        let (Some(id), Some(vendor)) = (vo["id"].as_str(), vo["vendor_id"].as_str()) else {
            continue;
        };
        let Some((_, seller)) = sellers.iter().find(|(v, _)| v == vendor) else {
            continue;
        };
        // Signed in again: the vendor membership is in the token from now on.
        let seller = client.login(seller).await?;
        let seller = seller.as_str();
        for (step, body) in [
            (
                "ship",
                json!({ "carrier": "DHL", "tracking_number": format!("JJD{}", &id[4..16]) }),
            ),
            ("deliver", json!({})),
        ] {
            client
                .expect(
                    step,
                    "POST",
                    &format!("/api/v1/vendor-orders/{id}/{step}"),
                    Some(seller),
                    Some(&body),
                    &[200, 409],
                )
                .await?;
        }
        delivered.push(vendor.to_owned());
    }
    // Payouts learns of the deliveries from events: wait until each vendor's money is there.
    for vendor in &delivered {
        let mut ready = false;
        for _ in 0..150 {
            let reply = client
                .send(
                    "GET",
                    &format!("/api/v1/vendors/{vendor}/balance"),
                    Some(owner),
                    None,
                )
                .await?;
            if reply.body["available"]["amount"].as_i64().unwrap_or(0) > 0 {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if !ready {
            return Err(MarketplaceError::Timeout(format!("{vendor}'s balance")));
        }
    }
    let run = client
        .send_keyed("/api/v1/payouts/runs", owner, "demo-payout-run", &json!({}))
        .await?;
    let run_id = run["id"].as_str().unwrap_or_default().to_owned();
    for _ in 0..150 {
        let reply = client
            .send(
                "GET",
                &format!("/api/v1/payouts/runs/{run_id}"),
                Some(owner),
                None,
            )
            .await?;
        if reply.body["status"] == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let paid = client
        .expect(
            "payouts",
            "GET",
            &format!("/api/v1/payouts?run_id={run_id}"),
            Some(owner),
            None,
            &[200],
        )
        .await?;
    let mut lines = Vec::new();
    for p in paid["data"].as_array().into_iter().flatten() {
        lines.push(format!(
            "  {host:<18} payout {} to {}: {} {} by {}, {}",
            p["id"].as_str().unwrap_or_default(),
            p["vendor_id"].as_str().unwrap_or_default(),
            p["amount"]["amount"],
            p["amount"]["currency"].as_str().unwrap_or_default(),
            p["method"].as_str().unwrap_or_default(),
            p["status"].as_str().unwrap_or_default(),
        ));
    }
    Ok(lines)
}

/// Buying set-up: a tax rate, a coupon, and in the shop that has a demo customer one paid
/// order across two vendors, so orders and vendor orders are there to look at; the lines to
/// log and the order's id.
async fn buying(
    client: &Client,
    owner: &str,
    host: &str,
    currency: &str,
    variants: &[String],
) -> Result<(Vec<String>, Option<String>), MarketplaceError> {
    let country = if currency == "EUR" { "DE" } else { "US" };
    let rate = if currency == "EUR" { "19" } else { "7.25" };
    client
        .expect(
            "tax rate",
            "PUT",
            "/api/v1/tax-rates",
            Some(owner),
            Some(&json!({ "country": country, "rate": rate })),
            &[200],
        )
        .await?;
    client
        .expect(
            "coupon",
            "POST",
            "/api/v1/coupons",
            Some(owner),
            Some(&json!({ "code": "WELCOME10", "percent": "10" })),
            &[201, 409],
        )
        .await?;
    let mut lines = vec![format!(
        "  {host:<18} tax {rate} % for {country}; coupon WELCOME10 (10 % off)"
    )];
    let shopper = format!("shopper@{host}");
    let (Some(a), Some(b)) = (variants.first(), variants.get(1)) else {
        return Ok((lines, None));
    };
    let Ok(token) = client.login(&shopper).await else {
        return Ok((lines, None));
    };
    let cart = json!({
        "lines": [{ "variant_id": a, "quantity": 1 }, { "variant_id": b, "quantity": 2 }],
        "coupon_code": "WELCOME10",
    });
    // Orders learns prices and stock from events: wait until it can sell both.
    let cart = client
        .expect(
            "demo cart",
            "POST",
            "/api/v1/carts",
            Some(&token),
            Some(&cart),
            &[200, 201],
        )
        .await?;
    let cart_id = cart["id"].as_str().unwrap_or_default();
    let checkout = json!({
        "cart_id": cart_id,
        "email": shopper,
        "shipping_address": {
            "name": "Demo Shopper", "line1": "Hauptstraße 1", "city": "Berlin",
            "postal_code": "10115", "country": country,
        },
        "payment": { "provider": "test", "card": "4242424242424242" },
    });
    let order = client
        .send_keyed(
            "/api/v1/checkout",
            &token,
            &format!("demo-{cart_id}"),
            &checkout,
        )
        .await?;
    lines.push(format!(
        "  {host:<18} order {} by {shopper}: {}, {} vendor orders",
        order["id"].as_str().unwrap_or_default(),
        order["status"].as_str().unwrap_or_default(),
        order["vendor_orders"].as_array().map_or(0, Vec::len),
    ));
    let paid = order["status"] == "paid";
    Ok((
        lines,
        order["id"].as_str().filter(|_| paid).map(str::to_owned),
    ))
}

async fn onboard(
    client: &Client,
    owner: &str,
    seller: &str,
    vendor: &DemoVendor,
    currency: &str,
    index: usize,
) -> Result<String, MarketplaceError> {
    let applied = client
        .expect(
            "vendor application",
            "POST",
            "/api/v1/vendors",
            Some(seller),
            Some(&json!({
                "store_name": vendor.store_name, "slug": vendor.slug,
                "legal_entity": vendor.legal_entity, "country": vendor.country,
                "contact_email": format!("hello@{}.example", vendor.slug),
                "description": vendor.description,
            })),
            &[201],
        )
        .await?;
    let id = applied["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/api/v1/vendors/{id}");
    let act = |action: &'static str| json!({ "action": action });
    client
        .expect(
            "accept",
            "POST",
            &format!("{path}/transitions"),
            Some(owner),
            Some(&act("accept")),
            &[200],
        )
        .await?;
    for (code, body) in [
        (
            "business_details",
            json!({ "value": format!("{} — registered company", vendor.legal_entity) }),
        ),
        (
            "tax_id",
            json!({ "value": format!("{}123456789", vendor.country) }),
        ),
        ("terms_accepted", json!({ "accepted": true })),
    ] {
        client
            .expect(
                code,
                "PUT",
                &format!("{path}/checklist/{code}"),
                Some(seller),
                Some(&body),
                &[200, 404],
            )
            .await?;
    }
    client
        .expect(
            "payout account",
            "PUT",
            &format!("{path}/payout-account"),
            Some(seller),
            // The first vendor is paid through Stripe Connect (the test payout provider in
            // the demo), the others by bank transfer.
            Some(&if index == 0 {
                json!({
                    "method": "stripe_connect", "stripe_account_id": format!("acct_1Demo{}", vendor.slug.replace('-', "")),
                    "schedule": "weekly",
                    "minimum_payout": { "amount": 0, "currency": currency }, "currency": currency,
                })
            } else {
                json!({
                    "method": "bank_transfer", "account_holder": vendor.legal_entity,
                    "iban": "DE89370400440532013000", "schedule": "weekly",
                    "minimum_payout": { "amount": 1000, "currency": currency }, "currency": currency,
                })
            }),
            &[200],
        )
        .await?;
    // The demo has no document to upload: the merchant accepts that item by hand.
    client
        .expect(
            "document override",
            "POST",
            &format!("{path}/checklist/registration_document/override"),
            Some(owner),
            Some(&json!({ "reason": "demo data: registration checked by the merchant" })),
            &[200, 404],
        )
        .await?;
    client
        .expect(
            "submit",
            "POST",
            &format!("{path}/transitions"),
            Some(seller),
            Some(&act("submit")),
            &[200],
        )
        .await?;
    client
        .expect(
            "approve",
            "POST",
            &format!("{path}/transitions"),
            Some(owner),
            Some(&act("approve")),
            &[200],
        )
        .await?;
    // The vendor's legal details, for the shop's commission invoices to it.
    client
        .expect(
            "legal details",
            "PATCH",
            &path,
            Some(owner),
            Some(&json!({
                "vat_id": format!("{}123456789", vendor.country),
                "legal_address": {
                    "lines": ["1 Depot Road"], "postal_code": "10115", "city": "Port",
                },
            })),
            &[200],
        )
        .await?;
    client
        .expect(
            "shipping rates",
            "PATCH",
            &path,
            Some(seller),
            Some(&json!({
                "shipping_flat_rate": { "amount": 490, "currency": currency },
                "free_shipping_over": { "amount": 5000, "currency": currency },
            })),
            &[200],
        )
        .await?;
    Ok(id)
}

/// Lists the vendor's products (one to three variants each) and publishes them; returns
/// the variant ids.
async fn list_products(
    client: &Client,
    owner: &str,
    vendor_id: &str,
    vendor: &DemoVendor,
    currency: &str,
    vendor_index: usize,
) -> Result<Vec<String>, MarketplaceError> {
    let mut variants = Vec::new();
    for (n, (title, tags)) in vendor.products.iter().enumerate() {
        let base = 1_500 + ((n * 37 + vendor_index * 11) % 40) as i64 * 500;
        let sizes: &[&str] = match n % 3 {
            0 => &["S", "M", "L"],
            1 => &["Standard"],
            _ => &["Small", "Large"],
        };
        let body = json!({
            "vendor_id": vendor_id,
            "title": title,
            "description": format!("{title} from {}. {}", vendor.store_name, vendor.description),
            "tags": tags.split(',').collect::<Vec<_>>(),
            "option_types": ["size"],
            "variants": sizes.iter().enumerate().map(|(k, size)| json!({
                "sku": format!("{}-{:02}-{}", vendor.slug.to_ascii_uppercase(), n + 1, size.to_ascii_uppercase()),
                "options": { "size": size },
                "price": { "amount": base + k as i64 * 1_000, "currency": currency },
            })).collect::<Vec<_>>(),
        });
        let created = client
            .expect(
                "product",
                "POST",
                "/api/v1/catalog/products",
                Some(owner),
                Some(&body),
                &[201],
            )
            .await?;
        let id = created["id"].as_str().unwrap_or_default().to_owned();
        client
            .expect(
                "publish",
                "POST",
                &format!("/api/v1/catalog/products/{id}/transitions"),
                Some(owner),
                Some(&json!({ "action": "publish" })),
                &[200],
            )
            .await?;
        variants.extend(
            created["variants"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["id"].as_str().map(str::to_owned)),
        );
    }
    Ok(variants)
}

/// A warehouse for the vendor with every variant in stock.
async fn stock(
    client: &Client,
    owner: &str,
    vendor_id: &str,
    vendor: &DemoVendor,
    variants: &[String],
) -> Result<(), MarketplaceError> {
    let warehouse = client
        .expect(
            "warehouse",
            "POST",
            "/api/v1/warehouses",
            Some(owner),
            Some(&json!({
                "vendor_id": vendor_id, "name": "Main warehouse",
                "address": { "line1": "1 Depot Road", "postal_code": "10115", "city": "Port", "country": vendor.country },
            })),
            &[201],
        )
        .await?;
    let warehouse = warehouse["id"].as_str().unwrap_or_default().to_owned();
    for (n, variant) in variants.iter().enumerate() {
        client
            .expect(
                "stock",
                "POST",
                &format!("/api/v1/warehouses/{warehouse}/adjustments"),
                Some(owner),
                Some(&json!({
                    "variant_id": variant, "delta": 5 + (n % 7) as i64 * 5, "reason": "received",
                    "note": "demo opening stock",
                })),
                &[201],
            )
            .await?;
    }
    Ok(())
}
