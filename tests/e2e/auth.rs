//! SMTP AUTH end to end (being written).
