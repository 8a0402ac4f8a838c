//! The shape's floor: the least work an SMTP server of mailsink's shape can do per message.
//!
//! The brief fixes mailsink's shape: blocking `std::net` sockets, an acceptor thread handing
//! each connection over a bounded crossbeam channel to a pool of threads started on demand, a
//! thread per connection, and a crossbeam channel feeding the single storage thread. This
//! server has that shape and nothing else: every command line gets a canned reply chosen by its
//! first four letters, message data is skipped up to the `.` line, and each message's end is
//! handed to a storage thread as its size (the least a hand-over can carry), which drops it;
//! nothing is parsed, checked, logged or kept. It is not a mail server; it is the measurement of
//! what the shape itself costs on this machine (context switches, wake-ups, system calls), which
//! no protocol or storage work can get under. The bench runs it beside mailsink in the plain
//! 1 KiB cells as `xtask bench-floor ADDR` ([`super::servers`]); it is not counted as a peer.
//!
//! In the STARTTLS and implicit TLS cells it runs as `xtask bench-floor ADDR --starttls CERT
//! KEY` (or `--implicit`) and adds the TLS work mailsink does for the bench's client and no
//! more: rustls with `ring` and mailsink's key-exchange groups (`smtp_tls::kx_groups`: X25519
//! by `graviola` where the CPU runs it), AES-128-GCM chosen (as mailsink chooses it for a
//! client that prefers AES-GCM), one TLS 1.3 session ticket sent when a STARTTLS handshake ends
//! or with the banner after implicit TLS, `close_notify` not sent.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{CipherSuite, ServerConfig, ServerConnection, StreamOwned};

/// Connections waiting for a thread, as mailsink's default queue.
const QUEUE: usize = 64;
/// Messages waiting for the storage thread, as mailsink's store queue.
const STORE_QUEUE: usize = 256;
/// Threads at most, as mailsink's default `--smtp-max-connections`.
const MAX_THREADS: usize = 256;
/// Read buffer; a longer line than this is dropped (the bench's lines are short).
const BUFFER: usize = 16 * 1024;
const BANNER: &[u8] = b"220 floor ESMTP\r\n";

/// Whether and how the floor speaks TLS.
#[derive(Clone)]
pub(crate) enum Mode {
    Plain,
    /// TLS after `STARTTLS`.
    StartTls(Arc<ServerConfig>),
    /// TLS from the first byte.
    Implicit(Arc<ServerConfig>),
}

/// `xtask bench-floor ADDR [--starttls|--implicit CERT KEY]`: serves on ADDR until killed.
pub(crate) fn main(args: &[String]) -> Result<(), String> {
    let usage = || "usage: xtask bench-floor ADDR [--starttls|--implicit CERT KEY]".to_owned();
    let (addr, mode) = match args {
        [addr] => (addr, Mode::Plain),
        [addr, mode, cert, key] => {
            let config = tls_config(cert, key)?;
            match mode.as_str() {
                "--starttls" => (addr, Mode::StartTls(config)),
                "--implicit" => (addr, Mode::Implicit(config)),
                _ => return Err(usage()),
            }
        }
        _ => return Err(usage()),
    };
    let listener = TcpListener::bind(addr).map_err(|err| format!("bind {addr}: {err}"))?;
    serve_forever(&listener, &mode)
}

/// The server configuration: one certificate, AES-128-GCM first, one ticket.
pub(crate) fn tls_config(cert: &str, key: &str) -> Result<Arc<ServerConfig>, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|err| format!("{cert}: {err}"))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|err| format!("{key}: {err}"))?;
    let mut provider = rustls::crypto::ring::default_provider();
    provider.kx_groups = smtp_tls::kx_groups();
    provider
        .cipher_suites
        .sort_by_key(|suite| suite.suite() != CipherSuite::TLS13_AES_128_GCM_SHA256);
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|err| err.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|err| err.to_string())?;
    config.ignore_client_order = true;
    config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(|err| err.to_string())?;
    config.send_tls13_tickets = 1;
    Ok(Arc::new(config))
}

/// Accepts and hands over connections until the listener fails for good.
pub(crate) fn serve_forever(listener: &TcpListener, mode: &Mode) -> Result<(), String> {
    let (store, stored) = crossbeam_channel::bounded::<usize>(STORE_QUEUE);
    thread::Builder::new()
        .name("floor-store".to_owned())
        .spawn(move || stored.iter().for_each(drop))
        .map_err(|err| format!("spawn the storage thread: {err}"))?;
    let (jobs, queue) = crossbeam_channel::bounded::<TcpStream>(QUEUE);
    let idle = Arc::new(AtomicUsize::new(0));
    let mut threads = 0;
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if idle.load(Ordering::Acquire) == 0 && threads < MAX_THREADS {
            let (queue, idle, mode) = (queue.clone(), Arc::clone(&idle), mode.clone());
            let store = store.clone();
            thread::Builder::new()
                .name("floor-worker".to_owned())
                .spawn(move || work(&queue, &idle, &mode, &store))
                .map_err(|err| format!("spawn a worker: {err}"))?;
            threads += 1;
        }
        jobs.send(stream)
            .map_err(|_| "every worker is gone".to_owned())?;
    }
    Ok(())
}

