//! Request paths the gateway refuses before routing.
//!
//! The gateway routes on the path exactly as it arrived, but in the split shape the upstream
//! HTTP client parses the forwarded URL and collapses dot segments (`..`, `%2e%2e`, `.`)
//! on the way out: `/api/v1/shop/../../internal/v1/resolve` would be routed to tenants as a
//! shop path and arrive there as `/internal/v1/resolve`. Empty segments (`//`) are the
//! other way a path can mean one thing to the router and another to whatever parses it
//! next. No Mercato route has either, so such a path is refused as a whole with a 400.
//!
//! A single trailing slash (`/api/v1/products/`) is an empty *last* segment that no parser
//! collapses into anything else, so it is let through and answered as before (no route
//! ends in `/`, so the API answers 404).

use crate::problems::GatewayProblem;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mercato_kernel::Problem;

/// The problem code of a refused path.
pub const INVALID_PATH: &str = "invalid_path";

/// What is wrong with a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path has a `.` or `..` segment (plain or percent-encoded)")]
    DotSegment,
    #[error("the path has an empty segment (`//`)")]
    EmptySegment,
    #[error("the path does not start with `/`")]
    NotAbsolute,
}

impl PathError {
    pub fn to_problem(self) -> Problem {
        Problem::of(GatewayProblem::InvalidPath, self.to_string())
    }
}

/// Checks every segment of a raw (still percent-encoded) request path.
pub fn check(path: &str) -> Result<(), PathError> {
    let rest = path.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
    if rest.is_empty() {
        return Ok(());
    }
    // URL parsers read `\` in an http URL as `/` (the WHATWG URL standard), so it splits
    // segments here too.
    let segments: Vec<&str> = rest.split(['/', '\\']).collect();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        if segment.is_empty() {
            if i == last {
                // A trailing slash; see the module comment.
                continue;
            }
            return Err(PathError::EmptySegment);
        }
        if is_dot_segment(segment) {
            return Err(PathError::DotSegment);
        }
    }
    Ok(())
}

/// `.` or `..`, with any dot written as `%2e` or `%2E` (as URL parsers read them).
fn is_dot_segment(segment: &str) -> bool {
    let mut rest = segment.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() {
        match rest {
            [b'.', tail @ ..] => rest = tail,
            [b'%', b'2', b'e' | b'E', tail @ ..] => rest = tail,
            _ => return false,
        }
        dots += 1;
    }
    matches!(dots, 1 | 2)
}

/// Middleware on the gateway's router: a path with a dot or empty segment is answered 400
/// before any route (or the proxy's routing table) sees it.
pub async fn refuse_ambiguous_paths(request: Request, next: Next) -> Response {
    match check(request.uri().path()) {
        Ok(()) => next.run(request).await,
        Err(error) => error.to_problem().into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_paths_pass() {
        for path in [
            "/",
            "/healthz",
            "/api/v1/products",
            "/api/v1/products/sencha-green-tea",
            "/api/v1/products/",
            "/media/shops/shop_x/vendors/shop/media/v1.2_final.png",
            "/api/v1/products/...",
            "/api/v1/products/.well-known",
            "/api/v1/products/a..b",
            "/api/v1/products/%2e%2e%2e",
            "/api/v1/products/%2e-x",
            "/api/v1/products/%252e%252e",
        ] {
            assert_eq!(check(path), Ok(()), "{path}");
        }
    }

    #[test]
    fn dot_segments_are_refused_in_every_spelling() {
        for path in [
            "/api/v1/../internal/v1/resolve",
            "/api/v1/shop/../../internal/v1/resolve",
            "/api/v1/./products",
            "/api/v1/products/.",
            "/api/v1/products/..",
            "/api/v1/%2e%2e/internal/v1/resolve",
            "/api/v1/%2E%2E/internal/v1/resolve",
            "/api/v1/%2e%2E/internal",
            "/api/v1/.%2e/internal",
            "/api/v1/%2e./internal",
            "/api/v1/%2e/products",
            "/api/v1/%2E/products",
            "/..",
            "/.",
            "/../",
            "/api/v1/shop\\..\\..\\internal/v1/resolve",
        ] {
            assert_eq!(check(path), Err(PathError::DotSegment), "{path}");
        }
    }

    #[test]
    fn empty_segments_are_refused_except_a_trailing_slash() {
        for path in [
            "//internal/v1/resolve",
            "/api/v1//products",
            "/api//v1/products",
            "/api/v1/products//",
            "///",
            "/api/v1\\\\products",
        ] {
            assert_eq!(check(path), Err(PathError::EmptySegment), "{path}");
        }
        assert_eq!(check("/api/v1/products/"), Ok(()));
        assert_eq!(check("api/v1/products"), Err(PathError::NotAbsolute));
        assert_eq!(check(""), Err(PathError::NotAbsolute));
    }

    #[test]
    fn a_refused_path_is_a_400_problem_with_a_stable_code() {
        let problem = PathError::DotSegment.to_problem();
        assert_eq!(problem.status.as_u16(), 400);
        assert_eq!(problem.code, "invalid_path");
    }
}
