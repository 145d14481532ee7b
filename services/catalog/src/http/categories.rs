//! The shop's category tree: everyone reads it; merchant staff (`catalog:manage`) shape it.
//! Moves that would make a cycle are refused; a category is deleted only when empty.

use super::body::Body;
use crate::CatalogState;
use crate::domain::{Category, CategoryTree, check_name, check_slug, slugify};
use crate::events;
use crate::problems::CatalogProblem;
use crate::repo;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use mercato_kernel::http::{Json, nullable, path_id};
use mercato_kernel::{Checks, ListResponse, Problem};
use mercato_tenant_context::{CategoryId, Permission, TenantContext};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<CatalogState> {
    Router::new()
        .route("/api/v1/categories", get(list).post(create))
        .route(
            "/api/v1/categories/{category_id}",
            get(show).patch(update).delete(remove),
        )
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryOut {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub name: String,
    pub slug: String,
    /// Order among siblings, lower first.
    pub position: i32,
    /// Ids from the root down to this category.
    pub path: Vec<CategoryId>,
}

fn category_out(tree: &CategoryTree, c: Category) -> CategoryOut {
    CategoryOut {
        path: tree.path(c.id),
        id: c.id,
        parent_id: c.parent,
        name: c.name,
        slug: c.slug,
        position: c.position,
    }
}

#[utoipa::path(get, path = "/api/v1/categories", tag = "categories",
    responses((status = 200, description = "the whole tree, flat, siblings by position", body = ListResponse<CategoryOut>)))]
