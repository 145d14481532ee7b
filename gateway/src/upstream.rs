//! Calling a service: in-process through its router (the all-in-one shape) or over HTTP
//! (the split shape). The same request goes either way.

use crate::problems::GatewayProblem;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, header};
use mercato_kernel::Problem;
use tower::ServiceExt;

#[derive(Clone)]
pub enum Upstream {
    Local(Router),
    Remote {
        client: reqwest::Client,
        base: String,
    },
}

/// Headers that describe one hop, not the message.
const HOP_BY_HOP: &[header::HeaderName] = &[
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
    header::HOST,
    header::CONTENT_LENGTH,
];

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !HOP_BY_HOP.contains(name) {
            to.append(name.clone(), value.clone());
        }
    }
}

impl Upstream {
    pub async fn call(
        &self,
        request: Request<Body>,
        max_body: usize,
    ) -> Result<Response<Body>, Problem> {
        match self {
            Upstream::Local(router) => Ok(router
                .clone()
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {})),
            Upstream::Remote { client, base } => {
                let (parts, body) = request.into_parts();
                let bytes = axum::body::to_bytes(body, max_body)
                    .await
                    .map_err(|_| Problem::from(mercato_kernel::Common::BodyTooLarge))?;
                let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let mut headers = HeaderMap::new();
                copy_headers(&parts.headers, &mut headers);
                let response = client
                    .request(
                        parts.method,
                        format!("{}{path}", base.trim_end_matches('/')),
                    )
                    .headers(headers)
                    .body(bytes)
                    .send()
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, upstream = %base, "upstream unreachable");
                        Problem::from(GatewayProblem::UpstreamUnavailable)
                    })?;
                let mut out = Response::builder().status(response.status());
                if let Some(headers) = out.headers_mut() {
                    copy_headers(response.headers(), headers);
                }
                let body = response.bytes().await.map_err(Problem::internal)?;
                out.body(Body::from(body)).map_err(Problem::internal)
            }
        }
    }
}
