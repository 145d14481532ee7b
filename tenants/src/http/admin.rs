//! Platform administration of shops, on the platform host.

use super::ShopOut;
use crate::TenantsState;
use crate::domain::plan::{FEATURES, Plan};
use crate::domain::shop::{self as rules, Checks, NewShop, Shop, ShopStatus};
use crate::events;
use crate::problems::TenantsProblem;
use crate::repo::shops;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use mercato_kernel::http::{Json, Query, path_id};
use mercato_kernel::{Currency, ListResponse, Problem};
use mercato_tenant_context::{PlatformContext, TenantId};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn router() -> Router<TenantsState> {
    Router::new()
        .route("/api/v1/admin/shops", post(create).get(list))
        .route("/api/v1/admin/shops/{shop_id}", get(show).patch(update))
        .route("/api/v1/admin/shops/{shop_id}/suspend", post(suspend))
        .route("/api/v1/admin/shops/{shop_id}/reactivate", post(reactivate))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopIn {
    pub name: String,
    /// Names the shop's subdomain: `<slug>.<platform domain>`.
    pub slug: String,
    pub default_currency: String,
    #[serde(default = "default_locale")]
    pub locale: String,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default = "default_plan")]
    pub plan: String,
    /// The merchant who will own the shop; published with `shop.created` so identity can
    /// invite them.
    pub owner_email: Option<String>,
}

fn default_locale() -> String {
    "en".into()
}
fn default_timezone() -> String {
    "UTC".into()
}
fn default_plan() -> String {
    "free".into()
}

fn parse_plan(code: &str) -> Result<Plan, &'static str> {
    Plan::parse(code).ok_or("one of free, growth, scale")
}

impl ShopIn {
    fn parse(self) -> Result<(NewShop, Option<String>), Problem> {
        let mut checks = Checks::default();
        checks.field("/name", rules::check_name(&self.name));
        checks.field("/slug", rules::check_slug(&self.slug));
        let currency = Currency::parse(&self.default_currency);
        checks.field(
            "/default_currency",
            currency
                .as_ref()
                .map(|_| ())
                .map_err(|_| "an ISO 4217 code such as EUR"),
        );
        checks.field("/locale", rules::check_locale(&self.locale));
        checks.field("/timezone", rules::check_timezone(&self.timezone));
        let plan = parse_plan(&self.plan);
        checks.field("/plan", plan.map(|_| ()));
        if let Some(email) = &self.owner_email {
            checks.field("/owner_email", rules::check_email(email));
        }
        checks.finish()?;
        let (Ok(currency), Ok(plan)) = (currency, plan) else {
            return Err(Problem::invalid_field("/", "invalid"));
        };
        let new = NewShop {
            name: self.name,
            slug: self.slug,
            currency,
            locale: self.locale,
            timezone: self.timezone,
            plan,
        };
        Ok((new, self.owner_email.map(|e| e.to_ascii_lowercase())))
    }
}

#[utoipa::path(post, path = "/api/v1/admin/shops", tag = "platform", request_body = ShopIn,
    responses((status = 201, body = ShopOut), (status = 409, description = "slug taken"), (status = 422, description = "invalid fields")))]
