//! Storage thread (being written).
