//! `mailsink` entry point.

fn main() {}
