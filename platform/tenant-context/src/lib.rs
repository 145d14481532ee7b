//! Who is asking, for which shop: the `TenantContext` every tenant-scoped handler takes.
//!
//! The gateway is the only place that decides the tenant (from the `Host`) and the actor
//! (from a verified token). It forwards both to services in one HMAC-signed header,
//! [`CONTEXT_HEADER`], after stripping any copy a client sent. Services verify the
//! signature in the [`TenantContext`] / [`PlatformContext`] extractors, so a handler that
//! takes one cannot run on an unverified or missing context.

mod role;
mod signed;
mod terms;
mod vendor;

pub use role::{Permission, Role};
pub use signed::{ContextError, ContextKey};
pub use terms::{PlanLimits, ShopTerms};
pub use vendor::{VendorAccess, VendorMembership, VendorPermission, VendorRole};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use mercato_kernel::Problem;
use serde::{Deserialize, Serialize};

mercato_kernel::typed_id!(
    /// A shop: the tenant every tenant-owned row, event, key and document is scoped by.
    pub TenantId, "shop"
);
mercato_kernel::typed_id!(
    /// A user account inside one shop (staff, customer, later vendor staff).
    pub UserId, "usr"
);
mercato_kernel::typed_id!(
    /// A platform administrator; exists only on the platform host.
    pub AdminId, "adm"
);
mercato_kernel::typed_id!(
    /// An integration's API key.
    pub ApiKeyId, "key"
);
mercato_kernel::typed_id!(
    /// A vendor (seller) inside one shop's marketplace.
    pub VendorId, "ven"
);
mercato_kernel::typed_id!(
    /// A node of a shop's category tree (owned by catalog; commission rules refer to it).
    pub CategoryId, "cat"
);
mercato_kernel::typed_id!(
    /// A product listed by a vendor (owned by catalog; inventory, orders and search refer to it).
    pub ProductId, "prd"
);
mercato_kernel::typed_id!(
    /// One purchasable variant of a product (a SKU).
    pub VariantId, "var"
);
mercato_kernel::typed_id!(
    /// One request, for logs and support.
    pub RequestId, "req"
);

/// The header carrying the signed context from the gateway to services.
pub const CONTEXT_HEADER: &str = "x-mercato-context";

/// Who made the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    Anonymous,
    User(UserId),
    ApiKey(ApiKeyId),
    PlatformAdmin(AdminId),
    /// Another Mercato service acting on its own behalf (orders reserving stock for a
    /// checkout). Never a person: it has no account, token or API key, and the gateway never
    /// forwards it; only a service holding the context key can sign one.
    Service(ServiceName),
}

/// The services that may act as themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceName {
    Orders,
    /// The gateway calling a service's `/internal` endpoints for itself (host resolution,
    /// API key checks). It never forwards this actor for a client's request, so an
    /// `/internal` handler that requires it cannot be reached from outside.
    Gateway,
}

impl ServiceName {
    pub fn as_str(&self) -> &'static str {
        match self {
            ServiceName::Orders => "orders",
            ServiceName::Gateway => "gateway",
        }
    }
}

impl Actor {
    /// Who acted, for history rows, events and audit fields: `usr_…`, `key_…`, `adm_…`,
    /// `svc_…`, or `anonymous`.
    pub fn label(&self) -> String {
        match self {
            Actor::User(id) => id.to_string(),
            Actor::ApiKey(id) => id.to_string(),
            Actor::PlatformAdmin(id) => id.to_string(),
            Actor::Service(name) => format!("svc_{}", name.as_str()),
            Actor::Anonymous => "anonymous".to_owned(),
        }
    }
}

/// Where the request arrived: a shop's domain or the platform host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "tenant", rename_all = "snake_case")]
pub enum Scope {
    Shop(TenantId),
    Platform,
}

/// What the gateway signs and forwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContext {
    pub scope: Scope,
    pub actor: Actor,
    pub roles: Vec<Role>,
    /// Vendors the actor works for (shop scope only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vendors: Vec<VendorMembership>,
    pub request_id: RequestId,
    /// The shop's plan; present on every shop-scoped context the gateway signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms: Option<ShopTerms>,
    /// The client's address as the gateway determined it (the TCP peer, or past trusted
    /// proxies); absent on calls the gateway or a service makes itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<std::net::IpAddr>,
}

/// A request on a shop's domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantContext {
    pub tenant: TenantId,
    pub actor: Actor,
    pub roles: Vec<Role>,
    pub vendors: Vec<VendorMembership>,
    pub request_id: RequestId,
    pub terms: ShopTerms,
}

impl VendorAccess for TenantContext {
    fn memberships(&self) -> &[VendorMembership] {
        &self.vendors
    }
}

