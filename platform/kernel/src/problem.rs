//! RFC 9457 problem responses with stable codes.
//!
//! Handlers return `Result<_, Problem>`. A problem carries what the client may see; an
//! internal failure keeps its source chain for the log and shows the client only a code and
//! the request's id. Problems are logged once, when turned into a response.
//!
//! Every code is declared once, with its status and title, in an enum made by
//! [`problem_codes!`](crate::problem_codes): the kernel's own in [`Common`], each service's in
//! its `problems` module. Call sites name a variant (`Problem::of(OrdersProblem::CartClosed,
//! detail)`), never a string, and the OpenAPI document lists every code
//! ([`ProblemCode::describe_all`]).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One invalid field, by JSON path (`/email`, `/lines/0/quantity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The body every error response has.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    /// A URI naming the kind of problem (`urn:mercato:problem:<code>`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable, machine-readable code (`not_found`, `validation_failed`, …).
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// A problem code: its wire name, its HTTP status and its title. Implemented by the enums
/// [`problem_codes!`](crate::problem_codes) declares.
pub trait ProblemCode: Copy + 'static {
    fn code(self) -> &'static str;
    fn status(self) -> StatusCode;
    fn title(self) -> &'static str;
}

/// One declared code, as the OpenAPI document lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclaredCode {
    pub code: &'static str,
    pub status: u16,
    pub title: &'static str,
    /// Who gives it (`kernel`, `orders`, …).
    pub owner: &'static str,
}

/// Declares a service's problem codes, once: an enum whose variants carry the code, the
/// status and the title, with [`ProblemCode`] and a `DECLARED` list for the OpenAPI
/// document.
///
/// ```ignore
/// mercato_kernel::problem_codes! {
///     /// The orders service's problems.
///     pub enum OrdersProblem in "orders" {
///         CartClosed = (CONFLICT, "cart_closed", "Conflict"),
///     }
/// }
/// ```
#[macro_export]
macro_rules! problem_codes {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident in $owner:literal {
            $( $(#[$vmeta:meta])* $variant:ident = ($status:ident, $code:literal, $title:literal) ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),*
        }

        impl $name {
            /// Every code, as the OpenAPI document lists it.
            pub const DECLARED: &'static [$crate::problem::DeclaredCode] = &[
                $( $crate::problem::DeclaredCode {
                    code: $code,
                    status: $crate::__private::StatusCode::$status.as_u16(),
                    title: $title,
                    owner: $owner,
                } ),*
            ];
        }

        impl ::std::convert::From<$name> for $crate::Problem {
            fn from(code: $name) -> Self {
                $crate::Problem::coded(code)
            }
        }

        impl $crate::problem::ProblemCode for $name {
            fn code(self) -> &'static str {
                match self { $( Self::$variant => $code ),* }
            }
            fn status(self) -> $crate::__private::StatusCode {
                match self { $( Self::$variant => $crate::__private::StatusCode::$status ),* }
            }
            fn title(self) -> &'static str {
                match self { $( Self::$variant => $title ),* }
            }
        }
    };
}

problem_codes! {
    /// The codes every service gives through the kernel: lookups, authentication, access,
    /// validation, plan limits, rate limits, bodies and queries, idempotency keys, failures.
    pub enum Common in "kernel" {
        NotFound = (NOT_FOUND, "not_found", "Not found"),
        Unauthorized = (UNAUTHORIZED, "unauthorized", "Authentication required"),
        Forbidden = (FORBIDDEN, "forbidden", "Not allowed"),
        ValidationFailed = (UNPROCESSABLE_ENTITY, "validation_failed", "The request is not valid"),
        PlanLimitExceeded = (PAYMENT_REQUIRED, "plan_limit_exceeded", "Plan limit reached"),
        RateLimited = (TOO_MANY_REQUESTS, "rate_limited", "Too many requests"),
        Internal = (INTERNAL_SERVER_ERROR, "internal", "Internal error"),
        MalformedJson = (BAD_REQUEST, "malformed_json", "Bad request"),
        UnsupportedMediaType = (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported media type"),
        BodyTooLarge = (PAYLOAD_TOO_LARGE, "body_too_large", "Body too large"),
        BadBody = (BAD_REQUEST, "bad_body", "Bad request"),
        BadQuery = (BAD_REQUEST, "bad_query", "Bad request"),
        IdempotencyKeyRequired = (BAD_REQUEST, "idempotency_key_required", "Bad request"),
    }
}

/// An error a request ends with.
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    /// Extra headers (`Retry-After`, `WWW-Authenticate`).
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
    /// What went wrong inside; logged, never sent.
    pub source: Option<anyhow::Error>,
}

impl Problem {
    /// The problem `code` declares, with `detail` for the client.
    pub fn of(code: impl ProblemCode, detail: impl Into<String>) -> Self {
        Self::coded(code).with_detail(detail)
    }

    /// The problem `code` declares, without a detail.
    pub fn coded(code: impl ProblemCode) -> Self {
        Self::new(code.status(), code.code(), code.title())
    }

    /// Only for [`ProblemCode`]s ([`Problem::coded`], [`Problem::of`]), so every code is
    /// declared.
    fn new(status: StatusCode, code: &'static str, title: &'static str) -> Self {
        Self {
            status,
            code,
            title,
            detail: None,
            errors: Vec::new(),
            headers: Vec::new(),
            source: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn not_found() -> Self {
        Self::from(Common::NotFound)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::of(Common::Unauthorized, detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::of(Common::Forbidden, detail)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut problem = Self::from(Common::ValidationFailed);
        problem.errors = errors;
        problem
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn limit_exceeded(detail: impl Into<String>) -> Self {
        Self::of(Common::PlanLimitExceeded, detail)
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let value = HeaderValue::from(retry_after_secs.max(1));
        Self::of(
            Common::RateLimited,
            "the shop's request rate limit was exceeded; retry later",
        )
        .with_header(header::RETRY_AFTER, value)
    }

    /// A failure the client could not have avoided. The source is logged, not sent.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut problem = Self::from(Common::Internal);
        problem.source = Some(source.into());
        problem
    }

    pub fn body(&self) -> ProblemBody {
        ProblemBody {
            kind: format!("urn:mercato:problem:{}", self.code),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            code: self.code.to_owned(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl<E: Into<anyhow::Error>> From<E> for Problem {
    fn from(error: E) -> Self {
        Self::internal(error)
    }
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        if let Some(source) = &self.source {
            tracing::error!(error = ?source, code = self.code, "request failed");
        } else if self.status.is_server_error() {
            tracing::warn!(
                status = self.status.as_u16(),
                code = self.code,
                "request failed"
            );
        }
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            body,
        )
            .into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// Collects field errors so one 422 names every bad field, not just the first.
#[derive(Debug, Default)]
pub struct Checks(pub Vec<FieldError>);

impl Checks {
    pub fn field(&mut self, path: &str, result: Result<(), &'static str>) {
        if let Err(message) = result {
            self.0.push(FieldError::new(path, message));
        }
    }

    /// Records an error whose message is built at run time.
    pub fn push(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(path, message));
    }

    pub fn finish(self) -> Result<(), Problem> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Problem::validation(self.0))
        }
    }
}
