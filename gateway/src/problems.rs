//! The gateway's problem codes, declared once: call sites name a variant, and the
//! OpenAPI document lists them all.

mercato_kernel::problem_codes! {
    /// Every problem the gateway gives itself besides the kernel's common ones.
    pub enum GatewayProblem in "gateway" {
        InvalidPath = (BAD_REQUEST, "invalid_path", "Bad request"),
        SessionRevoked = (UNAUTHORIZED, "session_revoked", "Session revoked"),
        NotReady = (SERVICE_UNAVAILABLE, "not_ready", "Unavailable"),
        MethodNotAllowed = (METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed"),
        ServiceNotConfigured = (SERVICE_UNAVAILABLE, "service_not_configured", "Unavailable"),
        ShopSuspended = (SERVICE_UNAVAILABLE, "shop_suspended", "Unavailable"),
        MissingHost = (BAD_REQUEST, "missing_host", "Bad request"),
        UpstreamUnavailable = (BAD_GATEWAY, "upstream_unavailable", "Service unavailable"),
    }
}
