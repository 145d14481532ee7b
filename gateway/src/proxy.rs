//! The front door. For every request: drop any context header a client sent, resolve the
//! `Host` to a shop (cached), refuse suspended shops, apply the shop's and the client's rate
//! limits, verify the bearer token against the host, sign the context, and hand the request
//! to the service that owns the path.

use crate::limits::RateLimits;
use crate::metrics::Metrics;
use crate::problems::GatewayProblem;
use crate::routes;
use crate::upstream::Upstream;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use mercato_auth::TokenKeys;
use mercato_cache::{Cache, CacheKey};
use mercato_kernel::Problem;
use mercato_tenant_context::{
    Actor, ApiKeyId, CONTEXT_HEADER, ContextKey, RequestContext, RequestId, Role, Scope,
    ServiceName, ShopTerms, TenantId, VendorMembership,
};
use mercato_tenants::Resolution;
use mercato_tenants::domain::shop::ShopStatus;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Gateway(pub Arc<GatewayInner>);

pub struct GatewayInner {
    pub upstreams: BTreeMap<&'static str, Upstream>,
    pub keys: TokenKeys,
    pub context_key: ContextKey,
    pub cache: Cache,
    pub host_ttl: Duration,
    /// `None` when rate limits are not enforced.
    pub limits: Option<RateLimits>,
    pub max_body: usize,
    pub metrics: Arc<Metrics>,
    pub trusted_proxies: Vec<IpAddr>,
}

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The actor of the gateway's own calls to services' `/internal` endpoints, which accept
/// no other. A client's request is forwarded with the client's actor, never this one, so a
/// path that reached `/internal` some other way still gets a 404 there.
pub(crate) const GATEWAY: Actor = Actor::Service(ServiceName::Gateway);

/// Negative answers are kept briefly: a domain verified a moment later must route soon.
const MISS_TTL: Duration = Duration::from_secs(5);

impl Gateway {
    pub(crate) fn upstream(&self, service: &str) -> Result<&Upstream, Problem> {
        self.0.upstreams.get(service).ok_or_else(|| {
            Problem::of(
                GatewayProblem::ServiceNotConfigured,
                format!("the {service} service is not configured on this gateway"),
            )
        })
    }

    pub(crate) fn sign(&self, context: &RequestContext) -> Result<HeaderValue, Problem> {
        HeaderValue::from_str(&self.0.context_key.sign(context)).map_err(Problem::internal)
    }

