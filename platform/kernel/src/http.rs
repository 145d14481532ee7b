//! Request extractors whose rejections are problem responses: malformed JSON is a 400, a
//! body of the wrong type a 415, a well-formed body with wrong or unknown fields a 422 that
//! names the field, an oversized body a 413.

use crate::{Common, FieldError, Problem};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// `axum::Json` with problem rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

/// An optional body: a request with no body and no content type gives `None`.
impl<T: DeserializeOwned, S: Send + Sync> axum::extract::OptionalFromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let headers = req.headers();
        let empty = headers
            .get(axum::http::header::CONTENT_LENGTH)
            .is_some_and(|v| v == "0");
        if empty || !headers.contains_key(axum::http::header::CONTENT_TYPE) {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn json_problem(rejection: JsonRejection) -> Problem {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field ("unknown field `x`", "missing field `y`").
            let detail =
                std::error::Error::source(&e).map_or_else(|| e.body_text(), ToString::to_string);
            Problem::validation(vec![FieldError::new(field_of(&detail), detail)])
        }
        JsonRejection::JsonSyntaxError(e) => Problem::of(
            Common::MalformedJson,
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::MissingJsonContentType(_) => Problem::of(
            Common::UnsupportedMediaType,
            "send the body as application/json",
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Problem::of(Common::BodyTooLarge, e.body_text())
        }
        other => Problem::of(Common::BadBody, other.body_text()),
    }
}

/// The JSON-pointer-like path serde names in `detail`, or `/` when it names none.
fn field_of(detail: &str) -> String {
    // "field_name: message" from serde_path_to_error-style messages, or "`name`" quoted.
    if let Some(start) = detail.find('`')
        && let Some(len) = detail[start + 1..].find('`')
    {
        return format!("/{}", &detail[start + 1..start + 1 + len]);
    }
    if let Some((path, _)) = detail.split_once(": ")
        && !path.contains(' ')
    {
        return format!("/{}", path.replace('.', "/"));
    }
    "/".to_owned()
}

/// `axum::extract::Query` with problem rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let detail = e.body_text();
                Err(Problem::validation(vec![FieldError::new(
                    field_of(&detail),
                    detail,
                )]))
            }
            Err(other) => Err(Problem::of(Common::BadQuery, other.body_text())),
        }
    }
}

/// For PATCH bodies: an absent field is `None`, an explicit `null` is `Some(None)`.
pub fn nullable<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Parses a typed id from a path segment; a malformed id names nothing that exists: 404.
pub fn path_id<T: std::str::FromStr>(text: &str) -> Result<T, Problem> {
    text.parse().map_err(|_| Problem::not_found())
}

/// Parses a typed id from a body field, naming the field in `errors` when it is not one.
pub fn body_id<T: std::str::FromStr>(
    text: &str,
    field: &str,
    errors: &mut Vec<crate::FieldError>,
) -> Option<T> {
    match text.parse() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.push(crate::FieldError::new(field, "not an id of the right kind"));
            None
        }
    }
}

/// The `Idempotency-Key` header a request came with, checked: 1-255 visible ASCII
/// characters (so never a space). `None` when there is none.
pub fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key)
            if !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(Some(key.to_owned()))
        }
        _ => Err(Problem::invalid_field(
            "Idempotency-Key",
            "1 to 255 visible ASCII characters",
        )),
    }
}

/// Like [`idempotency_key`], for requests that must carry one: 400 without it.
pub fn required_idempotency_key(headers: &axum::http::HeaderMap) -> Result<String, Problem> {
    idempotency_key(headers)?.ok_or_else(|| {
        Problem::of(
            Common::IdempotencyKeyRequired,
            "send an Idempotency-Key header with this request",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_field_serde_names() {
        assert_eq!(
            field_of("unknown field `colour`, expected one of `name`"),
            "/colour"
        );
        assert_eq!(field_of("missing field `slug` at line 1 column 2"), "/slug");
        assert_eq!(field_of("something else"), "/");
    }
}
