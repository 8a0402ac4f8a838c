//! The benchmark's own SMTP load client: blocking threads, one connection each at a time,
//! commands sent one by one and every reply awaited (as `smtp-source` does), over plain TCP,
//! STARTTLS or implicit TLS, optionally with AUTH PLAIN.
//!
//! The certificate is not checked against a trust store (every server here uses a throwaway
//! self-signed one), but the handshake signature is verified as a real client would, so the
//! client does the same cryptographic work.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::crypto::{ring, WebPkiSupportedAlgorithms};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::error::BenchError;
use super::wire::Wire;

/// How the client secures its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Security {
    Plain,
    StartTls,
    Implicit,
}

/// What one run of the load client sends.
#[derive(Debug, Clone)]
pub(crate) struct ClientLoad {
    pub addr: SocketAddr,
    pub security: Security,
    /// AUTH PLAIN with these (user, password) after TLS.
    pub auth: Option<(String, String)>,
    /// Let TLS sessions resume (tickets or IDs) instead of a full handshake each.
    pub resume: bool,
    /// The message as sent after `354`, dot-stuffed and ending with `.\r\n`.
    pub message: Arc<[u8]>,
    pub concurrency: usize,
    pub messages: u64,
    /// Messages per connection (1: a connection per message).
    pub per_connection: u64,
    /// The run stops here, whatever is left.
    pub time_limit: Duration,
    /// The server is expected to refuse the message (the over-size cell): a 5xx after the data
    /// counts as done, not as a failure.
    pub expect_refusal: bool,
}

/// What one run of the load client achieved.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientOutcome {
    pub delivered: u64,
    pub failed: u64,
    pub elapsed: Duration,
    /// Connect to QUIT reply, one entry per connection that completed.
    pub sessions: Vec<Duration>,
    pub first_error: Option<String>,
    pub timed_out: bool,
}

/// Sends the load and waits for every thread.
pub(crate) fn run(load: &ClientLoad) -> Result<ClientOutcome, BenchError> {
    let config = tls_config(load.resume)?;
    let remaining = Arc::new(AtomicU64::new(load.messages));
    let shared = Arc::new(Mutex::new(ClientOutcome::default()));
    let start = Instant::now();
    let deadline = start + load.time_limit;
    let mut threads = Vec::with_capacity(load.concurrency);
    for i in 0..load.concurrency {
        let (load, config) = (load.clone(), Arc::clone(&config));
        let (remaining, shared) = (Arc::clone(&remaining), Arc::clone(&shared));
        let handle = thread::Builder::new()
            .name(format!("bench-client-{i}"))
            .spawn(move || worker(&load, &config, &remaining, &shared, deadline))
            .map_err(|e| BenchError::Load(format!("cannot start a client thread: {e}")))?;
        threads.push(handle);
    }
    for handle in threads {
        handle
            .join()
            .map_err(|_| BenchError::Load("a client thread panicked".to_owned()))?;
    }
    let mut outcome = std::mem::take(&mut *shared.lock().unwrap_or_else(PoisonError::into_inner));
    outcome.elapsed = start.elapsed();
    outcome.timed_out = Instant::now() >= deadline && remaining.load(Ordering::Relaxed) > 0;
    Ok(outcome)
}

/// `xtask bench-load ADDR plain|starttls|implicit MESSAGES CONCURRENCY`: the bench's load (1 KiB
/// messages, a connection each, full handshakes) against a server already running, for side
/// measurements of the server's CPU (`perf stat -p`) with the client the cells use.
pub(crate) fn main(args: &[String]) -> Result<(), String> {
    let usage = || "usage: xtask bench-load ADDR plain|starttls|implicit MESSAGES CONCURRENCY";
    let [addr, security, messages, concurrency] = args else {
        return Err(usage().to_owned());
    };
    let security = match security.as_str() {
        "plain" => Security::Plain,
        "starttls" => Security::StartTls,
        "implicit" => Security::Implicit,
        _ => return Err(usage().to_owned()),
    };
    let load = ClientLoad {
        addr: addr.parse().map_err(|_| usage().to_owned())?,
        security,
        auth: None,
        resume: false,
        message: message(1024, "bench"),
        concurrency: concurrency.parse().map_err(|_| usage().to_owned())?,
        messages: messages.parse().map_err(|_| usage().to_owned())?,
        per_connection: 1,
        time_limit: Duration::from_secs(600),
        expect_refusal: false,
    };
    let outcome = run(&load).map_err(|err| err.to_string())?;
    println!(
        "{} delivered, {} failed in {:.3} s",
        outcome.delivered,
        outcome.failed,
        outcome.elapsed.as_secs_f64()
    );
    match outcome.first_error {
        Some(err) if outcome.failed > 0 => Err(err),
        _ => Ok(()),
    }
}

/// One session start to finish, for a readiness probe: banner, EHLO (TLS as asked), QUIT.
pub(crate) fn probe(
    addr: SocketAddr,
    security: Security,
    config: &Arc<ClientConfig>,
) -> std::io::Result<()> {
    let mut wire = Wire::connect(addr)?;
    let session = open(&mut wire, security, None, config)?;
    expect(session, 250, "EHLO")?;
    let _ = wire.command("QUIT\r\n");
    wire.close();
    Ok(())
}

