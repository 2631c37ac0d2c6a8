//! The `Authorization: Bearer` header: a fixed token (kubeconfig `token`)
//! or a token file (kubeconfig `tokenFile`, the in-cluster ServiceAccount
//! token) re-read every minute, because the kubelet rotates projected
//! ServiceAccount tokens. Whitespace around the token is trimmed, as
//! client-go does (a hand-written file usually ends in a newline).

use super::ConfigError;
use http::HeaderValue;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a token read from a file is used before the file is read again.
const REREAD_AFTER: Duration = Duration::from_secs(60);

/// A shareable source of the bearer header.
#[derive(Clone)]
pub(crate) struct BearerToken(Arc<Mutex<State>>);

struct State {
    header: HeaderValue,
    file: Option<PathBuf>,
    read_at: Instant,
}

fn header(token: &str, origin: &str) -> Result<HeaderValue, ConfigError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| {
        ConfigError::Token(format!("{origin} holds characters not allowed in a header"))
    })?;
    value.set_sensitive(true);
    Ok(value)
}

fn read(path: &Path) -> Result<HeaderValue, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::Token(format!("cannot read token file {}: {e}", path.display()))
    })?;
    header(&text, &format!("token file {}", path.display()))
}

impl BearerToken {
    /// A token given inline.
    pub(crate) fn fixed(token: &str) -> Result<BearerToken, ConfigError> {
        Ok(Self::new(header(token, "the kubeconfig's token")?, None))
    }

    /// A token file; it must be readable now.
    pub(crate) fn file(path: &Path) -> Result<BearerToken, ConfigError> {
        Ok(Self::new(read(path)?, Some(path.to_path_buf())))
    }

    fn new(header: HeaderValue, file: Option<PathBuf>) -> BearerToken {
        BearerToken(Arc::new(Mutex::new(State {
            header,
            file,
            read_at: Instant::now(),
        })))
    }

    /// The header to send now; re-reads the file when due, and keeps the
    /// last good token when it cannot (the apiserver then answers 401).
    pub(crate) fn header(&self) -> HeaderValue {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let due = state.read_at.elapsed() >= REREAD_AFTER;
        if let (Some(path), true) = (state.file.clone(), due) {
            state.read_at = Instant::now();
            match read(&path) {
                Ok(h) => state.header = h,
                Err(e) => tracing::warn!(error = %e, "keeping the previous bearer token"),
            }
        }
        state.header.clone()
    }

    #[cfg(test)]
    pub(crate) fn expire(&self) {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        state.read_at = Instant::now() - REREAD_AFTER;
    }
}
