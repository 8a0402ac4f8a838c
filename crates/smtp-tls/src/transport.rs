//! The connection's byte stream: plain TCP, or TLS over TCP.
//!
//! [`Transport`] is what the session driver reads from and writes to. It holds no buffer of
//! its own and no lock: the plaintext side is the bare `TcpStream`, the TLS side rustls's
//! `StreamOwned`, read and written through its connection and socket so that the records
//! rustls queues by itself (the TLS 1.3 session ticket after implicit TLS, a KeyUpdate answer,
//! `close_notify`) leave in the same write as a reply instead of one each. Both handshake
//! paths finish the handshake before returning, within one total deadline, by re-arming the
//! socket timeouts with the time left before every read and write; a client that trickles
//! bytes cannot stretch it. The caller says which timeouts the socket has ([`SocketTimeouts`]),
//! so a handshake that keeps to its deadline under them asks and sets nothing.
//!
//! The socket is held through an `Arc`, so the caller can keep a handle on it (the server's
//! shutdown registry) without a second file descriptor.

use std::cell::Cell;
use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::server::Acceptor;
use rustls::{ProtocolVersion, ServerConnection, StreamOwned};

use crate::error::HandshakeError;
use crate::server_config::TlsConfig;

/// The content type of a TLS handshake record, the first byte a TLS client sends.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// A connection's stream, before or after TLS.
#[derive(Debug)]
pub enum Transport {
    /// Plain TCP: before STARTTLS, or with TLS off.
    Plain(Socket),
    /// TLS over TCP, with the handshake complete.
    Tls(Box<StreamOwned<ServerConnection, Socket>>),
}

/// A connection's TCP socket, shared with whoever else holds its `Arc` (closed when the last
/// holder lets go). Reads and writes go to the socket as they would through `&TcpStream`.
#[derive(Debug)]
pub struct Socket(Arc<TcpStream>);

impl std::ops::Deref for Socket {
    type Target = TcpStream;

    fn deref(&self) -> &TcpStream {
        &self.0
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.0).write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (&*self.0).write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self.0).flush()
    }
}

impl From<TcpStream> for Transport {
    fn from(tcp: TcpStream) -> Self {
        Self::Plain(Socket(Arc::new(tcp)))
    }
}

impl From<Arc<TcpStream>> for Transport {
    fn from(tcp: Arc<TcpStream>) -> Self {
        Self::Plain(Socket(tcp))
    }
}

/// A socket's read and write timeouts as its owner last set them (`None`: no timeout), so a
/// handshake need not ask the socket. The handshake sets a timeout only where the one in force
/// could overrun its deadline, and puts back what it set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketTimeouts {
    pub read: Option<Duration>,
    pub write: Option<Duration>,
}

impl SocketTimeouts {
    /// Asks the socket (two `getsockopt` calls), for a caller that does not keep track.
    ///
    /// # Errors
    /// The socket is unusable.
    pub fn of(tcp: &TcpStream) -> io::Result<Self> {
        Ok(Self {
            read: tcp.read_timeout()?,
            write: tcp.write_timeout()?,
        })
    }
}

impl Transport {
    /// Implicit TLS (SMTPS, RFC 8314): the handshake comes before any SMTP.
    ///
    /// Waits for the client's first byte; if it does not start a TLS handshake record, fails
    /// at once with [`HandshakeError::NotTls`] rather than waiting for more (a plaintext
    /// client waits for a banner that will never come). Otherwise completes the handshake.
    /// Both must happen within `timeout` in total (a blocked read may end up to a tenth of it,
    /// at most 100 ms, late). `in_force` are the socket's timeouts; any the handshake changes
    /// are restored afterwards. On error the caller drops the stream, which closes it.
    pub fn accept_implicit(
        tcp: impl Into<Arc<TcpStream>>,
        config: &TlsConfig,
        timeout: Duration,
        in_force: SocketTimeouts,
    ) -> Result<Self, HandshakeError> {
        let tcp = Socket(tcp.into());
        let deadline = Deadline::after(timeout, in_force);
        let first_byte = peek_first_byte(&tcp, &deadline)?;
        if first_byte != TLS_HANDSHAKE_RECORD {
            return Err(HandshakeError::NotTls { first_byte });
        }
        handshake(tcp, config, &deadline, Next::Server)
    }

