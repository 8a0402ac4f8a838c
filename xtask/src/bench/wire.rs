//! One client SMTP connection for the load client: plain or TLS (rustls, ring), replies read
//! through a small buffer that is empty whenever STARTTLS swaps the stream.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::{ClientConfig, ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;

/// Every read and write gives up after this long: a stuck server fails the run, not hangs it.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(buf),
            Self::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.flush(),
            Self::Tls(s) => s.flush(),
        }
    }
}

/// A connection to an SMTP server.
#[derive(Debug)]
pub(crate) struct Wire {
    stream: Option<Stream>,
    buf: Vec<u8>,
}

impl Wire {
    /// Connects over TCP, timeouts set. Nagle's algorithm stays on, as in `smtplib`, swaks,
    /// OpenSSL clients and Postfix's `smtp-source`: a server that leaves the client's last
    /// packet unacknowledged while it waits for more (the TLS Finished before EHLO) costs
    /// such clients the peer's delayed ACK, and the bench should show it.
    pub(crate) fn connect(addr: SocketAddr) -> io::Result<Self> {
        let tcp = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        tcp.set_read_timeout(Some(IO_TIMEOUT))?;
        tcp.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(Self {
            stream: Some(Stream::Plain(tcp)),
            buf: Vec::with_capacity(512),
        })
    }

    /// Runs a TLS handshake on the plain stream (implicit TLS, or after `220` to STARTTLS).
    pub(crate) fn start_tls(&mut self, config: &Arc<ClientConfig>) -> io::Result<()> {
        if !self.buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "server sent data before the TLS handshake",
            ));
        }
        let Some(Stream::Plain(tcp)) = self.stream.take() else {
            return Err(io::Error::other("TLS is already on"));
        };
        let name = ServerName::try_from("localhost").map_err(io::Error::other)?;
        let conn = ClientConnection::new(Arc::clone(config), name).map_err(io::Error::other)?;
        let mut tls = StreamOwned::new(conn, tcp);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock)?;
        }
        self.stream = Some(Stream::Tls(Box::new(tls)));
        Ok(())
    }

    /// Sends bytes as they are.
    pub(crate) fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let stream = self.stream.as_mut().ok_or_else(closed)?;
        stream.write_all(bytes)?;
        stream.flush()
    }

    /// Sends a command line and reads its reply code.
    pub(crate) fn command(&mut self, line: &str) -> io::Result<u16> {
        self.send(line.as_bytes())?;
        self.reply()
    }

    /// Reads one whole reply (every continuation line) and returns its code.
    pub(crate) fn reply(&mut self) -> io::Result<u16> {
        loop {
            if let Some((code, used)) = parse_reply(&self.buf) {
                self.buf.drain(..used);
                return Ok(code);
            }
            let mut chunk = [0u8; 4096];
            let stream = self.stream.as_mut().ok_or_else(closed)?;
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed the connection",
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
            if self.buf.len() > 64 * 1024 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "reply too long"));
            }
        }
    }

    /// Ends the connection, with a TLS close_notify when TLS is on.
    pub(crate) fn close(mut self) {
        if let Some(Stream::Tls(mut tls)) = self.stream.take() {
            tls.conn.send_close_notify();
            let _ = tls.conn.complete_io(&mut tls.sock);
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "connection closed")
}

/// A complete reply at the start of `buf`: its code and its length in bytes. A reply ends with
/// the line whose fourth byte is a space (or that has only the code).
pub(crate) fn parse_reply(buf: &[u8]) -> Option<(u16, usize)> {
    let mut start = 0;
    while let Some(offset) = buf[start..].windows(2).position(|w| w == b"\r\n") {
        let line = &buf[start..start + offset];
        start += offset + 2;
        if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
            // Not SMTP: report it as code 0 so the caller fails the session.
            return Some((0, start));
        }
        if line.len() == 3 || line[3] == b' ' {
            let code = line[..3]
                .iter()
                .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
            return Some((code, start));
        }
    }
    None
}
