//! A shop's custom domains and their verification status.

use crate::TenantsState;
use crate::domain::hostname::Hostname;
use crate::events;
use crate::problems::TenantsProblem;
use crate::repo::domains::{self, Domain, DomainId, DomainStatus};
use crate::repo::shops;
use crate::verification;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use mercato_kernel::http::{Json, path_id};
use mercato_kernel::{ListResponse, Problem};
use mercato_tenant_context::{Permission, TenantContext};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<TenantsState> {
    Router::new()
        .route("/api/v1/shop/domains", post(add).get(list))
        .route("/api/v1/shop/domains/{domain_id}", get(show).delete(remove))
        .route("/api/v1/shop/domains/{domain_id}/verify", post(verify))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainIn {
    /// The host name shoppers will use, e.g. `shop.example.com`.
    pub hostname: String,
}

/// How to prove ownership: publish `value` as a TXT record at `name`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerificationRecord {
    pub r#type: &'static str,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DomainOut {
    pub id: DomainId,
    pub hostname: String,
    pub status: DomainStatus,
    pub verification: VerificationRecord,
    pub last_checked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_error: Option<String>,
    pub verified_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Domain> for DomainOut {
    fn from(d: Domain) -> Self {
        Self {
            id: d.id,
            verification: VerificationRecord {
                r#type: "TXT",
                name: verification::record_name(&d.hostname),
                value: d.verification_token,
            },
            hostname: d.hostname,
            status: d.status,
            last_checked_at: d.last_checked_at,
            last_error: d.last_error,
            verified_at: d.verified_at,
            created_at: d.created_at,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/shop/domains", tag = "shop", request_body = DomainIn,
    responses((status = 201, body = DomainOut), (status = 402, description = "plan allows no more domains"),
        (status = 409, description = "already added or owned by another shop"), (status = 422)))]
pub async fn add(
    State(state): State<TenantsState>,
    ctx: TenantContext,
    Json(body): Json<DomainIn>,
) -> Result<(StatusCode, Json<DomainOut>), Problem> {
    ctx.require(Permission::DomainsManage)?;
    let hostname =
        Hostname::parse(&body.hostname).map_err(|m| Problem::invalid_field("/hostname", m))?;
    if hostname.is_within(&state.config.platform_domain) {
        return Err(Problem::invalid_field(
            "/hostname",
            "the platform's own domain cannot be added; every shop has its subdomain already",
        ));
    }
    // Is it routed to another shop already? That needs a look across shops.
    let platform = state.db.platform_read("domain availability").await?;
    let owner = domains::verified_owner(&platform, hostname.as_str()).await?;
    drop(platform);
    if owner.is_some_and(|shop| shop.tenant != ctx.tenant) {
        return Err(Problem::of(
            TenantsProblem::DomainTaken,
            "this domain is verified by another shop",
        ));
    }

    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let shop = shops::current(&tx).await?.ok_or_else(Problem::not_found)?;
    if !shop
        .features()
        .get("custom_domains")
        .copied()
        .unwrap_or(false)
    {
        return Err(Problem::forbidden(
            "custom domains are not enabled for this shop",
        ));
    }
    let limit = shop.plan.limits().custom_domains;
    if domains::count(&tx).await? >= u64::from(limit) {
        return Err(Problem::limit_exceeded(format!(
            "the {} plan allows {limit} custom domain(s)",
            shop.plan.code()
        )));
    }
    let domain = Domain {
        id: DomainId::new(),
        tenant: ctx.tenant,
        hostname: hostname.to_string(),
        status: DomainStatus::Pending,
        verification_token: mercato_auth::OpaqueSecret::generate("mercato-verify=").text,
        last_checked_at: None,
        last_error: None,
        verified_at: None,
        created_at: crate::now(),
    };
    if let Err(e) = domains::insert(&tx, &domain).await {
        return Err(if mercato_db::is_unique_violation(&e) {
            Problem::of(
                TenantsProblem::DomainExists,
                "this shop has added this domain already",
            )
        } else {
            e.into()
        });
    }
    verification::schedule(&tx, domain.id, state.config.domain_checks.max_attempts).await?;
    events::domain(&*tx, "domain.added", &domain).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok((StatusCode::CREATED, Json(domain.into())))
}

#[utoipa::path(get, path = "/api/v1/shop/domains", tag = "shop", responses((status = 200, body = ListResponse<DomainOut>)))]
pub async fn list(
    State(state): State<TenantsState>,
    ctx: TenantContext,
) -> Result<Json<ListResponse<DomainOut>>, Problem> {
    ctx.require(Permission::DomainsManage)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    // A shop has a handful of domains (the plan caps them): one page.
    let data = domains::list(&tx)
        .await?
        .into_iter()
        .map(DomainOut::from)
        .collect();
    Ok(Json(ListResponse {
        data,
        next_cursor: None,
    }))
}

async fn load(tx: &mercato_db::TenantTx, id: &str) -> Result<Domain, Problem> {
    domains::find(tx, path_id(id)?)
        .await?
        .ok_or_else(Problem::not_found)
}

#[utoipa::path(get, path = "/api/v1/shop/domains/{domain_id}", tag = "shop",
    params(("domain_id" = String, Path, description = "`dom_…`")), responses((status = 200, body = DomainOut), (status = 404)))]
pub async fn show(
    State(state): State<TenantsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<DomainOut>, Problem> {
    ctx.require(Permission::DomainsManage)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    Ok(Json(load(&tx, &id).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/shop/domains/{domain_id}", tag = "shop",
    params(("domain_id" = String, Path, description = "`dom_…`")), responses((status = 204), (status = 404)))]
pub async fn remove(
    State(state): State<TenantsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    ctx.require(Permission::DomainsManage)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let domain = load(&tx, &id).await?;
    domains::delete(&tx, domain.id).await?;
    events::domain(&*tx, "domain.removed", &domain).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(StatusCode::NO_CONTENT)
}

/// Asks for a check now (after adding the TXT record, or after the checks gave up).
#[utoipa::path(post, path = "/api/v1/shop/domains/{domain_id}/verify", tag = "shop",
    params(("domain_id" = String, Path, description = "`dom_…`")),
    responses((status = 202, body = DomainOut), (status = 404)))]
pub async fn verify(
    State(state): State<TenantsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<DomainOut>), Problem> {
    ctx.require(Permission::DomainsManage)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut domain = load(&tx, &id).await?;
    if domain.status != DomainStatus::Verified {
        if domain.status == DomainStatus::Failed {
            domain.status = DomainStatus::Pending;
            domains::record_check(&tx, &domain).await?;
        }
        verification::schedule(&tx, domain.id, state.config.domain_checks.max_attempts).await?;
        tx.commit().await?;
    }
    Ok((StatusCode::ACCEPTED, Json(domain.into())))
}