    /// STARTTLS (RFC 3207): turns a plain connection into TLS, completing the handshake
    /// within `timeout`.
    ///
    /// Call it right after writing `220 2.0.0 Ready to start TLS`, having discarded every
    /// byte read but not yet processed: anything the client sent before its ClientHello must
    /// not be executed (the CVE-2011-0411 class). `in_force` are the socket's timeouts; any the
    /// handshake changes are restored afterwards. On error the connection is lost and the
    /// caller closes it.
    pub fn upgrade(
        self,
        config: &TlsConfig,
        timeout: Duration,
        in_force: SocketTimeouts,
    ) -> Result<Self, HandshakeError> {
        let tcp = match self {
            Self::Plain(tcp) => tcp,
            Self::Tls(_) => return Err(HandshakeError::AlreadyTls),
        };
        let deadline = Deadline::after(timeout, in_force);
        handshake(tcp, config, &deadline, Next::Client)
    }

    /// Whether the connection uses TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }

    /// The negotiated protocol and cipher suite, for the log and the `Received:` header;
    /// `None` on a plain connection.
    pub fn tls_info(&self) -> Option<TlsInfo> {
        let Self::Tls(stream) = self else { return None };
        let version = match stream.conn.protocol_version()? {
            ProtocolVersion::TLSv1_3 => "TLSv1.3",
            ProtocolVersion::TLSv1_2 => "TLSv1.2",
            _ => "unknown",
        };
        let suite = stream.conn.negotiated_cipher_suite()?.suite();
        let cipher = suite
            .as_str()
            .map_or_else(|| format!("{suite:?}"), str::to_owned);
        Some(TlsInfo { version, cipher })
    }

    /// The TCP socket underneath, to set timeouts or read the peer address. Reading or
    /// writing it directly would corrupt a TLS session.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(tcp) => tcp,
            Self::Tls(stream) => stream.get_ref(),
        }
    }

    /// Writes the connection's last bytes (a `221` or a `421`). Over TLS the `close_notify`
    /// alert goes in the same write, so [`Transport::shutdown`] afterwards only sends the FIN.
    pub fn write_last(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Self::Plain(tcp) => tcp.write_all(bytes),
            Self::Tls(stream) => {
                let mut rest = bytes;
                while !rest.is_empty() {
                    // rustls takes what fits in its send buffer (a reply always does); when
                    // it is full, what it holds is sent to make room.
                    let taken = stream.conn.writer().write(rest)?;
                    rest = &rest[taken..];
                    if !rest.is_empty() {
                        send_queued(stream)?;
                    }
                }
                stream.conn.send_close_notify();
                send_queued(stream)
            }
        }
    }

    /// Ends the connection politely: a TLS `close_notify` alert if TLS is up (and none went
    /// yet), then a TCP FIN. Dropping the transport afterwards releases the socket.
    pub fn shutdown(&mut self) -> io::Result<()> {
        self.close_notify()?;
        match self.tcp().shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        }
    }

    /// Sends the TLS `close_notify` alert if TLS is up and none went yet ([`Self::write_last`]
    /// sends one); nothing on a plain connection. The FIN follows when the socket closes, as
    /// its last holder drops it: one system call fewer than [`Self::shutdown`].
    pub fn close_notify(&mut self) -> io::Result<()> {
        if let Self::Tls(stream) = self {
            stream.conn.send_close_notify();
            send_queued(stream)?;
        }
        Ok(())
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.read(buf),
            Self::Tls(stream) => read_plaintext(stream, buf),
        }
    }
}

/// Writes plaintext as `StreamOwned::write` does, except that what rustls already had queued
/// (the session ticket held back for the banner, or a KeyUpdate answer held back by
/// `read_plaintext`) is not written on its own first: it leaves in the same write as the new
/// records, ahead of them.
fn write_plaintext(
    stream: &mut StreamOwned<ServerConnection, Socket>,
    write: impl FnOnce(&mut rustls::Writer<'_>) -> io::Result<usize>,
) -> io::Result<usize> {
    let taken = write(&mut stream.conn.writer())?;
    send_queued(stream)?;
    Ok(taken)
}

/// Writes every TLS record rustls has queued, in as few writes as the socket allows.
fn send_queued(stream: &mut StreamOwned<ServerConnection, Socket>) -> io::Result<()> {
    let StreamOwned { conn, sock } = stream;
    while conn.wants_write() {
        match conn.write_tls(sock) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Reads plaintext as `StreamOwned::read` does, except that it does not first write what
/// rustls has queued for the peer: the answer to a KeyUpdate, which the client does not wait
/// for, stays in order ahead of the next reply, which carries it out in one write. (The
/// session ticket never waits here: it leaves at the end of a STARTTLS handshake, or with the
/// banner, which is written before the first read.)
fn read_plaintext(
    stream: &mut StreamOwned<ServerConnection, Socket>,
    buf: &mut [u8],
) -> io::Result<usize> {
    let StreamOwned { conn, sock } = stream;
    loop {
        // Buffered plaintext, or `Ok(0)` after close_notify, or an unclean-close error once
        // the socket has reached its end; `WouldBlock` means a record has to be read.
        match conn.reader().read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            done => return done,
        }
        conn.read_tls(sock)?;
        if let Err(error) = conn.process_new_packets() {
            // rustls has queued an alert saying why: a last try to send it.
            let _best_effort = conn.write_tls(sock);
            return Err(io::Error::new(io::ErrorKind::InvalidData, error));
        }
    }
}

/// Each `write` of a TLS transport becomes at least one TLS record, so write a whole batch
/// of replies in one call; then `flush`, which is where a TLS transport reports a failed
/// send.
impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.write(buf),
            Self::Tls(stream) => write_plaintext(stream, |writer| writer.write(buf)),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.write_vectored(bufs),
            Self::Tls(stream) => write_plaintext(stream, |writer| writer.write_vectored(bufs)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(tcp) => tcp.flush(),
            Self::Tls(stream) => stream.flush(),
        }
    }
}

