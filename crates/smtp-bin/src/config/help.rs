//! The `--help` text, rendered once from the option table in `flags.rs`.
//!
//! Each option takes a line of its own, with its help and its `[env: ...] [default: ...]` notes
//! indented below it and wrapped to fit an 80-column terminal.

use std::fmt::Write as _;
use std::sync::OnceLock;

use super::flags::{self, EnvOnly, Flag, Group};

/// Where help and notes start.
const INDENT: &str = "          ";
/// The widest line the wrapped text makes.
const WIDTH: usize = 80;

/// The help text, rendered on first use.
pub(crate) fn text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(render)
}

fn render() -> String {
    let mut out = format!(
        "mailsink {}: an email-testing SMTP server, a drop-in for Mailpit's SMTP side.\n\
         \n\
         Usage:\n  \
         mailsink [FLAGS]\n  \
         mailsink hash-password [--bcrypt|--argon2] USER\n\
         {INDENT}Read a password from standard input and print an htpasswd line for\n\
         {INDENT}USER, hashed with bcrypt (the default) or argon2id.\n\
         \n\
         A flag overrides its environment variable. Environment booleans are 1, true,\n\
         yes or 0, false, no (empty is off). SECS values are seconds and may be\n\
         fractional (0.5).\n",
        env!("CARGO_PKG_VERSION")
    );
    for group in Group::ALL {
        let _ = write!(out, "\n{}:\n", group.title());
        for flag in flags::ALL.iter().filter(|flag| flag.group == group) {
            let _ = writeln!(out, "{}", flag_line(flag));
            wrap_into(&mut out, flag.help);
            wrap_into(&mut out, &flag_notes(flag));
        }
        for var in flags::ENV_ONLY.iter().filter(|var| var.group == group) {
            let _ = writeln!(out, "{}", env_line(var));
            wrap_into(&mut out, var.help);
        }
    }
    out
}

/// `  -s, --smtp ADDR` or `      --smtp-tls-cert PATH`.
fn flag_line(flag: &Flag) -> String {
    let short = flag
        .short
        .map_or_else(|| "    ".to_owned(), |short| format!("{short}, "));
    match flag.value {
        Some(value) => format!("  {short}{} {value}", flag.long),
        None => format!("  {short}{}", flag.long),
    }
}

/// `      MP_SMTP_AUTH (environment only)`.
fn env_line(var: &EnvOnly) -> String {
    format!("      {} (environment only)", var.name)
}

/// `[env: MP_SMTP_BIND_ADDR] [default: [::]:1025]`, as much of it as applies.
fn flag_notes(flag: &Flag) -> String {
    let env = flag.env.map(|env| format!("[env: {env}]"));
    let default = flag.default.map(|default| format!("[default: {default}]"));
    [env, default]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Appends `text` word-wrapped at [`WIDTH`], each line starting at [`INDENT`].
fn wrap_into(out: &mut String, text: &str) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && INDENT.len() + line.len() + 1 + word.len() > WIDTH {
            let _ = writeln!(out, "{INDENT}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{INDENT}{line}");
    }
}
