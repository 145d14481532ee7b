//! Search configuration, shaped for the layered config file like the other backends: a flat
//! `kind` plus each backend's settings, so `MERCATO_SEARCH__KIND=meilisearch` and
//! `MERCATO_SEARCH__MEILISEARCH__URL=…` switch backends without restating the defaults.

use crate::SearchError;
use mercato_kernel::Secret;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// A tantivy index in a directory of this process (the embedded shape).
    #[default]
    Embedded,
    Meilisearch,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    pub kind: SearchKind,
    /// The embedded index's directory. Empty: `<data_dir>/search`.
    pub path: PathBuf,
    /// Used when `kind = "meilisearch"`.
    pub meilisearch: MeilisearchConfig,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            kind: SearchKind::Embedded,
            path: PathBuf::new(),
            meilisearch: MeilisearchConfig::default(),
        }
    }
}

impl SearchConfig {
    /// The embedded index's directory: [`SearchConfig::path`], or `<data_dir>/search`.
    pub fn embedded_path(&self, data_dir: &Path) -> PathBuf {
        if self.path.as_os_str().is_empty() {
            data_dir.join("search")
        } else {
            self.path.clone()
        }
    }

    /// Checks what serde cannot, naming the offending key relative to this section.
    pub fn validate(&self) -> Result<(), SearchError> {
        match self.kind {
            SearchKind::Embedded => Ok(()),
            SearchKind::Meilisearch => self.meilisearch.validate(),
        }
    }
}

/// A Meilisearch server and the index all shops share (documents carry `tenant_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeilisearchConfig {
    /// `http://127.0.0.1:7700`, without a trailing `/`.
    pub url: String,
    /// A key allowed to search, write documents and change the index's settings. Empty: none
    /// (a server without a master key).
    pub api_key: Secret,
    /// The index uid.
    pub index: String,
}

impl Default for MeilisearchConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            api_key: Secret::new(""),
            index: "products".into(),
        }
    }
}

impl MeilisearchConfig {
    pub fn validate(&self) -> Result<(), SearchError> {
        let invalid = |key, message| Err(SearchError::InvalidConfig { key, message });
        let scheme_ok = ["http://", "https://"]
            .iter()
            .any(|scheme| self.url.starts_with(scheme) && self.url.len() > scheme.len());
        if !scheme_ok || self.url.ends_with('/') {
            return invalid(
                "meilisearch.url",
                "must be an http:// or https:// URL without a trailing `/`",
            );
        }
        let uid_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if self.index.is_empty() || self.index.len() > 400 || !self.index.chars().all(uid_char) {
            return invalid(
                "meilisearch.index",
                "must be 1 to 400 letters, digits, `-` or `_`",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_embedded_under_the_data_dir() {
        let config = SearchConfig::default();
        assert_eq!(config.kind, SearchKind::Embedded);
        assert_eq!(
            config.embedded_path(Path::new("./data")),
            Path::new("./data/search")
        );
        assert!(config.validate().is_ok());
        let elsewhere = SearchConfig {
            path: "/srv/search".into(),
            ..SearchConfig::default()
        };
        assert_eq!(
            elsewhere.embedded_path(Path::new("./data")),
            Path::new("/srv/search")
        );
    }

    #[test]
    fn the_section_reads_from_toml_strictly() {
        let config: SearchConfig = toml::from_str(
            r#"
            kind = "meilisearch"
            path = ""
            [meilisearch]
            url = "http://127.0.0.1:7700"
            api_key = "hunter2hunter2"
            index = "products"
            "#,
        )
        .unwrap();
        assert_eq!(config.kind, SearchKind::Meilisearch);
        assert_eq!(config.meilisearch.api_key.expose(), "hunter2hunter2");
        assert!(config.validate().is_ok());
        assert!(
            !format!("{config:?}").contains("hunter2"),
            "secrets never show"
        );

        let typo = toml::from_str::<SearchConfig>(
            "kind = \"embedded\"\npth = \"\"\n[meilisearch]\nurl = \"\"\napi_key = \"\"\nindex = \"p\"\n",
        );
        assert!(typo.is_err(), "unknown keys are refused");

        let defaults = toml::to_string(&SearchConfig::default()).unwrap();
        assert_eq!(
            toml::from_str::<SearchConfig>(&defaults).unwrap(),
            SearchConfig::default(),
            "the defaults round-trip through the config layers"
        );
    }

    #[test]
    fn meilisearch_settings_are_checked_with_the_key_named() {
        let good = MeilisearchConfig {
            url: "https://search.internal:7700".into(),
            api_key: Secret::new("key"),
            index: "products".into(),
        };
        assert!(good.validate().is_ok());
        type Breakage = fn(&mut MeilisearchConfig);
        let cases: [(Breakage, &str); 5] = [
            (|c| c.url.clear(), "meilisearch.url"),
            (|c| c.url = "127.0.0.1:7700".into(), "meilisearch.url"),
            (|c| c.url.push('/'), "meilisearch.url"),
            (|c| c.index.clear(), "meilisearch.index"),
            (|c| c.index = "pro ducts".into(), "meilisearch.index"),
        ];
        for (break_it, expected) in cases {
            let mut config = good.clone();
            break_it(&mut config);
            match config.validate() {
                Err(SearchError::InvalidConfig { key, .. }) => assert_eq!(key, expected),
                other => panic!("{expected}: {other:?}"),
            }
        }
        let meili = SearchConfig {
            kind: SearchKind::Meilisearch,
            ..SearchConfig::default()
        };
        assert!(meili.validate().is_err(), "meilisearch needs a url");
    }
}