    /// Asks `service`'s internal endpoint `request` (a path and method, and `body`) as the
    /// gateway itself, in `scope` with the shop's `terms`: the JSON answer on 200, `None`
    /// on 404, an internal problem naming `what` on anything else.
    pub(crate) async fn ask_internal<T: serde::de::DeserializeOwned>(
        &self,
        service: &'static str,
        what: &str,
        (scope, terms, request_id): (Scope, Option<ShopTerms>, RequestId),
        request: axum::http::request::Builder,
        body: Option<serde_json::Value>,
    ) -> Result<Option<T>, Problem> {
        let context = RequestContext {
            scope,
            actor: GATEWAY,
            roles: Vec::new(),
            vendors: Vec::new(),
            request_id,
            terms,
            client_ip: None,
        };
        let request = request.header(CONTEXT_HEADER, self.sign(&context)?);
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    serde_json::to_vec(&body).map_err(Problem::internal)?,
                )),
            None => request.body(Body::empty()),
        }
        .map_err(Problem::internal)?;
        let response = self
            .upstream(service)?
            .call(request, self.0.max_body)
            .await?;
        match response.status().as_u16() {
            200 => {
                let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
                    .await
                    .map_err(Problem::internal)?;
                Ok(Some(
                    serde_json::from_slice(&bytes).map_err(Problem::internal)?,
                ))
            }
            404 => Ok(None),
            // The service is there but failing (its database is down, it is overloaded):
            // the client may retry, as with a service that does not answer at all.
            status if status >= 500 => {
                tracing::error!(%status, upstream = service, "{what} failed");
                Err(Problem::from(GatewayProblem::UpstreamUnavailable))
            }
            status => Err(Problem::internal(anyhow::anyhow!(
                "{what} answered {status}"
            ))),
        }
    }

    /// The shop (or the platform) a host name stands for; `None` for unknown hosts. A
    /// resolution the cache cannot answer reads the tenants database, so it takes from the
    /// `client`'s resolution budget first (when limits are on and the client is known).
    pub async fn resolve(
        &self,
        host: &str,
        request_id: RequestId,
        client: Option<IpAddr>,
    ) -> Result<Option<Resolution>, Problem> {
        // Resolutions live under the current epoch; see `forget`.
        let epoch = match self.0.cache.get::<u64>(&host_epoch_key()).await {
            Ok(epoch) => epoch.unwrap_or(0),
            Err(e) => {
                tracing::warn!(error = %e, "host cache unavailable; resolving directly");
                u64::MAX
            }
        };
        let key = CacheKey::platform(&["host", &epoch.to_string(), host]);
        match self.0.cache.get::<Option<Resolution>>(&key).await {
            Ok(Some(cached)) => return Ok(cached),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "host cache unavailable; resolving directly"),
        }
        if let (Some(limits), Some(client)) = (&self.0.limits, client) {
            limits.check_resolution(client)?;
        }
        let mut query = url_encode(host);
        query.insert_str(0, "/internal/v1/resolve?host=");
        let resolution: Option<Resolution> = self
            .ask_internal(
                "tenants",
                "host resolution",
                (Scope::Platform, None, request_id),
                Request::get(query),
                None,
            )
            .await?;
        let ttl = if resolution.is_some() {
            self.0.host_ttl
        } else {
            MISS_TTL
        };
        if let Err(e) = self.0.cache.set(&key, &resolution, ttl).await {
            tracing::warn!(error = %e, "cannot cache a host resolution");
        }
        Ok(resolution)
    }

    /// Drops every cached resolution after a `shop.*` or `domain.*` event by starting a new
    /// epoch. Deleting keys would race: a request that read the shop before the change
    /// committed could write its stale answer back after the delete. Under an epoch, that
    /// late write lands under the old epoch, which nobody reads any more. Shop and domain
    /// changes are rare, so flushing all host names at once costs little.
    pub async fn forget(&self) {
        let epoch = uuid::Uuid::now_v7().as_u64_pair().1;
        // Entries live for `host_ttl`; an epoch only has to outlive them.
        if let Err(e) = self
            .0
            .cache
            .set(&host_epoch_key(), &epoch, Duration::from_secs(86_400))
            .await
        {
            tracing::error!(error = %e, "cannot start a new host cache epoch; cached hosts expire by ttl");
        }
    }

    /// A signed-in user's access token: valid, unexpired, issued for this host, and not
    /// older than its account's session epoch (see `sessions`).
    async fn authenticate_token(
        &self,
        token: &str,
        scope: Scope,
        request_id: RequestId,
    ) -> Result<Caller, Problem> {
        let access =
            self.0.keys.verify(token).map_err(|_| {
                Problem::unauthorized("the access token is not valid or has expired")
            })?;
        // A token is only good on the host it was issued for.
        if access.scope != scope {
            return Err(Problem::unauthorized(
                "the access token was not issued for this shop",
            ));
        }
        self.check_session(scope, access.actor, access.session_epoch, request_id)
            .await?;
        Ok(Caller {
            actor: access.actor,
            roles: access.roles,
            vendors: access.vendors,
        })
    }

    /// An integration's API key, checked by the identity service in the shop's realm.
    async fn authenticate_api_key(
        &self,
        key: String,
        scope: Scope,
        terms: Option<&ShopTerms>,
        request_id: RequestId,
    ) -> Result<Caller, Problem> {
        let Scope::Shop(_) = scope else {
            return Err(Problem::unauthorized(
                "API keys belong to shops; use a token on the platform host",
            ));
        };
        if !terms.is_some_and(|t| t.has("api_keys")) {
            return Err(Problem::unauthorized(
                "API keys are not enabled for this shop",
            ));
        }
        let verified: Option<VerifiedKey> = self
            .ask_internal(
                "identity",
                "api key verification",
                (scope, terms.cloned(), request_id),
                Request::post("/internal/v1/api-keys/verify"),
                Some(serde_json::json!({ "key": key })),
            )
            .await?;
        let verified = verified
            .ok_or_else(|| Problem::unauthorized("the API key is not valid or was revoked"))?;
        Ok(Caller {
            actor: Actor::ApiKey(verified.key_id),
            roles: vec![verified.role],
            vendors: Vec::new(),
        })
    }

    async fn handle(
        &self,
        mut request: Request<Body>,
        client: Option<IpAddr>,
        request_id: RequestId,
    ) -> Result<(Response, Option<&'static str>), Problem> {
        // Only the gateway speaks for the tenant.
        request.headers_mut().remove(CONTEXT_HEADER);
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|len| len > self.0.max_body) {
            return Err(
                Problem::from(mercato_kernel::Common::BodyTooLarge).with_detail(format!(
                    "request bodies are limited to {} bytes",
                    self.0.max_body
                )),
            );
        }
        let host = request_host(&request)?;
        let unscoped = |limits: &RateLimits| match client {
            Some(client) => limits.check_unscoped(client),
            None => Ok(()),
        };
        let (scope, terms) = match self.resolve(&host, request_id, client).await? {
            None => {
                if let Some(limits) = &self.0.limits {
                    unscoped(limits)?;
                }
                return Err(Problem::not_found().with_detail(format!("no shop answers at {host}")));
            }
            Some(Resolution::Platform) => {
                if let Some(limits) = &self.0.limits {
                    unscoped(limits)?;
                }
                (Scope::Platform, None)
            }
            Some(Resolution::Shop {
                status: ShopStatus::Suspended,
                ..
            }) => {
                return Err(Problem::of(
                    GatewayProblem::ShopSuspended,
                    "this shop is temporarily unavailable",
                ));
            }
            Some(Resolution::Shop { shop_id, terms, .. }) => {
                if let Some(limits) = &self.0.limits {
                    let rate = (terms.limits.api_requests_per_second, terms.limits.api_burst);
                    limits.check(shop_id, rate.0, rate.1, client)?;
                }
                (Scope::Shop(shop_id), Some(terms))
            }
        };
        let path = request.uri().path().to_owned();
        let service = routes::service_for(&path).ok_or_else(Problem::not_found)?;
        let bearer = bearer_token(request.headers())?;
        let caller = match bearer {
            None => Caller {
                actor: Actor::Anonymous,
                roles: Vec::new(),
                vendors: Vec::new(),
            },
            Some(token) if token.starts_with(API_KEY_PREFIX) => {
                self.authenticate_api_key(token, scope, terms.as_ref(), request_id)
                    .await?
            }
            Some(token) => self.authenticate_token(&token, scope, request_id).await?,
        };
        let context = RequestContext {
            scope,
            actor: caller.actor,
            roles: caller.roles,
            vendors: caller.vendors,
            request_id,
            terms,
            client_ip: client,
        };
        if let Scope::Shop(tenant) = scope {
            tracing::Span::current().record("tenant_id", tracing::field::display(tenant));
        }
        request
            .headers_mut()
            .insert(CONTEXT_HEADER, self.sign(&context)?);
        let response = self
            .upstream(service)?
            .call(request, self.0.max_body)
            .await?;
        Ok((response, Some(service)))
    }
}