/// What a TLS session negotiated. Holds no secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1.2` or `TLSv1.3`.
    pub version: &'static str,
    /// The cipher suite, as rustls names it, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
}

/// As in a sendmail `Received:` header comment: `version=TLSv1.3 cipher=TLS13_...`.
impl fmt::Display for TlsInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "version={} cipher={}", self.version, self.cipher)
    }
}

/// Who speaks first once the handshake is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Implicit TLS: the server, with its banner.
    Server,
    /// STARTTLS: the client, with EHLO.
    Client,
}

/// Runs the server side of a handshake to completion. The TLS 1.3 session ticket goes at once
/// if the client speaks next, else with the server's first write.
fn handshake(
    mut tcp: Socket,
    config: &TlsConfig,
    deadline: &Deadline,
    next: Next,
) -> Result<Transport, HandshakeError> {
    let mut conn = accept_client_hello(&mut tcp, config, deadline)?;
    // The server speaks, then waits for the client, until the client's Finished arrives.
    while conn.is_handshaking() {
        send_pending(&mut conn, &mut tcp, deadline)?;
        receive(&mut conn, &mut tcp, deadline)?;
    }
    // TLS 1.2 ends with the server's Finished, which the client waits for. What TLS 1.3
    // queues now is only the session ticket. When the client speaks next (its EHLO after
    // STARTTLS), the ticket goes now: its packet carries the ACK of the client's Finished,
    // and a client with Nagle's algorithm on (smtplib, swaks, most clients on OpenSSL) holds
    // its EHLO until that ACK comes; held back for the first reply, the ACK waited for the
    // kernel's delayed-ACK timer, 40 ms a session. When the server speaks next (the banner
    // after implicit TLS), that write carries both, and the ticket goes with it.
    if conn.protocol_version() != Some(ProtocolVersion::TLSv1_3) || next == Next::Client {
        send_pending(&mut conn, &mut tcp, deadline)?;
    }
    deadline.restore(&tcp).map_err(HandshakeError::Io)?;
    Ok(Transport::Tls(Box::new(StreamOwned::new(conn, tcp))))
}

/// Reads the ClientHello and starts the server side with the configuration whose cipher
/// suite order suits that client ([`TlsConfig::for_client`]). rustls parses the hello once;
/// the connection it returns carries on from there.
fn accept_client_hello(
    tcp: &mut Socket,
    config: &TlsConfig,
    deadline: &Deadline,
) -> Result<ServerConnection, HandshakeError> {
    let mut acceptor = Acceptor::default();
    loop {
        deadline.arm_read(tcp)?;
        match acceptor.read_tls(tcp) {
            Ok(0) => return Err(HandshakeError::Closed),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(deadline.io(e)),
        }
        let accepted = match acceptor.accept() {
            Ok(None) => continue,
            Ok(Some(accepted)) => accepted,
            Err((error, alert)) => return Err(alert_and_fail(tcp, error, alert, deadline)),
        };
        let chosen = config.for_client(accepted.client_hello().cipher_suites());
        return accepted
            .into_connection(Arc::clone(chosen))
            .map_err(|(error, alert)| alert_and_fail(tcp, error, alert, deadline));
    }
}

/// Tells the peer why the handshake failed (rustls has made the alert), as far as the socket
/// takes it, and gives the error.
fn alert_and_fail(
    tcp: &mut Socket,
    error: rustls::Error,
    mut alert: rustls::server::AcceptedAlert,
    deadline: &Deadline,
) -> HandshakeError {
    if deadline.arm_write(tcp).is_ok() {
        let _best_effort = alert.write_all(tcp);
    }
    HandshakeError::Tls(error)
}