/// Where a worker hands each message's end: the storage thread's queue.
type Store = crossbeam_channel::Sender<usize>;

fn work(
    queue: &crossbeam_channel::Receiver<TcpStream>,
    idle: &AtomicUsize,
    mode: &Mode,
    store: &Store,
) {
    loop {
        idle.fetch_add(1, Ordering::AcqRel);
        let Ok(stream) = queue.recv() else { return };
        idle.fetch_sub(1, Ordering::AcqRel);
        let _ = serve(stream, mode, store);
    }
}

/// One connection: banner, then the session, over TLS where asked.
fn serve(mut tcp: TcpStream, mode: &Mode, store: &Store) -> io::Result<()> {
    tcp.set_nodelay(true)?;
    match mode {
        Mode::Plain => {
            tcp.write_all(BANNER)?;
            session(&mut tcp, false, store).map(drop)
        }
        Mode::StartTls(config) => {
            tcp.write_all(BANNER)?;
            if session(&mut tcp, true, store)? == Ended::StartTls {
                let mut conn = handshake(&mut tcp, config)?;
                // The ticket now: its packet acknowledges the client's Finished.
                send(&mut conn, &mut tcp)?;
                session(&mut StreamOwned::new(conn, tcp), false, store)?;
            }
            Ok(())
        }
        Mode::Implicit(config) => {
            let mut conn = handshake(&mut tcp, config)?;
            conn.writer().write_all(BANNER)?;
            send(&mut conn, &mut tcp)?;
            session(&mut StreamOwned::new(conn, tcp), false, store).map(drop)
        }
    }
}

/// The server side of a handshake, leaving the TLS 1.3 ticket queued.
fn handshake(tcp: &mut TcpStream, config: &Arc<ServerConfig>) -> io::Result<ServerConnection> {
    let mut conn = ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
    while conn.is_handshaking() {
        conn.complete_io(tcp)?;
    }
    Ok(conn)
}

/// Writes what rustls has queued.
fn send(conn: &mut ServerConnection, tcp: &mut TcpStream) -> io::Result<()> {
    while conn.wants_write() {
        conn.write_tls(tcp)?;
    }
    Ok(())
}

/// How a session ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// QUIT, or the client closed.
    Done,
    /// `STARTTLS` was answered with `220`; what the client sent after it is dropped.
    StartTls,
}

/// A canned reply to each line, all the replies to one read sent in one write.
fn session(stream: &mut (impl Read + Write), starttls: bool, store: &Store) -> io::Result<Ended> {
    let mut buf = vec![0u8; BUFFER];
    let mut held = 0;
    let mut in_data = false;
    let mut size = 0;
    let mut out = Vec::with_capacity(256);
    loop {
        let n = stream.read(&mut buf[held..])?;
        if n == 0 {
            return Ok(Ended::Done);
        }
        held += n;
        let mut start = 0;
        let mut ended = None;
        while let Some(end) = buf[start..held].iter().position(|&b| b == b'\n') {
            let line = &buf[start..=start + end];
            start += end + 1;
            if in_data {
                if line == b".\r\n" {
                    in_data = false;
                    store
                        .send(size)
                        .map_err(|_| io::Error::other("the storage thread is gone"))?;
                    out.extend_from_slice(b"250 2.0.0 queued\r\n");
                } else {
                    size += line.len();
                }
                continue;
            }
            match line.get(..4).map(<[u8]>::to_ascii_uppercase).as_deref() {
                Some(b"EHLO") if starttls => {
                    out.extend_from_slice(b"250-floor\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
                }
                Some(b"EHLO") => out.extend_from_slice(b"250-floor\r\n250 PIPELINING\r\n"),
                Some(b"DATA") => {
                    in_data = true;
                    size = 0;
                    out.extend_from_slice(b"354 go ahead\r\n");
                }
                Some(b"STAR") if starttls => {
                    out.extend_from_slice(b"220 2.0.0 go ahead\r\n");
                    ended = Some(Ended::StartTls);
                    break;
                }
                Some(b"QUIT") => {
                    out.extend_from_slice(b"221 2.0.0 bye\r\n");
                    ended = Some(Ended::Done);
                    break;
                }
                _ => out.extend_from_slice(b"250 2.0.0 ok\r\n"),
            }
        }
        buf.copy_within(start..held, 0);
        held -= start;
        if held == buf.len() {
            held = 0;
        }
        if !out.is_empty() {
            stream.write_all(&out)?;
            out.clear();
        }
        if let Some(ended) = ended {
            return Ok(ended);
        }
    }
}
