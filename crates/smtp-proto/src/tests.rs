//! Unit tests for the pieces below the session.