pub async fn list(
    State(state): State<CatalogState>,
    ctx: TenantContext,
) -> Result<Json<ListResponse<CategoryOut>>, Problem> {
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let all = repo::categories::all(&tx).await?;
    let tree = CategoryTree::new(&all);
    Ok(Json(ListResponse {
        data: all.into_iter().map(|c| category_out(&tree, c)).collect(),
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/v1/categories/{category_id}", tag = "categories",
    params(("category_id" = String, Path)),
    responses((status = 200, body = CategoryOut), (status = 404)))]
pub async fn show(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<CategoryOut>, Problem> {
    let id: CategoryId = path_id(&id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let all = repo::categories::all(&tx).await?;
    let tree = CategoryTree::new(&all);
    let found = all
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(Problem::not_found)?;
    Ok(Json(category_out(&tree, found)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryIn {
    /// 1 to 100 characters, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub name: String,
    /// Unique in the shop: 2-80 lowercase letters, digits and single inner hyphens. Defaults
    /// to one made from the name's ASCII letters and digits; send one when the name has
    /// fewer than two of them.
    #[serde(default)]
    #[schema(min_length = 2, max_length = 80, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[serde(default)]
    pub parent_id: Option<CategoryId>,
    #[serde(default)]
    pub position: i32,
}

fn slug_conflict(e: sea_orm::DbErr) -> Problem {
    if mercato_db::is_unique_violation(&e) {
        Problem::of(
            CatalogProblem::SlugTaken,
            "another category of this shop has this slug",
        )
    } else {
        e.into()
    }
}

#[utoipa::path(post, path = "/api/v1/categories", tag = "categories", request_body = CategoryIn,
    responses((status = 201, body = CategoryOut), (status = 401), (status = 403), (status = 409, description = "slug taken"), (status = 422)))]
pub async fn create(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Body(body): Body<CategoryIn>,
) -> Result<(StatusCode, Json<CategoryOut>), Problem> {
    ctx.require(Permission::CatalogManage)?;
    let slug = body.slug.clone().unwrap_or_else(|| slugify(&body.name));
    let mut checks = Checks::default();
    checks.field("/name", check_name(&body.name, 100));
    checks.field("/slug", check_slug(&slug));
    checks.finish()?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let all = repo::categories::all(&tx).await?;
    let tree = CategoryTree::new(&all);
    let id = CategoryId::new();
    tree.check_move(id, body.parent_id)
        .map_err(|e| Problem::invalid_field("/parent_id", e.message()))?;
    let now = crate::domain::now();
    let category = Category {
        id,
        parent: body.parent_id,
        name: body.name.trim().to_owned(),
        slug,
        position: body.position,
        created_at: now,
        updated_at: now,
    };
    repo::categories::insert(&tx, &category)
        .await
        .map_err(slug_conflict)?;
    tx.commit().await?;
    let mut all = all;
    all.push(category.clone());
    Ok((
        StatusCode::CREATED,
        Json(category_out(&CategoryTree::new(&all), category)),
    ))
}

/// Category changes; `parent_id: null` makes it a root.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(min_length = 2, max_length = 80, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<CategoryId>)]
    pub parent_id: Option<Option<CategoryId>>,
    pub position: Option<i32>,
}

#[utoipa::path(patch, path = "/api/v1/categories/{category_id}", tag = "categories",
    request_body = CategoryPatch, params(("category_id" = String, Path)),
    responses((status = 200, body = CategoryOut), (status = 401), (status = 403), (status = 404),
        (status = 409, description = "slug taken"), (status = 422, description = "e.g. a move under its own descendant")))]
pub async fn update(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Body(patch): Body<CategoryPatch>,
) -> Result<Json<CategoryOut>, Problem> {
    let id: CategoryId = path_id(&id)?;
    ctx.require(Permission::CatalogManage)?;
    let mut checks = Checks::default();
    if let Some(name) = &patch.name {
        checks.field("/name", check_name(name, 100));
    }
    if let Some(slug) = &patch.slug {
        checks.field("/slug", check_slug(slug));
    }
    checks.finish()?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let mut all = repo::categories::all(&tx).await?;
    let tree = CategoryTree::new(&all);
    let index = all
        .iter()
        .position(|c| c.id == id)
        .ok_or_else(Problem::not_found)?;
    let mut category = all[index].clone();
    let moved = patch.parent_id.is_some_and(|p| p != category.parent);
    if let Some(parent) = patch.parent_id {
        tree.check_move(id, parent)
            .map_err(|e| Problem::invalid_field("/parent_id", e.message()))?;
        category.parent = parent;
    }
    if let Some(name) = patch.name {
        category.name = name.trim().to_owned();
    }
    if let Some(slug) = patch.slug {
        category.slug = slug;
    }
    if let Some(position) = patch.position {
        category.position = position;
    }
    category.updated_at = crate::domain::now();
    repo::categories::update(&tx, &category)
        .await
        .map_err(slug_conflict)?;
    all[index] = category.clone();
    let tree = CategoryTree::new(&all);
    if moved {
        // The products below it have a new category path.
        let products = repo::products::ids_in_categories(&tx, &tree.with_descendants(id)).await?;
        events::publish_changed(&tx, &products).await?;
    }
    tx.commit().await?;
    if moved {
        state.outbox.notify_one();
    }
    Ok(Json(category_out(&tree, category)))
}

#[utoipa::path(delete, path = "/api/v1/categories/{category_id}", tag = "categories",
    params(("category_id" = String, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404),
        (status = 409, description = "`category_not_empty`: it has subcategories or products")))]
pub async fn remove(
    State(state): State<CatalogState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let id: CategoryId = path_id(&id)?;
    ctx.require(Permission::CatalogManage)?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let all = repo::categories::all(&tx).await?;
    let tree = CategoryTree::new(&all);
    if !tree.contains(id) {
        return Err(Problem::not_found());
    }
    if tree.has_children(id) {
        return Err(Problem::of(
            CatalogProblem::CategoryNotEmpty,
            "move or delete its subcategories first",
        ));
    }
    if repo::categories::product_count(&tx, id).await? > 0 {
        return Err(Problem::of(
            CatalogProblem::CategoryNotEmpty,
            "move its products to another category first",
        ));
    }
    repo::categories::delete(&tx, id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
