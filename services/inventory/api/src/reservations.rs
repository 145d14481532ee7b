//! `POST /api/v1/reservations`: the request a caller (orders' checkout) sends, and the part
//! of inventory's answer it reads. A refusal is a problem with one of
//! [`InventoryProblem`](crate::InventoryProblem)'s codes: `insufficient_stock`,
//! `vendor_not_selling` or `vendor_on_holiday` (409, each line named in `errors`), or 422
//! for a variant inventory does not know.

use crate::ReservationId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Hold these units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationIn {
    /// 1 to 100 lines.
    pub lines: Vec<ReservationLineIn>,
    /// How long to hold the units: 1 to 3600 seconds, default 900.
    pub ttl_seconds: Option<i64>,
    /// The caller's own reference (an order or cart id). Without an `Idempotency-Key`, a
    /// retry with the same reference reserves nothing more and gets the reservation it made.
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationLineIn {
    /// `var_…`; each variant at most once per reservation.
    pub variant_id: String,
    /// Units, 1 to 100000.
    pub quantity: i64,
}

/// What a caller reads of a reservation inventory made (its answer carries more: the lines
/// with their warehouses, who made it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reserved {
    pub id: ReservationId,
    /// Until then the units are held; then the reservation expires and releases them.
    pub expires_at: DateTime<Utc>,
}