/// The request's host name, normalized (port and trailing dot dropped, lower case).
fn request_host(request: &Request<Body>) -> Result<String, Problem> {
    request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().host())
        .map(mercato_tenants::domain::hostname::normalize_host)
        .ok_or_else(|| {
            Problem::of(
                GatewayProblem::MissingHost,
                "the request has no Host header",
            )
        })
}

/// The shop a media link may be opened on: the one the `Host` resolves to. The platform
/// host and unknown hosts have no media (404); a suspended shop's are unavailable like the
/// rest of it.
async fn media_shop(
    gateway: &Gateway,
    host: &str,
    client: Option<IpAddr>,
) -> Result<TenantId, Problem> {
    match gateway.resolve(host, RequestId::new(), client).await? {
        None | Some(Resolution::Platform) => Err(Problem::not_found()),
        Some(Resolution::Shop {
            status: ShopStatus::Suspended,
            ..
        }) => Err(Problem::of(
            GatewayProblem::ShopSuspended,
            "this shop is temporarily unavailable",
        )),
        Some(Resolution::Shop { shop_id, .. }) => Ok(shop_id),
    }
}

/// Route middleware for `/media/…`: tells the media router which shop's objects this host
/// may serve. A signed link names its object's key, and the key's shop prefix must be this
/// host's shop, so one shop's link does not open on another shop's domain.
pub async fn media_host(
    State(gateway): State<Gateway>,
    mut request: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let client = gateway.client(&request);
    let shop = match request_host(&request) {
        Ok(host) => media_shop(&gateway, &host, client).await,
        Err(problem) => Err(problem),
    };
    match shop {
        Ok(shop) => {
            request
                .extensions_mut()
                .insert(mercato_storage::HostTenant(shop));
            next.run(request).await
        }
        Err(problem) => problem.into_response(),
    }
}

