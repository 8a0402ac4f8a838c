//! Sans-IO SMTP server session (work in progress).
