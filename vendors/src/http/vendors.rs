//! Applying to sell in a shop, vendor listings, store profiles and holiday mode.

use super::commission::{MoneyIn, currency_at};
use super::{Standing, vendor_to_change, visible_vendor};
use crate::VendorsState;
use crate::domain::vendor::{
    Address, LegalAddress, ShippingProblem, StoreProfile, check_country, check_email, check_name,
    check_slug, slugify,
};
use crate::domain::{Shipping, Vendor, VendorStatus};
use crate::events;
use crate::problems::VendorsProblem;
use crate::repo::history::{self, HistoryEntry};
use crate::repo::{self};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use mercato_db::RowLock;
use mercato_kernel::http::{Json, Query, nullable, path_id};
use mercato_kernel::{Checks, ListResponse, Money, Problem};
use mercato_storage::{ObjectKey, Storage};
use mercato_tenant_context::{
    Permission, TenantContext, TenantId, UserId, VendorAccess, VendorId, VendorPermission,
};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<VendorsState> {
    Router::new()
        .route("/api/v1/vendors", post(apply).get(list))
        .route("/api/v1/vendors/mine", get(mine))
        .route("/api/v1/vendors/{vendor_id}", get(show).patch(update))
        .route("/api/v1/vendors/{vendor_id}/holiday", put(set_holiday))
        .route("/api/v1/vendors/{vendor_id}/history", get(history_list))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorIn {
    pub store_name: String,
    /// Defaults to one made from the store name.
    #[serde(default)]
    pub slug: Option<String>,
    /// The registered business name.
    pub legal_entity: String,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
    pub contact_email: String,
    #[serde(default)]
    pub contact_phone: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A vendor as shoppers see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicVendorOut {
    pub id: VendorId,
    pub slug: String,
    pub store_name: String,
    pub country: String,
    pub description: Option<String>,
    pub policies: Option<String>,
    /// On holiday until this day (inclusive): listed, but orders ship later.
    pub holiday_until: Option<chrono::NaiveDate>,
    pub on_holiday: bool,
    /// Charged once per order for this vendor's items; null: shipping is free.
    pub shipping_flat_rate: Option<Money>,
    /// This vendor's items ship free when they come to at least this much.
    pub free_shipping_over: Option<Money>,
    /// Time-limited links to the store's images (see `PUT …/images/{slot}`).
    pub logo_url: Option<String>,
    pub banner_url: Option<String>,
}

/// A vendor as the merchant and the vendor's staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VendorOut {
    pub id: VendorId,
    pub slug: String,
    pub store_name: String,
    pub legal_entity: String,
    pub country: String,
    pub contact_email: String,
    pub contact_phone: Option<String>,
    /// The applicant, while they work for the vendor.
    pub owner_user_id: Option<UserId>,
    pub status: VendorStatus,
    /// Why the last reasoned merchant action (reject, suspend, request changes) was taken.
    pub status_reason: Option<String>,
    pub holiday_until: Option<chrono::NaiveDate>,
    pub on_holiday: bool,
    pub profile: StoreProfile,
    /// Charged once per order for this vendor's items; null: shipping is free.
    pub shipping_flat_rate: Option<Money>,
    /// This vendor's items ship free when they come to at least this much.
    pub free_shipping_over: Option<Money>,
    pub logo_url: Option<String>,
    pub banner_url: Option<String>,
    /// The address printed on invoices; its country is `country`, its legal name
    /// `legal_entity`.
    pub legal_address: Option<LegalAddress>,
    /// A valid-looking VAT id of `country`, upper case.
    pub vat_id: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

impl From<Vendor> for PublicVendorOut {
    fn from(v: Vendor) -> Self {
        Self {
            on_holiday: v.on_holiday(today()),
            id: v.id,
            slug: v.slug,
            store_name: v.store_name,
            country: v.country,
            description: v.profile.description,
            policies: v.profile.policies,
            holiday_until: v.holiday_until,
            shipping_flat_rate: v.shipping.flat_rate,
            free_shipping_over: v.shipping.free_over,
            logo_url: None,
            banner_url: None,
        }
    }
}

impl From<Vendor> for VendorOut {
    fn from(v: Vendor) -> Self {
        Self {
            owner_user_id: v.applicant(),
            on_holiday: v.on_holiday(today()),
            id: v.id,
            slug: v.slug,
            store_name: v.store_name,
            legal_entity: v.legal_entity,
            country: v.country,
            contact_email: v.contact_email,
            contact_phone: v.contact_phone,
            status: v.status,
            status_reason: v.status_reason,
            holiday_until: v.holiday_until,
            profile: v.profile,
            shipping_flat_rate: v.shipping.flat_rate,
            free_shipping_over: v.shipping.free_over,
            logo_url: None,
            banner_url: None,
            legal_address: v.legal_address,
            vat_id: v.vat_id,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// One answer for both views, so `GET /vendors/{id}` can show what the caller may see.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum AnyVendorOut {
    Full(Box<VendorOut>),
    Public(Box<PublicVendorOut>),
}

/// `anyOf`, not the `oneOf` the derive would write: the full view carries every field the
/// public one requires, so a full vendor matches both and `oneOf` would reject it.
impl utoipa::PartialSchema for AnyVendorOut {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::ToSchema;
        utoipa::openapi::schema::AnyOfBuilder::new()
            .item(utoipa::openapi::Ref::from_schema_name(VendorOut::name()))
            .item(utoipa::openapi::Ref::from_schema_name(PublicVendorOut::name()))
            .description(Some(
                "The full view for the vendor's own staff and merchant staff, the public one for everyone else.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for AnyVendorOut {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        for (name, schema) in [
            (VendorOut::name(), VendorOut::schema()),
            (PublicVendorOut::name(), PublicVendorOut::schema()),
        ] {
            schemas.push((name.into_owned(), schema));
        }
        <VendorOut as utoipa::ToSchema>::schemas(schemas);
        <PublicVendorOut as utoipa::ToSchema>::schemas(schemas);
    }
}

/// How long image links in vendor responses work.
const IMAGE_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// A link to a stored image, or none when there is no image or the link cannot be made
/// (logged: a broken link must not break the page).
async fn image_url(storage: &Storage, tenant: TenantId, key: Option<&str>) -> Option<String> {
    let key = ObjectKey::parse(tenant, key?)
        .map_err(|e| tracing::warn!(error = %e, "stored image key is not valid"))
        .ok()?;
    storage
        .download_url(&key, IMAGE_LINK_TTL)
        .await
        .map_err(|e| tracing::warn!(error = %e, "no link for a vendor image"))
        .ok()
}

impl VendorOut {
    pub async fn render(v: Vendor, storage: &Storage) -> Self {
        let logo = image_url(storage, v.tenant, v.profile.logo_key.as_deref()).await;
        let banner = image_url(storage, v.tenant, v.profile.banner_key.as_deref()).await;
        Self {
            logo_url: logo,
            banner_url: banner,
            ..v.into()
        }
    }
}

impl PublicVendorOut {
    pub async fn render(v: Vendor, storage: &Storage) -> Self {
        let logo = image_url(storage, v.tenant, v.profile.logo_key.as_deref()).await;
        let banner = image_url(storage, v.tenant, v.profile.banner_key.as_deref()).await;
        Self {
            logo_url: logo,
            banner_url: banner,
            ..v.into()
        }
    }
}

fn check_phone(phone: &str) -> Result<(), &'static str> {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let ok = phone
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'));
    if ok && (5..=20).contains(&digits) {
        Ok(())
    } else {
        Err("a phone number: digits, spaces, +, -, parentheses")
    }
}

fn check_text(text: &str, max: usize) -> Result<(), &'static str> {
    if text.chars().count() > max {
        Err("too long")
    } else {
        Ok(())
    }
}

#[utoipa::path(post, path = "/api/v1/vendors", tag = "vendors", request_body = VendorIn,
    responses((status = 201, body = VendorOut), (status = 401, description = "sign in first"),
        (status = 402, description = "the plan allows no more vendors"),
        (status = 409, description = "slug taken"), (status = 422)))]
