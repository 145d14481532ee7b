//! The shop's invoice settings (ADR 0043): its legal details, printed as the seller of its
//! commission invoices (and of customer invoices when it sells in its own name), and
//! `sells_in_own_name`. Merchant staff with `ledger:read` read them, with `ledger:write`
//! change them; a change applies to documents issued after it, never to those issued.

use crate::AccountingState;
use crate::repo::legal::{self, InvoiceSettings};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use mercato_kernel::http::Json;
use mercato_kernel::text::check_line;
use mercato_kernel::{Checks, Problem, country};
use mercato_tenant_context::{Permission, TenantContext};
use mercato_vendors_api::vendor::{LegalAddress, LegalDetails};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AccountingState> {
    Router::new().route("/api/v1/invoice-settings", get(show).put(replace))
}

/// The shop's invoice settings as given and shown.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceSettingsIn {
    /// The shop's registered business name.
    pub legal_name: String,
    pub address: LegalAddress,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
    /// A VAT id of `country`: its prefix (`EL` for Greece) and 2 to 13 letters or digits;
    /// spaces, dots and dashes are dropped.
    #[serde(default)]
    pub vat_id: Option<String>,
    /// Customer invoices name the shop as seller instead of the vendor (default false).
    #[serde(default)]
    pub sells_in_own_name: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvoiceSettingsOut {
    pub legal_name: String,
    pub address: Option<LegalAddress>,
    pub country: String,
    pub vat_id: Option<String>,
    pub sells_in_own_name: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn out(s: InvoiceSettings) -> InvoiceSettingsOut {
    InvoiceSettingsOut {
        legal_name: s.legal.legal_name,
        address: s.legal.address,
        country: s.legal.country,
        vat_id: s.legal.vat_id,
        sells_in_own_name: s.sells_in_own_name,
        updated_at: s.updated_at,
    }
}

/// The settings `input` gives, checked: a 422 naming each bad field.
fn parse(input: InvoiceSettingsIn) -> Result<(LegalDetails, bool), Problem> {
    let mut checks = Checks::default();
    if let Err(m) = check_line(&input.legal_name, 200) {
        checks.push("/legal_name", m);
    }
    for (path, m) in input.address.problems("/address") {
        checks.push(&path, m);
    }
    let known = country::is_known(&input.country);
    if !known {
        checks.push("/country", "an ISO 3166-1 alpha-2 code such as DE");
    }
    let vat_id = match input.vat_id.as_deref() {
        None => None,
        Some(_) if !known => None,
        Some(id) => match country::normalize_vat_id(&input.country, id) {
            Ok(id) => Some(id),
            Err(message) => {
                checks.push("/vat_id", message);
                None
            }
        },
    };
    checks.finish()?;
    let address = input.address.trimmed();
    Ok((
        LegalDetails {
            legal_name: input.legal_name.trim().to_owned(),
            address: Some(address),
            country: input.country,
            vat_id,
        },
        input.sells_in_own_name,
    ))
}

/// The shop's invoice settings; 404 until merchant staff have given them.
#[utoipa::path(get, path = "/api/v1/invoice-settings", tag = "invoices",
    responses((status = 200, body = InvoiceSettingsOut),
        (status = 403, description = "Without `ledger:read`"),
        (status = 404, description = "Not given yet")))]
pub async fn show(
    State(state): State<AccountingState>,
    ctx: TenantContext,
) -> Result<Json<InvoiceSettingsOut>, Problem> {
    ctx.require(Permission::LedgerRead)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let settings = legal::settings(&tx).await?.ok_or_else(Problem::not_found)?;
    Ok(Json(out(settings)))
}

/// Replaces the shop's invoice settings. Documents issued before keep what they print.
#[utoipa::path(put, path = "/api/v1/invoice-settings", tag = "invoices",
    request_body = InvoiceSettingsIn,
    responses((status = 200, body = InvoiceSettingsOut),
        (status = 403, description = "Without `ledger:write`"),
        (status = 422, description = "An unknown country, a malformed VAT id, an empty name or address")))]
pub async fn replace(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    Json(input): Json<InvoiceSettingsIn>,
) -> Result<Json<InvoiceSettingsOut>, Problem> {
    ctx.require(Permission::LedgerWrite)?;
    let (legal, sells_in_own_name) = parse(input)?;
    let settings = InvoiceSettings {
        legal,
        sells_in_own_name,
        updated_at: crate::now(),
        updated_by: ctx.actor.label(),
    };
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    legal::save_settings(&tx, &settings).await?;
    tx.commit().await?;
    Ok(Json(out(settings)))
}
