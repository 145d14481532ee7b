//! Stripe's webhooks about Connect transfers, on the shop's domain: `POST
//! /api/v1/payouts/webhooks/stripe` (ADR 0044). A transfer Stripe reverses in full after it
//! was made (`transfer.reversed`, or `transfer.updated` with `reversed: true`) fails the
//! payout it paid, with the reason "reversed by Stripe": its money is available to the
//! vendor again, and `payout.failed` (`previous_status: paid`) lets the ledger reverse the
//! payout's booking. The body must carry a valid `Stripe-Signature` made with one of the
//! platform's Stripe webhook secrets (the same scheme and secrets as the payments webhook);
//! anything else is a 400 and changes nothing. A replay finds the payout failed already and
//! changes nothing; a transfer of another shop is not found here and changes nothing.

use crate::PayoutsState;
use crate::http::PayoutsProblem;
use crate::providers::WebhookRefused;
use crate::repo;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use mercato_kernel::Problem;
use mercato_tenant_context::{TenantContext, TenantId};
use serde::Deserialize;
use std::collections::HashMap;

pub const SIGNATURE_HEADER: &str = "stripe-signature";
/// Why a reversed payout failed, as the payout and its event say.
pub const REVERSED: &str = "reversed by Stripe";
/// Who moved a payout Stripe reversed.
const ACTOR: &str = "provider:stripe";

pub fn router() -> Router<PayoutsState> {
    Router::new().route("/api/v1/payouts/webhooks/stripe", post(receive))
}

/// The parts of a Stripe event this endpoint reads.
#[derive(Debug, Deserialize)]
struct StripeEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: serde_json::Value,
}

/// A transfer as Stripe sends it in an event.
#[derive(Debug, Deserialize)]
struct WireTransfer {
    id: String,
    /// Whether the whole transfer was reversed.
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    metadata: HashMap<String, String>,
}

/// What an event asks of payouts.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    /// Transfer `transfer` was reversed in full; `shop` is the shop its metadata names.
    Reversed {
        transfer: String,
        shop: Option<String>,
    },
    /// Nothing: another event type, or a partial reversal (ADR 0044).
    Nothing,
}

/// Reads what `body` (a verified Stripe event) asks of payouts.
fn read(body: &[u8]) -> Result<(String, Asked), String> {
    let event: StripeEvent = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if event.kind != "transfer.reversed" && event.kind != "transfer.updated" {
        return Ok((event.id, Asked::Nothing));
    }
    let transfer: WireTransfer =
        serde_json::from_value(event.data.object).map_err(|e| format!("the transfer: {e}"))?;
    if !transfer.reversed {
        return Ok((event.id, Asked::Nothing));
    }
    Ok((
        event.id,
        Asked::Reversed {
            transfer: transfer.id,
            shop: transfer.metadata.get("tenant_id").cloned(),
        },
    ))
}

/// Receives Stripe's webhook about a Connect transfer.
#[utoipa::path(post, path = "/api/v1/payouts/webhooks/stripe", tag = "payouts",
    params(("Stripe-Signature" = String, Header, pattern = "^t=[0-9]+(,v[0-9]+=[0-9a-fA-F]+)+$",
        description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of `<t>.<body>`>`; only a signature made with one of the platform's Stripe webhook secrets is accepted")),
    request_body(content = String, description = "Stripe's event, as sent", content_type = "application/json"),
    responses((status = 204, description = "Applied, already applied, or nothing to apply"),
        (status = 400, description = "`invalid_signature` or `invalid_event`; nothing changed"),
        (status = 404, description = "Stripe Connect is not configured on this platform")))]
pub async fn receive(
    State(state): State<PayoutsState>,
    ctx: TenantContext,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Problem> {
    let Some(connect) = &state.providers.connect else {
        return Err(Problem::not_found());
    };
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Problem::of(
                PayoutsProblem::InvalidSignature,
                "no Stripe-Signature header",
            )
        })?;
    connect
        .verify_webhook(signature, &body)
        .map_err(|refused| match refused {
            WebhookRefused::NoEndpoint => Problem::not_found(),
            WebhookRefused::BadSignature(why) => Problem::of(PayoutsProblem::InvalidSignature, why),
        })?;
    let (event, asked) =
        read(&body).map_err(|why| Problem::of(PayoutsProblem::InvalidEvent, why))?;
    if let Asked::Reversed { transfer, shop } = asked {
        reverse(&state, ctx.tenant, &event, &transfer, shop.as_deref()).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Fails the shop's payout that `transfer` paid, once; nothing when the transfer is not
/// this shop's or its payout failed already (a replay).
async fn reverse(
    state: &PayoutsState,
    tenant: TenantId,
    event: &str,
    transfer: &str,
    shop: Option<&str>,
) -> Result<(), Problem> {
    // A Stripe account sends every shop's events to every endpoint it has.
    if shop.is_some_and(|s| s != tenant.to_string()) {
        return Ok(());
    }
    let tx = state.db.tenant_tx(tenant).await?;
    let Some(payout) = repo::payout_by_reference(&tx, "stripe_connect", transfer, true).await?
    else {
        tracing::info!(tenant_id = %tenant, event, transfer, "reversal of an unknown transfer ignored");
        return Ok(());
    };
    if !payout.status.can_be_reversed() {
        // Failed already: a replay, or a transfer reversed twice over.
        return Ok(());
    }
    crate::runs::reverse(&tx, &payout, REVERSED, ACTOR).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    tracing::warn!(tenant_id = %tenant, event, transfer, payout_id = %payout.id, vendor_id = %payout.vendor, "stripe reversed a payout's transfer");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, transfer: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "id": "evt_1", "object": "event", "type": kind,
            "data": { "object": transfer }
        }))
        .unwrap()
    }

    #[test]
    fn a_full_reversal_names_its_transfer_and_shop() {
        let body = event(
            "transfer.reversed",
            serde_json::json!({ "id": "tr_1", "object": "transfer", "reversed": true,
                "metadata": { "tenant_id": "shop_x" } }),
        );
        assert_eq!(
            read(&body).unwrap(),
            (
                "evt_1".to_owned(),
                Asked::Reversed {
                    transfer: "tr_1".into(),
                    shop: Some("shop_x".into())
                }
            )
        );
        let updated = event(
            "transfer.updated",
            serde_json::json!({ "id": "tr_1", "reversed": true }),
        );
        assert!(matches!(read(&updated).unwrap().1, Asked::Reversed { .. }));
    }

    #[test]
    fn partial_reversals_and_other_events_ask_nothing() {
        let partial = event(
            "transfer.reversed",
            serde_json::json!({ "id": "tr_1", "reversed": false, "amount_reversed": 100 }),
        );
        assert_eq!(read(&partial).unwrap().1, Asked::Nothing);
        let other = event(
            "payment_intent.succeeded",
            serde_json::json!({ "id": "pi_1" }),
        );
        assert_eq!(read(&other).unwrap().1, Asked::Nothing);
        assert!(read(b"{").is_err());
        assert!(
            read(&event(
                "transfer.reversed",
                serde_json::json!({ "reversed": true })
            ))
            .is_err()
        );
    }
}
