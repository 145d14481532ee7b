//! Moving a vendor through its lifecycle: one endpoint, one action per call, each checked
//! against the state machine (`domain::vendor`), the caller's side and the checklist.

use super::vendors::VendorOut;
use super::{parse_reason, vendor_to_change};
use crate::VendorsState;
use crate::domain::Action;
use crate::domain::checklist::{ItemState, missing_required};
use crate::domain::vendor::Side;
use crate::events;
use crate::problems::VendorsProblem;
use crate::repo::history::{self, HistoryEntry};
use crate::repo::{self};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use mercato_kernel::http::{Json, path_id};
use mercato_kernel::{FieldError, Problem};
use mercato_tenant_context::{Permission, TenantContext, VendorId, VendorPermission};
use serde::Deserialize;

pub fn router() -> Router<VendorsState> {
    Router::new().route("/api/v1/vendors/{vendor_id}/transitions", post(transition))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionIn {
    /// accept, submit, request_changes, approve, reject, suspend or reinstate.
    pub action: String,
    /// Required for reject, suspend and request_changes; shown to the vendor.
    #[serde(default)]
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/vendors/{vendor_id}/transitions", tag = "vendors",
    request_body = TransitionIn, params(("vendor_id" = String, Path)),
    responses((status = 200, body = VendorOut),
        (status = 403, description = "the other side's action, or the role does not allow it"),
        (status = 404),
        (status = 409, description = "`invalid_transition` from this state, or `checklist_incomplete` (errors name the missing items)"),
        (status = 422)))]
pub async fn transition(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Json(body): Json<TransitionIn>,
) -> Result<Json<VendorOut>, Problem> {
    let id: VendorId = path_id(&id)?;
    let action = Action::parse(&body.action).ok_or_else(|| {
        Problem::invalid_field(
            "/action",
            "one of accept, submit, request_changes, approve, reject, suspend, reinstate",
        )
    })?;
    let reason = parse_reason(body.reason.as_deref(), action.needs_reason())?;

    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (mut vendor, _) = match action.side() {
        Side::Vendor => vendor_to_change(&tx, &ctx, id, VendorPermission::Lifecycle).await?,
        Side::Merchant => {
            let found = vendor_to_change(&tx, &ctx, id, VendorPermission::Read).await?;
            ctx.require(Permission::VendorsManage)?;
            found
        }
    };
    let to = vendor.plan(action)?;
    if action == Action::Submit {
        let items = repo::checklist::items(&tx).await?;
        let progress = repo::checklist::progress(&tx, vendor.id).await?;
        let missing = missing_required(&items, |code| {
            progress
                .iter()
                .find(|p| p.code == code)
                .map_or(ItemState::Missing, |p| p.state)
        });
        if !missing.is_empty() {
            let mut problem = Problem::of(
                VendorsProblem::ChecklistIncomplete,
                format!(
                    "required checklist items are missing: {}",
                    missing.join(", ")
                ),
            );
            problem.errors = missing
                .iter()
                .map(|code| FieldError::new(format!("/checklist/{code}"), "required"))
                .collect();
            return Err(problem);
        }
    }
    let from = vendor.status;
    vendor.status = to;
    if action.needs_reason() {
        vendor.status_reason = reason.clone();
    } else if matches!(action, Action::Approve | Action::Reinstate) {
        vendor.status_reason = None;
    }
    vendor.updated_at = chrono::Utc::now();
    repo::vendors::update(&tx, &vendor).await?;
    let actor = ctx.actor.label();
    history::record(
        &tx,
        &HistoryEntry {
            id: uuid::Uuid::now_v7(),
            vendor: vendor.id,
            action: action.code().into(),
            from_status: Some(from.code().into()),
            to_status: to.code().into(),
            reason: reason.clone(),
            actor: actor.clone(),
            at: vendor.updated_at,
        },
    )
    .await?;
    events::vendor(&*tx, action.event(), &vendor, reason.as_deref(), &actor).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Json(VendorOut::render(vendor, &state.storage).await))
}
