//! The shop's product attributes: everyone reads the definitions (they are the list's
//! filters); merchant staff (`catalog:manage`) define them.

use super::body::Body;
use crate::CatalogState;
use crate::domain::attribute::{check_code, check_options};
use crate::domain::{Attribute, AttributeKind, check_name};
use crate::problems::CatalogProblem;
use crate::repo;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use mercato_kernel::http::Json;
use mercato_kernel::{Checks, ListResponse, Problem};
use mercato_tenant_context::{Permission, TenantContext};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<CatalogState> {
    Router::new()
        .route("/api/v1/attributes", get(list).post(create))
        .route(
            "/api/v1/attributes/{code}",
            get(show).patch(update).delete(remove),
        )
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttributeOut {
    pub code: String,
    pub name: String,
    pub kind: AttributeKind,
    /// The allowed values of an enum attribute.
    pub options: Vec<String>,
}

impl From<Attribute> for AttributeOut {
    fn from(a: Attribute) -> Self {
        Self {
            code: a.code,
            name: a.name,
            kind: a.kind,
            options: a.options,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/attributes", tag = "attributes",
    responses((status = 200, body = ListResponse<AttributeOut>)))]
pub async fn list(
    State(state): State<CatalogState>,
    ctx: TenantContext,
) -> Result<Json<ListResponse<AttributeOut>>, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    Ok(Json(ListResponse {
        data: repo::attributes::all(&tx)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/v1/attributes/{code}", tag = "attributes",
    params(("code" = String, Path)),
    responses((status = 200, body = AttributeOut), (status = 404)))]
pub async fn show(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(code): Path<String>,
) -> Result<Json<AttributeOut>, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let found = repo::attributes::find(&tx, &code)
        .await?
        .ok_or_else(Problem::not_found)?;
    Ok(Json(found.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeIn {
    /// 1-40 lowercase letters, digits or `_`, starting with a letter; never changes.
    pub code: String,
    pub name: String,
    /// `text`, `number`, `boolean` or `enum`.
    pub kind: String,
    /// The allowed values of an enum.
    #[serde(default)]
    pub options: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/attributes", tag = "attributes", request_body = AttributeIn,
    responses((status = 201, body = AttributeOut), (status = 401), (status = 403),
        (status = 409, description = "the code is taken"), (status = 422)))]
pub async fn create(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Body(body): Body<AttributeIn>,
) -> Result<(StatusCode, Json<AttributeOut>), Problem> {
    ctx.require(Permission::CatalogManage)?;
    let mut checks = Checks::default();
    checks.field("/code", check_code(&body.code));
    checks.field("/name", check_name(&body.name, 100));
    let kind = AttributeKind::parse(&body.kind);
    match kind {
        None => checks.push("/kind", "text, number, boolean or enum"),
        Some(kind) => checks.field("/options", check_options(kind, &body.options)),
    }
    checks.finish()?;
    let Some(kind) = kind else {
        return Err(Problem::invalid_field(
            "/kind",
            "text, number, boolean or enum",
        ));
    };
    let now = crate::domain::now();
    let attribute = Attribute {
        code: body.code,
        name: body.name.trim().to_owned(),
        kind,
        options: body.options,
        created_at: now,
        updated_at: now,
    };
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    if let Err(e) = repo::attributes::insert(&tx, &attribute).await {
        return Err(if mercato_db::is_unique_violation(&e) {
            Problem::of(
                CatalogProblem::CodeTaken,
                "the shop has an attribute with this code",
            )
        } else {
            e.into()
        });
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(attribute.into())))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributePatch {
    pub name: Option<String>,
    /// An enum's options, all of them; options products use cannot be removed.
    pub options: Option<Vec<String>>,
}

#[utoipa::path(patch, path = "/api/v1/attributes/{code}", tag = "attributes",
    request_body = AttributePatch, params(("code" = String, Path)),
    responses((status = 200, body = AttributeOut), (status = 401), (status = 403), (status = 404),
        (status = 409, description = "`option_in_use`"), (status = 422)))]
pub async fn update(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(code): Path<String>,
    Body(patch): Body<AttributePatch>,
) -> Result<Json<AttributeOut>, Problem> {
    ctx.require(Permission::CatalogManage)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut attribute = repo::attributes::find(&tx, &code)
        .await?
        .ok_or_else(Problem::not_found)?;
    let mut checks = Checks::default();
    if let Some(name) = &patch.name {
        checks.field("/name", check_name(name, 100));
    }
    if let Some(options) = &patch.options {
        checks.field("/options", check_options(attribute.kind, options));
    }
    checks.finish()?;
    if let Some(options) = patch.options {
        let removed: Vec<String> = attribute
            .options
            .iter()
            .filter(|o| !options.contains(o))
            .cloned()
            .collect();
        if !removed.is_empty() && repo::attributes::usage(&tx, &code, Some(&removed)).await? > 0 {
            return Err(Problem::of(
                CatalogProblem::OptionInUse,
                "products use an option you are removing; change them first",
            ));
        }
        attribute.options = options;
    }
    if let Some(name) = patch.name {
        attribute.name = name.trim().to_owned();
    }
    attribute.updated_at = crate::domain::now();
    repo::attributes::update(&tx, &attribute).await?;
    tx.commit().await?;
    Ok(Json(attribute.into()))
}

#[utoipa::path(delete, path = "/api/v1/attributes/{code}", tag = "attributes",
    params(("code" = String, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404),
        (status = 409, description = "`attribute_in_use`")))]
pub async fn remove(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(code): Path<String>,
) -> Result<StatusCode, Problem> {
    ctx.require(Permission::CatalogManage)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    repo::attributes::find(&tx, &code)
        .await?
        .ok_or_else(Problem::not_found)?;
    if repo::attributes::usage(&tx, &code, None).await? > 0 {
        return Err(Problem::of(
            CatalogProblem::AttributeInUse,
            "products have a value for this attribute",
        ));
    }
    repo::attributes::delete(&tx, &code).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
