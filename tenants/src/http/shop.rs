//! A shop on its own domain: public info for everyone, settings for its merchant.

use super::ShopOut;
use crate::TenantsState;
use crate::domain::plan::{Limits, Plan};
use crate::domain::shop::{self as rules, Branding, Checks, Shop};
use crate::events;
use crate::repo::shops;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use mercato_kernel::http::{Json, nullable};
use mercato_kernel::{Currency, Problem};
use mercato_tenant_context::{Permission, TenantContext, TenantId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub fn router() -> Router<TenantsState> {
    Router::new()
        .route("/api/v1/shop", get(public))
        .route(
            "/api/v1/shop/settings",
            get(settings).patch(update_settings),
        )
        .route("/api/v1/shop/plan", get(plan))
}

/// What anyone on the shop's domain may read.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicShopOut {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub currency: Currency,
    pub locale: String,
    pub timezone: String,
    pub branding: Branding,
    pub support_email: Option<String>,
}

/// The caller's shop, read in a read-only transaction.
async fn read_current(state: &TenantsState, ctx: &TenantContext) -> Result<Shop, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    shops::current(&tx).await?.ok_or_else(Problem::not_found)
}

#[utoipa::path(get, path = "/api/v1/shop", tag = "shop", responses((status = 200, body = PublicShopOut)))]
pub async fn public(
    State(state): State<TenantsState>,
    ctx: TenantContext,
) -> Result<Json<PublicShopOut>, Problem> {
    let shop = read_current(&state, &ctx).await?;
    Ok(Json(PublicShopOut {
        id: shop.tenant,
        slug: shop.slug,
        branding: Branding {
            name: shop.branding.name.or(Some(shop.name.clone())),
            ..shop.branding
        },
        name: shop.name,
        currency: shop.currency,
        locale: shop.locale,
        timezone: shop.timezone,
        support_email: shop.support_email,
    }))
}

#[utoipa::path(get, path = "/api/v1/shop/settings", tag = "shop", responses((status = 200, body = ShopOut), (status = 401), (status = 403)))]
pub async fn settings(
    State(state): State<TenantsState>,
    ctx: TenantContext,
) -> Result<Json<ShopOut>, Problem> {
    ctx.require(Permission::SettingsWrite)?;
    let shop = read_current(&state, &ctx).await?;
    Ok(Json(ShopOut::new(shop, &state.config.platform_domain)))
}

/// Settings a merchant may change. Absent fields stay; `null` clears an optional one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub name: Option<String>,
    pub default_currency: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub branding_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub primary_colour: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub accent_colour: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub support_email: Option<Option<String>>,
}

impl SettingsPatch {
    fn apply(self, shop: &mut Shop) -> Result<(), Problem> {
        let mut checks = Checks::default();
        let opt = |v: &Option<Option<String>>, f: fn(&str) -> Result<(), &'static str>| match v {
            Some(Some(s)) => f(s),
            _ => Ok(()),
        };
        if let Some(name) = &self.name {
            checks.field("/name", rules::check_name(name));
        }
        let currency = self
            .default_currency
            .as_deref()
            .map(Currency::parse)
            .transpose();
        checks.field(
            "/default_currency",
            currency
                .as_ref()
                .map(|_| ())
                .map_err(|_| "an ISO 4217 code such as EUR"),
        );
        if let Some(locale) = &self.locale {
            checks.field("/locale", rules::check_locale(locale));
        }
        if let Some(tz) = &self.timezone {
            checks.field("/timezone", rules::check_timezone(tz));
        }
        checks.field(
            "/branding_name",
            opt(&self.branding_name, rules::check_name),
        );
        checks.field(
            "/primary_colour",
            opt(&self.primary_colour, rules::check_colour),
        );
        checks.field(
            "/accent_colour",
            opt(&self.accent_colour, rules::check_colour),
        );
        checks.field(
            "/support_email",
            opt(&self.support_email, rules::check_email),
        );
        checks.finish()?;

        if let Some(name) = self.name {
            shop.name = name.trim().to_owned();
        }
        if let Ok(Some(currency)) = currency {
            shop.currency = currency;
        }
        if let Some(locale) = self.locale {
            shop.locale = locale;
        }
        if let Some(tz) = self.timezone {
            shop.timezone = tz;
        }
        if let Some(v) = self.branding_name {
            shop.branding.name = v;
        }
        if let Some(v) = self.primary_colour {
            shop.branding.primary_colour = v.map(|c| c.to_ascii_lowercase());
        }
        if let Some(v) = self.accent_colour {
            shop.branding.accent_colour = v.map(|c| c.to_ascii_lowercase());
        }
        if let Some(v) = self.support_email {
            shop.support_email = v;
        }
        Ok(())
    }
}

#[utoipa::path(patch, path = "/api/v1/shop/settings", tag = "shop", request_body = SettingsPatch,
    responses((status = 200, body = ShopOut), (status = 401), (status = 403), (status = 422)))]
pub async fn update_settings(
    State(state): State<TenantsState>,
    ctx: TenantContext,
    Json(patch): Json<SettingsPatch>,
) -> Result<Json<ShopOut>, Problem> {
    ctx.require(Permission::SettingsWrite)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut shop = shops::current(&tx).await?.ok_or_else(Problem::not_found)?;
    patch.apply(&mut shop)?;
    shop.updated_at = crate::now();
    shops::save_settings(&tx, &shop).await?;
    events::shop(&*tx, "shop.updated", &shop, None).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Json(ShopOut::new(shop, &state.config.platform_domain)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanOut {
    pub plan: Plan,
    pub limits: Limits,
    pub features: BTreeMap<String, bool>,
}

#[utoipa::path(get, path = "/api/v1/shop/plan", tag = "shop", responses((status = 200, body = PlanOut), (status = 401), (status = 403)))]
pub async fn plan(
    State(state): State<TenantsState>,
    ctx: TenantContext,
) -> Result<Json<PlanOut>, Problem> {
    ctx.require(Permission::PlanRead)?;
    let shop = read_current(&state, &ctx).await?;
    Ok(Json(PlanOut {
        plan: shop.plan,
        limits: shop.plan.limits(),
        features: shop.features(),
    }))
}
