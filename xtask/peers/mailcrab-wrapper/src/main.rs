//! `mailcrab-wrapper ADDR [--tls]`: mailcrab's SMTP engine keeping every message in memory, as
//! the mailcrab application does, for `cargo xtask bench`.
//!
//! Plain SMTP, or with `--tls` implicit TLS with AUTH (the only TLS mode the crate's public
//! `mail_server` offers; it then requires AUTH and accepts any credentials). It reads `cert.pem`
//! and `key.pem` from the working directory, or generates them there. Stops on SIGTERM or SIGINT.

use std::net::SocketAddr;

use mailcrab::MailMessage;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let addr: Option<SocketAddr> = args.next().and_then(|a| a.parse().ok());
    let tls = args.next().as_deref() == Some("--tls");
    let Some(addr) = addr else {
        eprintln!("usage: mailcrab-wrapper 127.0.0.1:PORT [--tls]");
        return std::process::ExitCode::from(2);
    };
    // The application uses a broadcast channel too; a large one so a burst is not dropped.
    let (tx, mut rx) = broadcast::channel::<MailMessage>(65_536);
    let token = CancellationToken::new();
    let server = tokio::spawn(mailcrab::mail_server(
        addr.ip(),
        addr.port(),
        tx,
        tls,
        token.clone(),
    ));
    let keeper = tokio::spawn(async move {
        let mut kept = Vec::new();
        let mut lost = 0u64;
        loop {
            match rx.recv().await {
                Ok(message) => kept.push(message),
                Err(broadcast::error::RecvError::Lagged(n)) => lost += n,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
        (kept.len(), lost)
    });
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(err) => {
            eprintln!("mailcrab-wrapper: cannot watch SIGTERM: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    token.cancel();
    let _ = server.await;
    keeper.abort();
    std::process::ExitCode::SUCCESS
}
