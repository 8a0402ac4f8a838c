//! Integration tests for `smtp-proto`: the transcript checker and property-style checks.

mod transcript;
