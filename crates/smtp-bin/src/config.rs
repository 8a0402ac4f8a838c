//! Command line and environment configuration (being written).
