//! Upstream-style validation: every check returns field errors that the
//! handlers turn into a 422 `Status` with `details.causes`.

pub mod field;

pub use field::{ErrorList, ErrorType, FieldError};
