//! Integration tests of `smtp-store` through its public API: MIME summaries against golden
//! fixtures, and the Maildir store on real directories (restarts, other tools' files, group
//! commit, write errors and a full disk, pruning).
//!
//! The full-disk test mounts a 64 KiB tmpfs, which needs root (as CI runs); without root it
//! says so and passes without checking.

// Helpers outside `#[test]` functions are not covered by clippy.toml's allow-unwrap-in-tests;
// this whole crate is test code.
#![allow(clippy::unwrap_used)]

mod maildir;
mod summary;
mod support;