pub async fn apply(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Json(body): Json<VendorIn>,
) -> Result<(StatusCode, Json<VendorOut>), Problem> {
    let owner = ctx.user()?;
    let slug = body
        .slug
        .clone()
        .unwrap_or_else(|| slugify(&body.store_name));
    let mut checks = Checks::default();
    checks.field("/store_name", check_name(&body.store_name, 120));
    checks.field("/slug", check_slug(&slug));
    checks.field("/legal_entity", check_name(&body.legal_entity, 200));
    checks.field("/country", check_country(&body.country));
    checks.field("/contact_email", check_email(&body.contact_email));
    if let Some(phone) = &body.contact_phone {
        checks.field("/contact_phone", check_phone(phone));
    }
    if let Some(description) = &body.description {
        checks.field("/description", check_text(description, 5_000));
    }
    checks.finish()?;

    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let limit = ctx.terms.limits.vendors;
    if repo::vendors::count_active(&tx).await? >= u64::from(limit) {
        return Err(Problem::limit_exceeded(format!(
            "the {} plan allows {limit} vendor(s)",
            ctx.terms.plan
        )));
    }
    let now = chrono::Utc::now();
    let vendor = Vendor {
        id: VendorId::new(),
        tenant: ctx.tenant,
        slug,
        store_name: body.store_name.trim().to_owned(),
        legal_entity: body.legal_entity.trim().to_owned(),
        country: body.country,
        contact_email: body.contact_email.to_ascii_lowercase(),
        contact_phone: body.contact_phone,
        owner,
        status: VendorStatus::Applied,
        status_reason: None,
        holiday_until: None,
        profile: StoreProfile {
            description: body.description,
            ..StoreProfile::default()
        },
        shipping: Shipping::default(),
        legal_address: None,
        vat_id: None,
        created_at: now,
        updated_at: now,
    };
    if let Err(e) = repo::vendors::insert(&tx, &vendor).await {
        return Err(if mercato_db::is_unique_violation(&e) {
            Problem::of(
                VendorsProblem::SlugTaken,
                "another vendor of this shop has this slug",
            )
        } else {
            e.into()
        });
    }
    let actor = ctx.actor.label();
    history::record(
        &tx,
        &HistoryEntry {
            id: uuid::Uuid::now_v7(),
            vendor: vendor.id,
            action: "apply".into(),
            from_status: None,
            to_status: vendor.status.code().into(),
            reason: None,
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    events::vendor(&*tx, "vendor.applied", &vendor, None, &actor).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok((
        StatusCode::CREATED,
        Json(VendorOut::render(vendor, &state.storage).await),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VendorListQuery {
    /// Merchant staff only: vendors in this state (`applied`, `in_review`, …).
    pub status: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/vendors", tag = "vendors", params(VendorListQuery),
    responses((status = 200, description = "approved vendors; merchant staff may filter by status", body = ListResponse<AnyVendorOut>)))]
pub async fn list(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Query(query): Query<VendorListQuery>,
) -> Result<Json<ListResponse<AnyVendorOut>>, Problem> {
    let list_query = mercato_kernel::ListQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let (limit, after) = list_query.page::<VendorId>()?;
    let status = match query.status.as_deref() {
        None => None,
        Some(code) => Some(VendorStatus::parse(code).ok_or_else(|| {
            Problem::invalid_field(
                "/status",
                "one of applied, onboarding, in_review, approved, rejected, suspended",
            )
        })?),
    };
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let rows = match status {
        None => {
            repo::vendors::list(
                &tx,
                &[VendorStatus::Approved],
                after,
                limit + 1,
                RowLock::None,
            )
            .await?
        }
        Some(status) => {
            ctx.require(Permission::VendorsRead)?;
            repo::vendors::list(&tx, &[status], after, limit + 1, RowLock::None).await?
        }
    };
    let full = status.is_some();
    let page = ListResponse::from_overfetch(rows, limit, |v| v.id.to_string());
    let mut data = Vec::with_capacity(page.data.len());
    for v in page.data {
        data.push(if full {
            AnyVendorOut::Full(Box::new(VendorOut::render(v, &state.storage).await))
        } else {
            AnyVendorOut::Public(Box::new(PublicVendorOut::render(v, &state.storage).await))
        });
    }
    Ok(Json(ListResponse {
        data,
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/vendors/mine", tag = "vendors",
    responses((status = 200, description = "the vendors the caller works for", body = ListResponse<VendorOut>), (status = 401)))]
pub async fn mine(
    State(state): State<VendorsState>,
    ctx: TenantContext,
) -> Result<Json<ListResponse<VendorOut>>, Problem> {
    let user = ctx.user()?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let ids: Vec<VendorId> = ctx.memberships().iter().map(|m| m.vendor).collect();
    let mut vendors = repo::vendors::find_many(&tx, &ids).await?;
    // Vendors applied for since the token was issued: the owner is on the row.
    for owned in repo::vendors::owned_by(&tx, user).await? {
        if !vendors.iter().any(|v| v.id == owned.id) {
            vendors.push(owned);
        }
    }
    vendors.sort_by_key(|v| v.id.as_uuid());
    Ok(Json(ListResponse {
        data: {
            let mut data = Vec::with_capacity(vendors.len());
            for v in vendors {
                data.push(VendorOut::render(v, &state.storage).await);
            }
            data
        },
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/v1/vendors/{vendor_id}", tag = "vendors",
    params(("vendor_id" = String, Path)),
    responses((status = 200, description = "the full vendor for merchant and vendor staff, the public side for others", body = AnyVendorOut), (status = 404)))]
pub async fn show(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
) -> Result<Json<AnyVendorOut>, Problem> {
    let id: VendorId = path_id(&id)?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let (vendor, standing) = visible_vendor(&tx, &ctx, id).await?;
    Ok(Json(match standing {
        Standing::Public => AnyVendorOut::Public(Box::new(
            PublicVendorOut::render(vendor, &state.storage).await,
        )),
        _ => AnyVendorOut::Full(Box::new(VendorOut::render(vendor, &state.storage).await)),
    }))
}

/// Profile changes; absent fields stay, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorPatch {
    pub store_name: Option<String>,
    pub slug: Option<String>,
    pub legal_entity: Option<String>,
    pub country: Option<String>,
    pub contact_email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub contact_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub policies: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Address>)]
    pub return_address: Option<Option<Address>>,
    /// Charged once per order for this vendor's items, not negative; `null`: free shipping.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<MoneyIn>)]
    pub shipping_flat_rate: Option<Option<MoneyIn>>,
    /// Orders of this vendor's items worth at least this much ship free; in the flat rate's
    /// currency, not negative; `null`: no threshold.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<MoneyIn>)]
    pub free_shipping_over: Option<Option<MoneyIn>>,
    /// The address printed on invoices; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<LegalAddress>)]
    pub legal_address: Option<Option<LegalAddress>>,
    /// A VAT id of the vendor's `country`: its prefix (`EL` for Greece) and 2 to 13 letters
    /// or digits; spaces, dots and dashes are dropped. `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub vat_id: Option<Option<String>>,
}

/// The shipping settings a patch sets, parsed: absent fields stay, `Some(None)` clears.
#[derive(Debug, Default)]
struct ShippingPatch {
    flat_rate: Option<Option<Money>>,
    free_over: Option<Option<Money>>,
}

/// Parses a patch's money field at `path`, naming bad parts.
fn money_at(
    checks: &mut Checks,
    path: &str,
    value: &Option<Option<MoneyIn>>,
) -> Option<Option<Money>> {
    match value {
        None => None,
        Some(None) => Some(None),
        Some(Some(money)) => {
            if money.amount < 0 {
                checks.push(&format!("{path}/amount"), "must not be negative");
            }
            let currency = currency_at(checks, &format!("{path}/currency"), &money.currency)?;
            Some(Some(Money::new(money.amount, currency)))
        }
    }
}

fn check_address(address: &Address) -> Vec<(&'static str, &'static str)> {
    let mut bad = Vec::new();
    for (field, value, max) in [
        ("/return_address/name", &address.name, 120),
        ("/return_address/line1", &address.line1, 200),
        ("/return_address/postal_code", &address.postal_code, 20),
        ("/return_address/city", &address.city, 120),
    ] {
        if let Err(m) = check_name(value, max) {
            bad.push((field, m));
        }
    }
    if let Some(line2) = &address.line2
        && let Err(m) = check_text(line2, 200)
    {
        bad.push(("/return_address/line2", m));
    }
    if let Err(m) = check_country(&address.country) {
        bad.push(("/return_address/country", m));
    }
    bad
}

impl VendorPatch {
    fn check(&self) -> Result<ShippingPatch, Problem> {
        let mut checks = Checks::default();
        let shipping = ShippingPatch {
            flat_rate: money_at(&mut checks, "/shipping_flat_rate", &self.shipping_flat_rate),
            free_over: money_at(&mut checks, "/free_shipping_over", &self.free_shipping_over),
        };
        if let Some(v) = &self.store_name {
            checks.field("/store_name", check_name(v, 120));
        }
        if let Some(v) = &self.slug {
            checks.field("/slug", check_slug(v));
        }
        if let Some(v) = &self.legal_entity {
            checks.field("/legal_entity", check_name(v, 200));
        }
        if let Some(v) = &self.country {
            checks.field("/country", check_country(v));
        }
        if let Some(v) = &self.contact_email {
            checks.field("/contact_email", check_email(v));
        }
        if let Some(Some(v)) = &self.contact_phone {
            checks.field("/contact_phone", check_phone(v));
        }
        if let Some(Some(v)) = &self.description {
            checks.field("/description", check_text(v, 5_000));
        }
        if let Some(Some(v)) = &self.policies {
            checks.field("/policies", check_text(v, 10_000));
        }
        if let Some(Some(address)) = &self.return_address {
            for (field, message) in check_address(address) {
                checks.field(field, Err(message));
            }
        }
        if let Some(Some(address)) = &self.legal_address {
            for (field, message) in address.problems("/legal_address") {
                checks.push(&field, message);
            }
        }
        checks.finish()?;
        Ok(shipping)
    }

    fn apply_to(self, v: &mut Vendor, shipping: &ShippingPatch) {
        if let Some(x) = self.store_name {
            v.store_name = x.trim().to_owned();
        }
        if let Some(x) = self.slug {
            v.slug = x;
        }
        if let Some(x) = self.legal_entity {
            v.legal_entity = x.trim().to_owned();
        }
        if let Some(x) = self.country {
            v.country = x;
        }
        if let Some(x) = self.contact_email {
            v.contact_email = x.to_ascii_lowercase();
        }
        if let Some(x) = self.contact_phone {
            v.contact_phone = x;
        }
        if let Some(x) = self.description {
            v.profile.description = x;
        }
        if let Some(x) = self.policies {
            v.profile.policies = x;
        }
        if let Some(x) = self.return_address {
            v.profile.return_address = x;
        }
        if let Some(x) = self.legal_address {
            v.legal_address = x.map(|a| a.trimmed());
        }
        if let Some(x) = self.vat_id {
            v.vat_id = x;
        }
        if let Some(x) = shipping.flat_rate {
            v.shipping.flat_rate = x;
        }
        if let Some(x) = shipping.free_over {
            v.shipping.free_over = x;
        }
    }
}

/// The vendor's VAT id as patched, kept in its normal form, or a 422: it must look like one
/// of the vendor's country (blamed on the country when the patch changed only that).
fn check_vat_id(vendor: &mut Vendor, patch_set_it: bool) -> Result<(), Problem> {
    let Some(id) = &vendor.vat_id else {
        return Ok(());
    };
    match mercato_kernel::country::normalize_vat_id(&vendor.country, id) {
        Ok(normal) => {
            vendor.vat_id = Some(normal);
            Ok(())
        }
        Err(message) if patch_set_it => Err(Problem::invalid_field("/vat_id", message)),
        Err(_) => Err(Problem::invalid_field(
            "/country",
            "the vendor's VAT id is of another country: change both",
        )),
    }
}

/// The vendor's shipping settings as patched, or a 422 naming the field the patch set.
fn check_shipping(shipping: &Shipping, patch: &ShippingPatch) -> Result<(), Problem> {
    let mut checks = Checks::default();
    for problem in shipping.problems() {
        let field = match problem {
            ShippingProblem::NegativeFlatRate => "/shipping_flat_rate/amount",
            ShippingProblem::NegativeFreeOver => "/free_shipping_over/amount",
            // Blame the one this patch changed (the threshold when it changed both).
            ShippingProblem::CurrencyMismatch if patch.free_over.is_none() => {
                "/shipping_flat_rate/currency"
            }
            ShippingProblem::CurrencyMismatch => "/free_shipping_over/currency",
        };
        checks.push(field, problem.message());
    }
    checks.finish()
}

#[utoipa::path(patch, path = "/api/v1/vendors/{vendor_id}", tag = "vendors", request_body = VendorPatch,
    params(("vendor_id" = String, Path)),
    responses((status = 200, body = VendorOut), (status = 403), (status = 404), (status = 409, description = "slug taken"), (status = 422)))]
pub async fn update(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Json(patch): Json<VendorPatch>,
) -> Result<Json<VendorOut>, Problem> {
    let id: VendorId = path_id(&id)?;
    let shipping = patch.check()?;
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (mut vendor, _) = vendor_to_change(&tx, &ctx, id, VendorPermission::ProfileWrite).await?;
    if vendor.status == VendorStatus::Rejected {
        return Err(Problem::of(
            VendorsProblem::VendorRejected,
            "a rejected vendor can no longer be changed",
        ));
    }
    let sets_vat_id = patch.vat_id.is_some();
    patch.apply_to(&mut vendor, &shipping);
    check_shipping(&vendor.shipping, &shipping)?;
    check_vat_id(&mut vendor, sets_vat_id)?;
    vendor.updated_at = chrono::Utc::now();
    if let Err(e) = repo::vendors::update(&tx, &vendor).await {
        return Err(if mercato_db::is_unique_violation(&e) {
            Problem::of(
                VendorsProblem::SlugTaken,
                "another vendor of this shop has this slug",
            )
        } else {
            e.into()
        });
    }
    events::vendor(&*tx, "vendor.updated", &vendor, None, &ctx.actor.label()).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Json(VendorOut::render(vendor, &state.storage).await))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayIn {
    /// The last day away (inclusive), today or later; `null` ends holiday mode.
    #[schema(value_type = Option<String>, format = Date)]
    pub until: Option<chrono::NaiveDate>,
}

#[utoipa::path(put, path = "/api/v1/vendors/{vendor_id}/holiday", tag = "vendors", request_body = HolidayIn,
    params(("vendor_id" = String, Path)),
    responses((status = 200, body = VendorOut), (status = 403), (status = 404), (status = 409, description = "not approved"), (status = 422)))]
pub async fn set_holiday(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Json(body): Json<HolidayIn>,
) -> Result<Json<VendorOut>, Problem> {
    let id: VendorId = path_id(&id)?;
    let today = today();
    if let Some(until) = body.until
        && (until < today || until > today + chrono::Duration::days(366))
    {
        return Err(Problem::invalid_field(
            "/until",
            "a day from today to a year ahead",
        ));
    }
    let tx = state.db.tenant_tx(ctx.tenant).await?;
    let (mut vendor, _) = vendor_to_change(&tx, &ctx, id, VendorPermission::Lifecycle).await?;
    if !matches!(
        vendor.status,
        VendorStatus::Approved | VendorStatus::Suspended
    ) {
        return Err(Problem::of(
            VendorsProblem::VendorNotSelling,
            "holiday mode is for approved vendors",
        ));
    }
    vendor.holiday_until = body.until;
    vendor.updated_at = chrono::Utc::now();
    repo::vendors::update(&tx, &vendor).await?;
    let actor = ctx.actor.label();
    history::record(
        &tx,
        &HistoryEntry {
            id: uuid::Uuid::now_v7(),
            vendor: vendor.id,
            action: if body.until.is_some() {
                "holiday_set".into()
            } else {
                "holiday_ended".into()
            },
            from_status: Some(vendor.status.code().into()),
            to_status: vendor.status.code().into(),
            reason: body.until.map(|d| format!("away until {d}")),
            actor: actor.clone(),
            at: vendor.updated_at,
        },
    )
    .await?;
    events::vendor(&*tx, "vendor.updated", &vendor, None, &actor).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok(Json(VendorOut::render(vendor, &state.storage).await))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryOut {
    pub id: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    /// `usr_…` or `key_…`.
    pub actor: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[utoipa::path(get, path = "/api/v1/vendors/{vendor_id}/history", tag = "vendors",
    params(("vendor_id" = String, Path), mercato_kernel::ListQuery),
    responses((status = 200, body = ListResponse<HistoryOut>), (status = 404)))]
pub async fn history_list(
    State(state): State<VendorsState>,
    ctx: TenantContext,
    Path(id): Path<String>,
    Query(query): Query<mercato_kernel::ListQuery>,
) -> Result<Json<ListResponse<HistoryOut>>, Problem> {
    let id: VendorId = path_id(&id)?;
    let (limit, after) = query.page::<uuid::Uuid>()?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let (vendor, standing) = visible_vendor(&tx, &ctx, id).await?;
    if standing == Standing::Public {
        return Err(Problem::not_found());
    }
    let rows = history::list(&tx, vendor.id, after, limit + 1).await?;
    let page = ListResponse::from_overfetch(rows, limit, |h| h.id.to_string());
    Ok(Json(ListResponse {
        data: page
            .data
            .into_iter()
            .map(|h| HistoryOut {
                id: h.id.to_string(),
                action: h.action,
                from_status: h.from_status,
                to_status: h.to_status,
                reason: h.reason,
                actor: h.actor,
                at: h.at,
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}
