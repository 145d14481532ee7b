//! `GET /media/{*key}`: serves the local backend's signed download links.

use crate::key::ObjectKey;
use crate::problems::StorageProblem;
use crate::signing::SignatureError;
use crate::{Storage, StorageError, unix_now};
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mercato_kernel::Problem;
use mercato_tenant_context::TenantId;
use serde::Deserialize;

/// The shop whose objects a request may fetch: the one its `Host` resolved to. The caller
/// that mounts [`media_router`] (the gateway) puts it in the request's extensions; the
/// router serves nothing without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostTenant(pub TenantId);

/// The router serving [`Storage::download_url`]'s links for the local backend, to merge into
/// the gateway's router. It answers `403` (problem+json) for a missing, forged or expired
/// signature, `404` for a signed key whose object is gone or whose shop is not the request's
/// [`HostTenant`] (or when there is none), and otherwise the object with its stored
/// `Content-Type` and `Cache-Control: private`.
///
/// With the S3 backend links point at the bucket, never here, so every request is a `404`;
/// the gateway can mount the router whatever the backend.
pub fn media_router(storage: Storage) -> Router {
    Router::new()
        .route("/media/{*key}", get(download))
        .with_state(storage)
}

#[derive(Deserialize)]
struct Link {
    expires: i64,
    sig: String,
}

async fn download(
    State(storage): State<Storage>,
    host: Option<Extension<HostTenant>>,
    Path(key): Path<String>,
    link: Result<Query<Link>, QueryRejection>,
) -> Result<Response, Problem> {
    let Some(signer) = storage.media_signer() else {
        return Err(Problem::not_found());
    };
    let Ok(Query(link)) = link else {
        return Err(forbidden(
            StorageProblem::InvalidSignature,
            "the download link is not signed",
        ));
    };
    // The signature is checked over the key exactly as it arrived, before the key is used
    // for anything; only keys this platform issued can pass.
    signer
        .verify_download(&key, link.expires, &link.sig, unix_now())
        .map_err(|error| match error {
            SignatureError::BadSignature => {
                forbidden(StorageProblem::InvalidSignature, error.to_string())
            }
            SignatureError::Expired => forbidden(StorageProblem::LinkExpired, error.to_string()),
        })?;
    // A link is a bearer credential for one object, but only on its own shop's domain:
    // another shop's host (or the platform's) answers as if the object did not exist.
    let Some(Extension(HostTenant(tenant))) = host else {
        return Err(Problem::not_found());
    };
    let key = ObjectKey::parse(tenant, &key).map_err(|_| Problem::not_found())?;
    let object = storage
        .get(&key)
        .await
        .map_err(StorageError::into_problem)?;

    let content_type = HeaderValue::from_str(&object.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut response = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, HeaderValue::from_static("private")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        object.bytes,
    )
        .into_response();
    // Served on the shop's own domain: anything but a known image or PDF (an HTML or SVG
    // file stored by some other path) is downloaded, never rendered.
    if crate::MediaType::from_mime(&object.content_type).is_none() {
        response.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    Ok(response)
}

fn forbidden(code: StorageProblem, detail: impl Into<String>) -> Problem {
    Problem::of(code, detail)
}
