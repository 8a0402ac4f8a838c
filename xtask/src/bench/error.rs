//! The benchmark's error type: what failed, and the detail a person needs to fix it.

use std::fmt;
use std::io;

#[derive(Debug)]
pub(crate) enum BenchError {
    /// Bad command-line arguments.
    Usage(String),
    /// A file or process operation failed.
    Io { what: String, source: io::Error },
    /// A tool could not be installed or built.
    Install { tool: &'static str, detail: String },
    /// A server did not start or died.
    Server { name: String, detail: String },
    /// The load could not be driven at all (not the server refusing messages: that is counted).
    Load(String),
}

impl BenchError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(text) => write!(f, "{text}\n{}", super::options::USAGE),
            Self::Io { what, source } => write!(f, "{what}: {source}"),
            Self::Install { tool, detail } => write!(f, "cannot install {tool}: {detail}"),
            Self::Server { name, detail } => write!(f, "server {name}: {detail}"),
            Self::Load(detail) => write!(f, "load: {detail}"),
        }
    }
}

impl std::error::Error for BenchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
