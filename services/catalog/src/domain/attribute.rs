//! Attributes a shop defines for its products (`colour`, `weight_kg`, `organic`), each of one
//! kind. A product's value is stored as canonical text, so filters (`attr.colour=red`) and
//! the CSV compare text with text; JSON shows it typed again.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    /// Free text, 1-200 characters.
    Text,
    /// A finite decimal number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// One of the attribute's options.
    Enum,
}

impl AttributeKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Enum => "enum",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "text" => Self::Text,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            "enum" => Self::Enum,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Stable key: 1-40 lowercase letters, digits and `_`, starting with a letter.
    pub code: String,
    pub name: String,
    pub kind: AttributeKind,
    /// The allowed values of an enum attribute; empty for the other kinds.
    pub options: Vec<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

pub fn check_code(code: &str) -> Result<(), &'static str> {
    let ok = (1..=40).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err("1-40 lowercase letters, digits or `_`, starting with a letter")
    }
}

/// An enum's options: 1-100 distinct values of 1-50 characters, without `|`, `=` or `,`.
pub fn check_options(kind: AttributeKind, options: &[String]) -> Result<(), &'static str> {
    if kind != AttributeKind::Enum {
        return if options.is_empty() {
            Ok(())
        } else {
            Err("only enum attributes have options")
        };
    }
    if options.is_empty() || options.len() > 100 {
        return Err("an enum needs 1-100 options");
    }
    let mut seen = std::collections::BTreeSet::new();
    for option in options {
        if option.trim().is_empty()
            || option.trim() != option
            || option.chars().count() > 50
            || option
                .chars()
                .any(|c| c.is_control() || matches!(c, '|' | '=' | ','))
        {
            return Err("each option 1-50 characters without surrounding spaces, `|`, `=` or `,`");
        }
        if !seen.insert(option.as_str()) {
            return Err("an option appears twice");
        }
    }
    Ok(())
}

/// A number as canonical text: the shortest decimal that reads back as the same `f64`.
fn canonical_number(n: f64) -> Result<String, &'static str> {
    if !n.is_finite() {
        return Err("a finite number");
    }
    // `-0` and `0` are one value.
    let n = if n == 0.0 { 0.0 } else { n };
    Ok(format!("{n}"))
}

impl Attribute {
    /// A JSON value for this attribute, as canonical text.
    pub fn canonical(&self, value: &Value) -> Result<String, &'static str> {
        match (self.kind, value) {
            (AttributeKind::Text, Value::String(s)) => self.canonical_text(s),
            (AttributeKind::Number, Value::Number(n)) => {
                canonical_number(n.as_f64().ok_or("a finite number")?)
            }
            (AttributeKind::Boolean, Value::Bool(b)) => Ok(b.to_string()),
            (AttributeKind::Enum, Value::String(s)) => self.canonical_text(s),
            (AttributeKind::Text | AttributeKind::Enum, _) => Err("a string"),
            (AttributeKind::Number, _) => Err("a number"),
            (AttributeKind::Boolean, _) => Err("true or false"),
        }
    }

    /// Text typed by a person (a CSV cell, a query parameter), as canonical text.
    pub fn canonical_text(&self, text: &str) -> Result<String, &'static str> {
        let text = text.trim();
        match self.kind {
            AttributeKind::Text => {
                if text.is_empty()
                    || text.chars().count() > 200
                    || text.chars().any(|c| c.is_control() || c == '|')
                {
                    Err("1-200 characters, without `|`")
                } else {
                    Ok(text.to_owned())
                }
            }
            AttributeKind::Number => {
                let n: f64 = text.parse().map_err(|_| "a number such as 1.5")?;
                canonical_number(n)
            }
            AttributeKind::Boolean => match text {
                "true" | "yes" | "1" => Ok("true".to_owned()),
                "false" | "no" | "0" => Ok("false".to_owned()),
                _ => Err("true or false"),
            },
            AttributeKind::Enum => {
                if self.options.iter().any(|o| o == text) {
                    Ok(text.to_owned())
                } else {
                    Err("not one of the attribute's options")
                }
            }
        }
    }

    /// The stored text as typed JSON.
    pub fn to_json(&self, canonical: &str) -> Value {
        match self.kind {
            AttributeKind::Number => canonical
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::String(canonical.to_owned()), Value::Number),
            AttributeKind::Boolean => Value::Bool(canonical == "true"),
            AttributeKind::Text | AttributeKind::Enum => Value::String(canonical.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attribute(kind: AttributeKind, options: &[&str]) -> Attribute {
        Attribute {
            code: "x".into(),
            name: "X".into(),
            kind,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn values_must_fit_the_kind() {
        let number = attribute(AttributeKind::Number, &[]);
        assert_eq!(number.canonical(&json!(1.50)), Ok("1.5".into()));
        assert_eq!(number.canonical(&json!(2)), Ok("2".into()));
        assert_eq!(number.canonical(&json!("2")), Err("a number"));
        assert_eq!(number.canonical_text("2.0"), Ok("2".into()));
        assert_eq!(number.to_json("1.5"), json!(1.5));

        let boolean = attribute(AttributeKind::Boolean, &[]);
        assert_eq!(boolean.canonical(&json!(true)), Ok("true".into()));
        assert_eq!(boolean.canonical(&json!("yes")), Err("true or false"));
        assert_eq!(boolean.canonical_text("yes"), Ok("true".into()));
        assert_eq!(boolean.to_json("false"), json!(false));

        let colour = attribute(AttributeKind::Enum, &["red", "green"]);
        assert_eq!(colour.canonical(&json!("red")), Ok("red".into()));
        assert!(colour.canonical(&json!("blue")).is_err());

        let text = attribute(AttributeKind::Text, &[]);
        assert_eq!(text.canonical(&json!("  Cotton ")), Ok("Cotton".into()));
        assert!(text.canonical(&json!("")).is_err());
        assert!(text.canonical(&json!(5)).is_err());
    }

    #[test]
    fn codes_and_options_are_checked() {
        assert!(check_code("weight_kg").is_ok());
        for bad in ["", "Weight", "1st", "a-b", &"a".repeat(41)] {
            assert!(check_code(bad).is_err(), "{bad:?}");
        }
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert!(check_options(AttributeKind::Enum, &s(&["red", "green"])).is_ok());
        assert!(check_options(AttributeKind::Enum, &[]).is_err());
        assert!(check_options(AttributeKind::Enum, &s(&["red", "red"])).is_err());
        assert!(check_options(AttributeKind::Enum, &s(&["a|b"])).is_err());
        assert!(check_options(AttributeKind::Text, &s(&["x"])).is_err());
        for kind in ["text", "number", "boolean", "enum"] {
            assert_eq!(
                AttributeKind::parse(kind).map(AttributeKind::code),
                Some(kind)
            );
        }
    }
}
