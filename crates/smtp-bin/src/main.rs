//! `mailsink`: parse the configuration, start the server, wait for signals, shut down cleanly.
//!
//! Exit status: 0 after a clean shutdown, 1 for a configuration or start-up error (one line on
//! standard error, in Mailpit's words where Mailpit has them).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use smtp_bin::config::{self, Config, HashScheme, Invocation};
use smtp_bin::Server;

fn main() -> ExitCode {
    let args = std::env::args_os().skip(1).collect();
    let invocation = match config::parse(args, &|name| std::env::var(name).ok()) {
        Ok(invocation) => invocation,
        Err(err) => return fail(&err),
    };
    match invocation {
        Invocation::Help => {
            print!("{}", config::help_text());
            ExitCode::SUCCESS
        }
        Invocation::Version => {
            println!("mailsink {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Invocation::HashPassword { scheme, user } => hash_password(scheme, &user),
        Invocation::Run(config) => run(&config),
    }
}

fn fail(err: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("mailsink: {err}");
    ExitCode::FAILURE
}

fn init_logging(config: &Config) {
    let level = if config.quiet {
        "error"
    } else if config.verbose {
        "debug"
    } else {
        "info"
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_target(false)
        .init();
}

fn run(config: &Config) -> ExitCode {
    init_logging(config);
    // Register signal handlers before starting threads, so no signal is lost in between.
    let mut signals = match Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(signals) => signals,
        Err(err) => return fail(&format!("cannot install signal handlers: {err}")),
    };
    let server = match Server::start(config) {
        Ok(server) => server,
        Err(err) => return fail(&err),
    };
    for signal in signals.forever() {
        if signal == SIGHUP {
            log::info!("SIGHUP: reloading the certificate and credentials");
            server.reload();
        } else {
            break;
        }
    }
    log::info!(
        "shutting down: no new connections, waiting up to {:?} for open sessions",
        config.shutdown_timeout
    );
    server.shutdown(config.shutdown_timeout);
    log::info!("stopped");
    ExitCode::SUCCESS
}

/// `mailsink hash-password [--bcrypt|--argon2] USER`: reads the password from standard input
/// (without echo on a terminal) and prints an htpasswd line.
fn hash_password(scheme: HashScheme, user: &str) -> ExitCode {
    let password = if std::io::stdin().is_terminal() {
        match rpassword::prompt_password(format!("Password for {user}: ")) {
            Ok(p) => p,
            Err(err) => return fail(&format!("cannot read the password: {err}")),
        }
    } else {
        let mut line = String::new();
        if let Err(err) = std::io::stdin().lock().read_line(&mut line) {
            return fail(&format!("cannot read the password: {err}"));
        }
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    let scheme = match scheme {
        HashScheme::Bcrypt => smtp_auth::HashScheme::Bcrypt,
        HashScheme::Argon2 => smtp_auth::HashScheme::Argon2id,
    };
    let line = smtp_auth::hash_password(scheme, password.as_bytes())
        .and_then(|hash| smtp_auth::format_htpasswd_line(user, &hash));
    match line {
        Ok(line) => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            ExitCode::SUCCESS
        }
        Err(err) => fail(&err),
    }
}