fn worker(
    load: &ClientLoad,
    config: &Arc<ClientConfig>,
    remaining: &AtomicU64,
    shared: &Mutex<ClientOutcome>,
    deadline: Instant,
) {
    let mut consecutive_failures = 0;
    while Instant::now() < deadline && consecutive_failures < 20 {
        let batch = take(remaining, load.per_connection);
        if batch == 0 {
            return;
        }
        let started = Instant::now();
        let result = session(load, config, batch, deadline);
        let mut outcome = shared.lock().unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok(sent) => {
                consecutive_failures = 0;
                outcome.delivered += sent;
                outcome.sessions.push(started.elapsed());
            }
            Err((sent, error)) => {
                consecutive_failures += 1;
                outcome.delivered += sent;
                outcome.failed += batch - sent;
                outcome.first_error.get_or_insert(error);
            }
        }
    }
}

/// Claims up to `n` of the remaining messages.
fn take(remaining: &AtomicU64, n: u64) -> u64 {
    let mut current = remaining.load(Ordering::Relaxed);
    loop {
        let claim = current.min(n);
        if claim == 0 {
            return 0;
        }
        match remaining.compare_exchange_weak(
            current,
            current - claim,
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => return claim,
            Err(now) => current = now,
        }
    }
}

/// One connection carrying `batch` messages: how many were accepted, or how many before the
/// error and the error.
fn session(
    load: &ClientLoad,
    config: &Arc<ClientConfig>,
    batch: u64,
    deadline: Instant,
) -> Result<u64, (u64, String)> {
    let mut sent = 0;
    let fail = |sent: u64, e: std::io::Error| (sent, e.to_string());
    let mut wire = Wire::connect(load.addr).map_err(|e| fail(0, e))?;
    let code =
        open(&mut wire, load.security, load.auth.as_ref(), config).map_err(|e| fail(0, e))?;
    expect(
        code,
        if load.auth.is_some() { 235 } else { 250 },
        "EHLO/AUTH",
    )
    .map_err(|e| fail(0, e))?;
    while sent < batch && Instant::now() < deadline {
        transaction(&mut wire, load).map_err(|e| fail(sent, e))?;
        sent += 1;
    }
    let _ = wire.command("QUIT\r\n");
    wire.close();
    if sent < batch {
        return Err((sent, "time limit reached".to_owned()));
    }
    Ok(sent)
}

/// Banner, EHLO, STARTTLS and EHLO again when asked, AUTH when asked: the last reply's code.
fn open(
    wire: &mut Wire,
    security: Security,
    auth: Option<&(String, String)>,
    config: &Arc<ClientConfig>,
) -> std::io::Result<u16> {
    if security == Security::Implicit {
        wire.start_tls(config)?;
    }
    expect(wire.reply()?, 220, "banner")?;
    let mut code = wire.command("EHLO bench.example\r\n")?;
    if security == Security::StartTls {
        expect(code, 250, "EHLO")?;
        expect(wire.command("STARTTLS\r\n")?, 220, "STARTTLS")?;
        wire.start_tls(config)?;
        code = wire.command("EHLO bench.example\r\n")?;
    }
    if let Some((user, password)) = auth {
        expect(code, 250, "EHLO")?;
        let token = base64(format!("\0{user}\0{password}").as_bytes());
        code = wire.command(&format!("AUTH PLAIN {token}\r\n"))?;
    }
    Ok(code)
}

fn transaction(wire: &mut Wire, load: &ClientLoad) -> std::io::Result<()> {
    expect(
        wire.command("MAIL FROM:<from@bench.example>\r\n")?,
        250,
        "MAIL",
    )?;
    expect(wire.command("RCPT TO:<to@bench.example>\r\n")?, 250, "RCPT")?;
    expect(wire.command("DATA\r\n")?, 354, "DATA")?;
    wire.send(&load.message)?;
    let code = wire.reply()?;
    if load.expect_refusal && (500..600).contains(&code) {
        return Ok(());
    }
    expect(code, 250, "end of data").map(drop)
}

fn expect(code: u16, wanted: u16, step: &str) -> std::io::Result<u16> {
    if code == wanted {
        Ok(code)
    } else {
        Err(std::io::Error::other(format!(
            "{step}: server answered {code}, expected {wanted}"
        )))
    }
}

/// A message of `size` body bytes (lines of 76 letters), with a few headers, dot-terminated.
/// The addresses have display names: mailtutan panics on a `From:` without one.
pub(crate) fn message(size: usize, subject: &str) -> Arc<[u8]> {
    let mut out = format!(
        "From: Bench Sender <from@bench.example>\r\nTo: Bench Recipient <to@bench.example>\r\n\
         Subject: {subject}\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\n"
    )
    .into_bytes();
    let line: Vec<u8> = (b'a'..=b'z').cycle().take(76).chain(*b"\r\n").collect();
    let mut left = size;
    while left > 0 {
        let take = left.min(line.len());
        out.extend_from_slice(&line[..take]);
        left -= take;
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out.into()
}

/// The same message as a file for `smtp-source -F`: LF line ends (it sends each line with
/// CRLF and adds the terminator itself).
pub(crate) fn message_file(size: usize, subject: &str) -> Vec<u8> {
    let wire = message(size, subject);
    let text = wire.strip_suffix(b".\r\n").unwrap_or(&wire);
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(b"\r\n") {
            out.push(b'\n');
            i += 2;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

/// Standard base64 with padding (AUTH PLAIN's encoding).
pub(crate) fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The client configuration: ring, TLS 1.2 and 1.3, resumption only when asked.
pub(crate) fn tls_config(resume: bool) -> Result<Arc<ClientConfig>, BenchError> {
    let provider = Arc::new(ring::default_provider());
    let verifier = Arc::new(AnyCertificate(provider.signature_verification_algorithms));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BenchError::Load(format!("TLS client configuration: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    if !resume {
        config.resumption = Resumption::disabled();
    }
    Ok(Arc::new(config))
}

/// Accepts any certificate, but checks that the handshake was signed by its key.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
