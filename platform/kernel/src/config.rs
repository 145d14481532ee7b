//! Layered configuration: compiled-in defaults, then a TOML file, then `MERCATO_…`
//! environment variables (`MERCATO_DATABASE__URL` sets `database.url`). The result is
//! deserialized strictly, so a misspelt or mistyped key is named in the error.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid configuration at `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("environment variable {var} does not name a configuration key")]
    Env { var: String },
}

/// Merges the layers and deserializes them into `T`.
///
/// `env` is passed in (rather than read here) so that tests and several services in one
/// process never touch the process environment.
pub fn load<T: Serialize + DeserializeOwned>(
    defaults: &T,
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError> {
    let mut merged = toml::Value::try_from(defaults).map_err(|e| ConfigError::Invalid {
        key: "<defaults>".into(),
        message: e.to_string(),
    })?;
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let layer: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            path: path.into(),
            message: e.to_string(),
        })?;
        merge(&mut merged, toml::Value::Table(layer));
    }
    for (var, raw) in env {
        let Some(rest) = var.strip_prefix("MERCATO_") else {
            continue;
        };
        if rest.is_empty() {
            return Err(ConfigError::Env { var });
        }
        let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Env { var });
        }
        set_path(&mut merged, &path, env_value(&raw));
    }
    serde_path_to_error::deserialize(merged).map_err(|e| ConfigError::Invalid {
        key: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// An env value is read as a TOML scalar or array when it parses as one (`8080`, `true`,
/// `["a","b"]`), else as a plain string.
fn env_value(raw: &str) -> toml::Value {
    let probe = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&probe) {
        Ok(mut table) => table
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

fn merge(base: &mut toml::Value, layer: toml::Value) {
    match (base, layer) {
        (toml::Value::Table(base), toml::Value::Table(layer)) => {
            for (key, value) in layer {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

fn set_path(root: &mut toml::Value, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = root;
    for key in parents {
        let toml::Value::Table(table) = node else {
            return;
        };
        node = table
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    if let toml::Value::Table(table) = node {
        // A string from the environment where the defaults have a string stays a string
        // even if it looks like a number (`MERCATO_AUTH__ISSUER=123`).
        let value = match (table.get(last), value) {
            (Some(toml::Value::String(_)), v) if !v.is_str() => {
                toml::Value::String(scalar_text(&v))
            }
            (_, v) => v,
        };
        table.insert(last.clone(), value);
    }
}

fn scalar_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(x) => x.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        _ => String::new(),
    }
}

/// A secret from configuration: never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        listen: String,
        database: Database,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Database {
        url: String,
        max_connections: u32,
    }

    fn defaults() -> Sample {
        Sample {
            listen: "127.0.0.1:8080".into(),
            database: Database {
                url: "sqlite://x".into(),
                max_connections: 5,
            },
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn file_then_env_override_defaults() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("mercato-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("mercato.toml");
        std::fs::write(
            &file,
            "[database]\nurl = \"postgres://db\"\nmax_connections = 9\n",
        )?;
        let got = load(
            &defaults(),
            Some(&file),
            env(&[("MERCATO_DATABASE__MAX_CONNECTIONS", "20"), ("OTHER", "x")]),
        )?;
        assert_eq!(got.database.url, "postgres://db");
        assert_eq!(got.database.max_connections, 20);
        assert_eq!(got.listen, "127.0.0.1:8080");
        std::fs::remove_dir_all(dir)?;
        Ok(())
    }

    #[test]
    fn names_the_offending_key() {
        let err = load(
            &defaults(),
            None,
            env(&[("MERCATO_DATABASE__MAX_CONNECTIONS", "many")]),
        )
        .err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("database.max_connections"), "{text}");

        let err = load(&defaults(), None, env(&[("MERCATO_DATABSE__URL", "x")])).err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("databse"), "{text}");
    }

    #[test]
    fn numeric_looking_env_stays_a_string_for_string_keys() -> Result<(), ConfigError> {
        let got = load(&defaults(), None, env(&[("MERCATO_LISTEN", "8080")]))?;
        assert_eq!(got.listen, "8080");
        Ok(())
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }
}
