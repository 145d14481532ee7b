//! Keys for the embedded shape. When the configuration names no signing key or internal
//! key, one is generated on first start and kept in `<data_dir>/secrets.toml` (mode 0600),
//! so tokens stay valid across restarts. Production configures them explicitly.

use mercato_auth::SigningKey;
use mercato_kernel::Secret;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    signing_key_id: String,
    signing_key: Secret,
    internal_key: Secret,
}

fn random_secret() -> Secret {
    // 256 bits, printable.
    let text = mercato_auth::OpaqueSecret::generate("").text;
    Secret::new(text)
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid secrets file: {message}")]
    Invalid { path: String, message: String },
}

/// The keys to use: the configured ones, else the stored or newly generated ones.
pub fn resolve(
    configured: &[SigningKey],
    internal: &Secret,
    data_dir: &Path,
) -> Result<(Vec<SigningKey>, Secret), SecretsError> {
    if !configured.is_empty() && !internal.expose().is_empty() {
        return Ok((configured.to_vec(), internal.clone()));
    }
    let path = data_dir.join("secrets.toml");
    let io = |source| SecretsError::Io {
        path: path.display().to_string(),
        source,
    };
    let stored = if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(io)?;
        toml::from_str::<Stored>(&text).map_err(|e| SecretsError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })?
    } else {
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let stored = Stored {
            signing_key_id: format!("k{}", chrono::Utc::now().format("%Y%m%d")),
            signing_key: random_secret(),
            internal_key: random_secret(),
        };
        let text = toml::to_string(&stored).map_err(|e| SecretsError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        write_private(&path, &text).map_err(io)?;
        tracing::info!(path = %path.display(), "generated signing keys for the embedded shape");
        stored
    };
    let keys = if configured.is_empty() {
        vec![SigningKey {
            kid: stored.signing_key_id,
            secret: stored.signing_key,
        }]
    } else {
        configured.to_vec()
    };
    let internal = if internal.expose().is_empty() {
        stored.internal_key
    } else {
        internal.clone()
    };
    Ok((keys, internal))
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}