pub async fn create(
    State(state): State<TenantsState>,
    ctx: PlatformContext,
    Json(body): Json<ShopIn>,
) -> Result<(StatusCode, Json<ShopOut>), Problem> {
    ctx.admin()?;
    let (new, owner_email) = body.parse()?;
    let shop = Shop::open(new, crate::now());
    let tx = state.db.platform_tx("create shop").await?;
    if let Err(e) = shops::insert(&tx, &shop).await {
        return Err(if mercato_db::is_unique_violation(&e) {
            Problem::of(
                TenantsProblem::SlugTaken,
                format!("the slug {:?} is taken", shop.slug),
            )
        } else {
            e.into()
        });
    }
    events::shop(&*tx, "shop.created", &shop, owner_email.as_deref()).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    tracing::info!(tenant_id = %shop.tenant, slug = %shop.slug, "shop created");
    Ok((
        StatusCode::CREATED,
        Json(ShopOut::new(shop, &state.config.platform_domain)),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ShopListQuery {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    /// Only shops with this status.
    pub status: Option<ShopStatus>,
}

#[utoipa::path(get, path = "/api/v1/admin/shops", tag = "platform", params(ShopListQuery),
    responses((status = 200, body = ListResponse<ShopOut>)))]
pub async fn list(
    State(state): State<TenantsState>,
    ctx: PlatformContext,
    Query(query): Query<ShopListQuery>,
) -> Result<Json<ListResponse<ShopOut>>, Problem> {
    ctx.admin()?;
    let limit = mercato_kernel::ListQuery {
        limit: query.limit,
        cursor: None,
    }
    .limit()?;
    let after = match &query.cursor {
        Some(c) => Some(
            c.parse::<TenantId>()
                .map_err(|_| Problem::invalid_field("/cursor", "not a cursor from this list"))?,
        ),
        None => None,
    };
    let tx = state.db.platform_read("list shops").await?;
    let rows = shops::list(&tx, query.status, after, limit + 1).await?;
    let page = ListResponse::from_overfetch(rows, limit, |s| s.tenant.to_string());
    let domain = &state.config.platform_domain;
    Ok(Json(ListResponse {
        data: page
            .data
            .into_iter()
            .map(|s| ShopOut::new(s, domain))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

async fn load(tx: &mercato_db::PlatformTx, id: &str) -> Result<Shop, Problem> {
    let id: TenantId = path_id(id)?;
    shops::find(tx, id).await?.ok_or_else(Problem::not_found)
}

#[utoipa::path(get, path = "/api/v1/admin/shops/{shop_id}", tag = "platform",
    params(("shop_id" = String, Path, description = "`shop_…`")),
    responses((status = 200, body = ShopOut), (status = 404)))]
pub async fn show(
    State(state): State<TenantsState>,
    ctx: PlatformContext,
    Path(id): Path<String>,
) -> Result<Json<ShopOut>, Problem> {
    ctx.admin()?;
    let tx = state.db.platform_read("show shop").await?;
    let shop = load(&tx, &id).await?;
    Ok(Json(ShopOut::new(shop, &state.config.platform_domain)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopAdminPatch {
    pub plan: Option<String>,
    /// Per-shop feature flag overrides; `null` for a flag returns it to the plan's default.
    pub features: Option<BTreeMap<String, Option<bool>>>,
}

#[utoipa::path(patch, path = "/api/v1/admin/shops/{shop_id}", tag = "platform", request_body = ShopAdminPatch,
    params(("shop_id" = String, Path, description = "`shop_…`")),
    responses((status = 200, body = ShopOut), (status = 404), (status = 422)))]
pub async fn update(
    State(state): State<TenantsState>,
    ctx: PlatformContext,
    Path(id): Path<String>,
    Json(patch): Json<ShopAdminPatch>,
) -> Result<Json<ShopOut>, Problem> {
    ctx.admin()?;
    let mut checks = Checks::default();
    let plan = patch.plan.as_deref().map(parse_plan).transpose();
    checks.field("/plan", plan.map(|_| ()));
    for flag in patch.features.iter().flat_map(BTreeMap::keys) {
        checks.field(
            &format!("/features/{flag}"),
            if FEATURES.contains(&flag.as_str()) {
                Ok(())
            } else {
                Err("not a feature flag")
            },
        );
    }
    checks.finish()?;
    let tx = state.db.platform_tx("update shop").await?;
    let mut shop = load(&tx, &id).await?;
    if let Ok(Some(plan)) = patch.plan.as_deref().map(parse_plan).transpose() {
        shop.plan = plan;
    }
    for (flag, value) in patch.features.unwrap_or_default() {
        match value {
            Some(on) => shop.feature_overrides.insert(flag, on),
            None => shop.feature_overrides.remove(&flag),
        };
    }
    shop.updated_at = crate::now();
    shops::save_admin_fields(&tx, &shop).await?;
    events::shop(&*tx, "shop.updated", &shop, None).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Json(ShopOut::new(shop, &state.config.platform_domain)))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendIn {
    /// Why, for the record and the shop's 503 page.
    pub reason: Option<String>,
}

async fn set_status(
    state: &TenantsState,
    id: &str,
    status: ShopStatus,
    reason: Option<String>,
) -> Result<Json<ShopOut>, Problem> {
    let tx = state.db.platform_tx("change shop status").await?;
    let mut shop = load(&tx, id).await?;
    if shop.status != status {
        shop.status = status;
        shop.status_reason = reason;
        shop.updated_at = crate::now();
        shops::save_admin_fields(&tx, &shop).await?;
        let name = if status == ShopStatus::Suspended {
            "shop.suspended"
        } else {
            "shop.reactivated"
        };
        events::shop(&*tx, name, &shop, None).await?;
        tx.commit().await?;
        state.outbox.notify_one();
        tracing::info!(tenant_id = %shop.tenant, status = status.code(), "shop status changed");
    }
    Ok(Json(ShopOut::new(shop, &state.config.platform_domain)))
}

#[utoipa::path(post, path = "/api/v1/admin/shops/{shop_id}/suspend", tag = "platform", request_body = SuspendIn,
    params(("shop_id" = String, Path, description = "`shop_…`")),
    responses((status = 200, body = ShopOut), (status = 404)))]
pub async fn suspend(
    State(state): State<TenantsState>,
    ctx: PlatformContext,
    Path(id): Path<String>,
    body: Option<Json<SuspendIn>>,
) -> Result<Json<ShopOut>, Problem> {
    ctx.admin()?;
    let reason = body
        .and_then(|Json(b)| b.reason)
        .filter(|r| !r.trim().is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(Problem::invalid_field("/reason", "at most 500 characters"));
    }
    set_status(&state, &id, ShopStatus::Suspended, reason).await
}

#[utoipa::path(post, path = "/api/v1/admin/shops/{shop_id}/reactivate", tag = "platform",
    params(("shop_id" = String, Path, description = "`shop_…`")),
    responses((status = 200, body = ShopOut), (status = 404)))]
pub async fn reactivate(
    State(state): State<TenantsState>,
    ctx: PlatformContext,
    Path(id): Path<String>,
) -> Result<Json<ShopOut>, Problem> {
    ctx.admin()?;
    set_status(&state, &id, ShopStatus::Active, None).await
}
