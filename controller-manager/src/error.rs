//! The error every reconcile returns: the runtime logs it and requeues the
//! object with backoff (see [`crate::controllers::requeue_on_error`]).

/// Why a reconcile did not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The apiserver refused or could not be reached.
    #[error("apiserver: {0}")]
    Kube(#[from] kube::Error),
    /// The object cannot be acted on as written (bad selector, bad field);
    /// retried slowly, as the user must fix it.
    #[error("invalid {what}: {reason}")]
    Invalid { what: String, reason: String },
    /// The object is missing a field that the apiserver always sets.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// A (de)serialisation of an object failed.
    #[error("encoding: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// Whether the apiserver answered with `code` (e.g. 409 Conflict).
    pub fn is_status(&self, code: u16) -> bool {
        matches!(self, Error::Kube(kube::Error::Api(s)) if s.code == code)
    }
}
