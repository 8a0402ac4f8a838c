//! TLS end to end (being written).
