//! A JSON body extractor whose type errors name the exact field, nested ones included
//! (`/variants/0/price/currency`), so a client sees which value of a large body is wrong.
//! Malformed JSON is a 400, a missing or wrong content type a 415, an oversized body a 413.

use crate::problems::CatalogProblem;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use mercato_kernel::{FieldError, Problem};
use serde::de::DeserializeOwned;

#[derive(Debug, Clone, Copy, Default)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let essence = v.split(';').next().unwrap_or_default().trim();
                essence.eq_ignore_ascii_case("application/json") || essence.ends_with("+json")
            });
        if !json {
            return Err(Problem::from(CatalogProblem::UnsupportedMediaType)
                .with_detail("send the body as application/json"));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::from(CatalogProblem::BodyTooLarge).with_detail(e.body_text())
                } else {
                    Problem::of(CatalogProblem::BadBody, e.body_text())
                }
            })?;
        parse(&bytes).map(Body)
    }
}

/// Reads `bytes` as a `T`, naming the field of the first type error.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = pointer(error.path());
        let inner = error.into_inner();
        if inner.classify() == serde_json::error::Category::Data {
            let message = without_position(&inner.to_string());
            let field = match missing_field(&message) {
                Some(name) if path == "/" => format!("/{name}"),
                Some(name) => format!("{path}/{name}"),
                None => path,
            };
            Problem::validation(vec![FieldError::new(field, message)])
        } else {
            Problem::of(
                CatalogProblem::MalformedJson,
                format!("the body is not valid JSON: {inner}"),
            )
        }
    })?;
    deserializer.end().map_err(|e| {
        Problem::of(
            CatalogProblem::MalformedJson,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    Ok(value)
}

/// `variants[0].price` → `/variants/0/price`.
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => out.push_str(&format!("/{key}")),
            Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    if out.is_empty() { "/".to_owned() } else { out }
}

fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// The name in serde's "missing field `name`".
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        title: String,
        #[serde(default)]
        variants: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        sku: String,
        price: mercato_kernel::Money,
    }

    fn field_of(body: &str) -> (u16, String) {
        let problem = parse::<Outer>(body.as_bytes()).unwrap_err();
        (
            problem.status.as_u16(),
            problem
                .errors
                .first()
                .map(|e| e.field.clone())
                .unwrap_or_default(),
        )
    }

    #[test]
    fn nested_type_errors_name_their_field() {
        assert_eq!(
            field_of(
                r#"{"title":"x","variants":[{"sku":"A","price":{"amount":1,"currency":"EUR"}},{"sku":"B","price":{"amount":1,"currency":"XYZ"}}]}"#
            ),
            (422, "/variants/1/price/currency".into())
        );
        assert_eq!(
            field_of(
                r#"{"title":"x","variants":[{"sku":"A","price":{"amount":1.5,"currency":"EUR"}}]}"#
            ),
            (422, "/variants/0/price/amount".into())
        );
        assert_eq!(
            field_of(r#"{"title":"x","variants":[{"sku":"A"}]}"#),
            (422, "/variants/0/price".into())
        );
        assert_eq!(field_of(r#"{}"#), (422, "/title".into()));
        assert_eq!(field_of(r#"{"title":"x","colour":1}"#).0, 422);
        assert_eq!(field_of(r#"{"title":"#).0, 400);
        assert_eq!(field_of(r#"{"title":"x"} trailing"#).0, 400);
    }
}