/// Writes everything rustls has queued for the peer.
fn send_pending(
    conn: &mut ServerConnection,
    tcp: &mut Socket,
    deadline: &Deadline,
) -> Result<(), HandshakeError> {
    while conn.wants_write() {
        deadline.arm_write(tcp)?;
        match conn.write_tls(tcp) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => return Err(deadline.io(e)),
            _ => {}
        }
    }
    Ok(())
}

/// Reads what the peer sent and processes it; on a protocol error, tells the peer why
/// (rustls has queued the alert) before failing.
fn receive(
    conn: &mut ServerConnection,
    tcp: &mut Socket,
    deadline: &Deadline,
) -> Result<(), HandshakeError> {
    deadline.arm_read(tcp)?;
    match conn.read_tls(tcp) {
        Ok(0) => return Err(HandshakeError::Closed),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
        Err(e) => return Err(deadline.io(e)),
    }
    match conn.process_new_packets() {
        Ok(_) => Ok(()),
        Err(error) => {
            let _best_effort = send_pending(conn, tcp, deadline);
            Err(HandshakeError::Tls(error))
        }
    }
}

/// Waits for the client's first byte without consuming it.
fn peek_first_byte(tcp: &TcpStream, deadline: &Deadline) -> Result<u8, HandshakeError> {
    let mut byte = [0; 1];
    loop {
        deadline.arm_read(tcp)?;
        match tcp.peek(&mut byte) {
            Ok(0) => return Err(HandshakeError::Closed),
            Ok(_) => return Ok(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(deadline.io(e)),
        }
    }
}

/// The moment a handshake must be complete by, and the socket timeouts set to keep it.
///
/// A timeout is set only when the one in force could overrun the deadline by more than
/// [`Deadline::slack`]: a handshake that takes a millisecond sets each at most once (setting
/// both before every read and write cost eight `setsockopt` calls per handshake), and none
/// when the socket's own are no longer than the handshake's timeout.
struct Deadline {
    at: Instant,
    timeout: Duration,
    /// The socket's timeouts when the handshake began, put back if changed.
    in_force: SocketTimeouts,
    /// The read and the write timeout in force now (`None`: none at all).
    read: Cell<Option<Duration>>,
    write: Cell<Option<Duration>>,
}

impl Deadline {
    fn after(timeout: Duration, in_force: SocketTimeouts) -> Self {
        Self {
            at: Instant::now() + timeout,
            timeout,
            in_force,
            read: Cell::new(in_force.read),
            write: Cell::new(in_force.write),
        }
    }

    /// Puts back the timeouts the handshake changed.
    fn restore(&self, tcp: &TcpStream) -> io::Result<()> {
        if self.read.get() != self.in_force.read {
            tcp.set_read_timeout(self.in_force.read)?;
        }
        if self.write.get() != self.in_force.write {
            tcp.set_write_timeout(self.in_force.write)?;
        }
        Ok(())
    }

    /// How far past the deadline a blocked call may end: a tenth of the timeout, at most
    /// 100 ms.
    fn slack(&self) -> Duration {
        (self.timeout / 10).min(Duration::from_millis(100))
    }

    /// Bounds the next read by the time left, or fails if none is.
    fn arm_read(&self, tcp: &TcpStream) -> Result<(), HandshakeError> {
        self.arm(&self.read, |left| tcp.set_read_timeout(Some(left)))
    }

    /// Bounds the next write by the time left, or fails if none is.
    fn arm_write(&self, tcp: &TcpStream) -> Result<(), HandshakeError> {
        self.arm(&self.write, |left| tcp.set_write_timeout(Some(left)))
    }

    fn arm(
        &self,
        armed: &Cell<Option<Duration>>,
        set: impl FnOnce(Duration) -> io::Result<()>,
    ) -> Result<(), HandshakeError> {
        let left = self.at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.expired());
        }
        if armed.get().is_none_or(|set| set > left + self.slack()) {
            set(left).map_err(HandshakeError::Io)?;
            armed.set(Some(left));
        }
        Ok(())
    }

    fn expired(&self) -> HandshakeError {
        HandshakeError::TimedOut {
            after: self.timeout,
        }
    }

    /// Classifies a socket error: a timeout, the peer going away, or something else.
    fn io(&self, error: io::Error) -> HandshakeError {
        use io::ErrorKind::*;
        match error.kind() {
            WouldBlock | TimedOut => self.expired(),
            UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe => {
                HandshakeError::Closed
            }
            _ => HandshakeError::Io(error),
        }
    }
}