fn host_epoch_key() -> CacheKey {
    CacheKey::platform(&["host-epoch"])
}

/// API keys start with this; anything else after `Bearer` is an access token.
const API_KEY_PREFIX: &str = "mk_";

/// Who the credential says the caller is.
struct Caller {
    actor: Actor,
    roles: Vec<Role>,
    vendors: Vec<VendorMembership>,
}

/// What identity answers for a valid API key.
#[derive(serde::Deserialize)]
struct VerifiedKey {
    key_id: ApiKeyId,
    role: Role,
}

/// The bearer credential, if any; a malformed Authorization header is a 401.
fn bearer_token(headers: &axum::http::HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| Some(t.trim().to_owned()))
        .ok_or_else(|| Problem::unauthorized("use an Authorization: Bearer <token> header"))
}

/// Percent-encodes a host name for a query string (host names are ASCII already).
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The client's address: the TCP peer, or — when the peer is a trusted proxy — the last
/// `X-Forwarded-For` entry that no trusted proxy added (earlier entries are the client's say).
fn client_address(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    let hops: Vec<IpAddr> = forwarded
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|hop| !trusted.contains(hop))
        .unwrap_or(peer)
}

impl Gateway {
    /// The client's address: the TCP peer, or behind a trusted proxy the address it names.
    fn client(&self, request: &Request<Body>) -> Option<IpAddr> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        peer.map(|peer| client_address(peer, request.headers(), &self.0.trusted_proxies))
    }
}

/// The fallback handler: every request not answered by the gateway itself.
pub async fn forward(State(gateway): State<Gateway>, request: Request<Body>) -> Response {
    let started = Instant::now();
    let client = gateway.client(&request);
    let request_id = RequestId::new();
    let method = request.method().clone();
    let span = tracing::info_span!("request", %request_id, %method, path = %request.uri().path(), tenant_id = tracing::field::Empty);
    let result =
        tracing::Instrument::instrument(gateway.handle(request, client, request_id), span.clone())
            .await;
    let (mut response, service) = match result {
        Ok(ok) => ok,
        Err(problem) => (span.in_scope(|| problem.into_response()), None),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    gateway.0.metrics.observe(
        service.unwrap_or("gateway"),
        response.status().as_u16(),
        started.elapsed(),
    );
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request done"
        )
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_behind_trusted_proxies() {
        let proxy: IpAddr = [10, 0, 0, 9].into();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.7, 10.0.0.8"),
        );
        let trusted = [proxy, [10, 0, 0, 8].into()];
        // Behind the trusted proxies, the client is the last hop they did not add.
        assert_eq!(
            client_address(proxy, &headers, &trusted),
            IpAddr::from([203, 0, 113, 7])
        );
        // From anywhere else the header is the client's own claim: ignored.
        let stranger: IpAddr = [198, 51, 100, 1].into();
        assert_eq!(client_address(stranger, &headers, &trusted), stranger);
        assert_eq!(
            client_address(proxy, &axum::http::HeaderMap::new(), &trusted),
            proxy
        );
    }
}