impl TenantContext {
    /// Reading one vendor's money (its balance, payouts, statement): merchant staff with any
    /// of `merchant` see every vendor's; a vendor's staff see their own vendor's (with
    /// `vendor:read`). Merchant staff with none of them get 403 for the first; everyone else
    /// 404: another vendor's money does not exist for them.
    pub fn require_vendor_money(
        &self,
        merchant: &[Permission],
        vendor: VendorId,
    ) -> Result<(), Problem> {
        if merchant.iter().any(|p| self.can(*p)) {
            return Ok(());
        }
        if self.vendor_role(vendor).is_some() {
            return self.require_vendor(vendor, VendorPermission::Read);
        }
        match merchant.first() {
            Some(first)
                if self.vendors.is_empty() && self.roles.iter().any(|r| r.is_staff_role()) =>
            {
                self.require(*first)
            }
            _ => Err(Problem::not_found()),
        }
    }

    /// The signed-in user, or 401.
    pub fn user(&self) -> Result<UserId, Problem> {
        match self.actor {
            Actor::User(user) => Ok(user),
            _ => Err(Problem::unauthorized("sign in to do this")),
        }
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.roles.iter().any(|role| role.grants(permission))
    }

    /// 401 for an anonymous caller, 403 for a signed-in one without the permission.
    pub fn require(&self, permission: Permission) -> Result<(), Problem> {
        if self.can(permission) {
            Ok(())
        } else if self.actor == Actor::Anonymous {
            Err(Problem::unauthorized("sign in to do this"))
        } else {
            Err(Problem::forbidden(format!(
                "your role does not grant `{}`",
                permission.name()
            )))
        }
    }
}

/// A request on the platform host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformContext {
    pub actor: Actor,
    pub request_id: RequestId,
}

impl PlatformContext {
    /// The signed-in platform admin, or 401.
    pub fn admin(&self) -> Result<AdminId, Problem> {
        match self.actor {
            Actor::PlatformAdmin(admin) => Ok(admin),
            _ => Err(Problem::unauthorized("sign in as a platform administrator")),
        }
    }
}

fn verified(parts: &Parts) -> Result<RequestContext, Problem> {
    let key = parts
        .extensions
        .get::<ContextKey>()
        .ok_or_else(|| Problem::internal(ContextError::NoKey))?;
    let header = parts
        .headers
        .get(CONTEXT_HEADER)
        .ok_or_else(|| Problem::unauthorized("request did not come through the gateway"))?;
    let context = key.verify(header.as_bytes()).map_err(|e| {
        tracing::warn!(error = %e, "rejected a request context");
        Problem::unauthorized("request context is not valid")
    })?;
    tracing::Span::current().record("request_id", tracing::field::display(context.request_id));
    Ok(context)
}

/// Either host: for services that serve shops and the platform alike (identity).
impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let context = verified(parts)?;
        if let Scope::Shop(tenant) = context.scope {
            tracing::Span::current().record("tenant_id", tracing::field::display(tenant));
        }
        Ok(context)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TenantContext {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let context = verified(parts)?;
        match context.scope {
            Scope::Shop(tenant) => {
                tracing::Span::current().record("tenant_id", tracing::field::display(tenant));
                let terms = context
                    .terms
                    .ok_or_else(|| Problem::unauthorized("request context has no shop terms"))?;
                Ok(Self {
                    tenant,
                    actor: context.actor,
                    roles: context.roles,
                    vendors: context.vendors,
                    request_id: context.request_id,
                    terms,
                })
            }
            // A shop route asked for on the platform host does not exist there.
            Scope::Platform => Err(Problem::not_found()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PlatformContext {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let context = verified(parts)?;
        match context.scope {
            Scope::Platform => Ok(Self {
                actor: context.actor,
                request_id: context.request_id,
            }),
            Scope::Shop(_) => Err(Problem::not_found()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_actor_round_trips_and_is_labelled_by_its_name() {
        let actor = Actor::Service(ServiceName::Orders);
        let json = serde_json::to_value(actor).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "service", "id": "orders"}));
        assert_eq!(serde_json::from_value::<Actor>(json).unwrap(), actor);
        assert_eq!(actor.label(), "svc_orders");
    }

    #[test]
    fn a_service_actor_is_not_a_user() {
        let ctx = TenantContext {
            tenant: TenantId::new(),
            actor: Actor::Service(ServiceName::Orders),
            roles: Vec::new(),
            vendors: Vec::new(),
            request_id: RequestId::new(),
            terms: ShopTerms {
                plan: "free".into(),
                limits: PlanLimits {
                    staff_seats: 1,
                    api_requests_per_second: 1,
                    api_burst: 1,
                    custom_domains: 0,
                    products: 1,
                    vendors: 1,
                    storage_mb: 1,
                },
                features: Default::default(),
            },
        };
        assert_eq!(
            ctx.user().map_err(|p| p.status),
            Err(http::StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            ctx.require(Permission::CatalogManage).map_err(|p| p.status),
            Err(http::StatusCode::FORBIDDEN)
        );
    }
}
