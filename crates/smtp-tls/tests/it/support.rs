//! Test support: temporary directories, certificates made on the spot (rcgen and the
//! `openssl` command), a rustls client, and a one-connection server thread.
//!
//! Every socket gets a timeout and every child process a deadline, so a broken build fails
//! its test instead of hanging the run.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rcgen::{CertificateParams, KeyPair, SignatureAlgorithm};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use rustls::{StreamOwned, SupportedProtocolVersion};
use smtp_tls::{HandshakeError, SocketTimeouts, TlsConfig, TlsInfo, Transport};

/// How long any test socket waits before the test fails.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("smtp-tls-it-{}-{n}", std::process::id()));
        fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes a file the way certificate managers do: to a temporary name, then renamed
    /// into place.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        let staging = self.path(&format!(".{name}.tmp"));
        fs::write(&staging, contents).unwrap();
        fs::rename(&staging, &path).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A certificate and its key, in PEM, with the certificate's DER.
pub struct Pair {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: CertificateDer<'static>,
}

impl Pair {
    /// Writes `cert.pem` and `key.pem` into `dir`; returns their paths.
    pub fn write_to(&self, dir: &TempDir) -> (PathBuf, PathBuf) {
        (
            dir.write("cert.pem", &self.cert_pem),
            dir.write("key.pem", &self.key_pem),
        )
    }
}

/// A self-signed certificate for `localhost` and `127.0.0.1` made with rcgen.
pub fn rcgen_pair(algorithm: &'static SignatureAlgorithm) -> Pair {
    let key = KeyPair::generate_for(algorithm).unwrap();
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let cert = CertificateParams::new(names)
        .unwrap()
        .self_signed(&key)
        .unwrap();
    Pair {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().clone(),
    }
}

/// Runs `openssl` with `args` in `dir`, failing the test if it fails.
pub fn openssl(dir: &TempDir, args: &[&str]) -> Output {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(&dir.0)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Generates a key with `openssl` (`keygen` writes `key.pem`) and a self-signed
/// certificate for it in `cert.pem`. Returns the paths and the certificate's DER.
pub fn openssl_pair(dir: &TempDir, keygen: &[&str]) -> (PathBuf, PathBuf, CertificateDer<'static>) {
    openssl(dir, keygen);
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
    );
    let der = openssl(dir, &["x509", "-in", "cert.pem", "-outform", "DER"]).stdout;
    (
        dir.path("cert.pem"),
        dir.path("key.pem"),
        CertificateDer::from(der),
    )
}

/// Runs a command with `stdin` as its input and a deadline, killing it if it overruns.
pub fn run_bounded(command: &mut Command, stdin: &[u8], deadline: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > deadline {
            child.kill().unwrap();
            panic!("{command:?} did not finish within {deadline:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A client that accepts any certificate (the tests check which one they got) but still
/// verifies the handshake signatures, so a server key that does not match its certificate
/// fails.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

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
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn client_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client for `versions` that accepts any certificate.
pub fn any_cert_client(versions: &[&'static SupportedProtocolVersion]) -> Arc<ClientConfig> {
    let provider = client_provider();
    let verifier = Arc::new(AnyCertificate(Arc::clone(&provider)));
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Arc::new(config)
}

/// A client that trusts exactly `anchor` and verifies names as browsers and MTAs do.
pub fn trusting_client(anchor: CertificateDer<'static>) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(anchor).unwrap();
    let config = ClientConfig::builder_with_provider(client_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

pub type Client = StreamOwned<ClientConnection, TcpStream>;

/// A TCP connection with the test timeouts.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let tcp = TcpStream::connect_timeout(&addr, IO_TIMEOUT).unwrap();
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    tcp
}

/// Runs a client handshake over `tcp` to completion.
pub fn client_handshake(
    tcp: TcpStream,
    config: Arc<ClientConfig>,
    name: &str,
) -> Result<Client, rustls::Error> {
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let mut conn = ClientConnection::new(config, name)?;
    let mut tcp = tcp;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            return Err(
                match e
                    .into_inner()
                    .map(|inner| inner.downcast::<rustls::Error>())
                {
                    Some(Ok(tls)) => *tls,
                    other => rustls::Error::General(format!("{other:?}")),
                },
            );
        }
    }
    Ok(StreamOwned::new(conn, tcp))
}

/// The certificate the server presented.
pub fn peer_leaf(client: &Client) -> CertificateDer<'static> {
    client.conn.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

/// Reads one line, ending in LF, a byte at a time (so nothing past it is consumed).
pub fn read_line(stream: &mut impl Read) -> String {
    let mut line = Vec::new();
    let mut byte = [0];
    while line.last() != Some(&b'\n') {
        match stream.read(&mut byte).unwrap() {
            0 => break,
            _ => line.push(byte[0]),
        }
    }
    String::from_utf8(line).unwrap()
}

/// A loopback listener on a free port.
pub fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// What the server side of one connection saw.
#[derive(Debug)]
pub struct Served {
    pub info: TlsInfo,
    pub line: String,
}

/// Accepts connections on `listener` and serves each with implicit TLS, taking the
/// configuration from `config` per connection: banner, then one line echoed back. Each
/// result arrives on the returned channel.
pub fn serve_implicit(
    listener: TcpListener,
    connections: usize,
    config: impl Fn() -> Arc<TlsConfig> + Send + 'static,
    timeout: Duration,
) -> (
    std::sync::mpsc::Receiver<Result<Served, HandshakeError>>,
    JoinHandle<()>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = thread::spawn(move || {
        for _ in 0..connections {
            let (tcp, _) = listener.accept().unwrap();
            let config = config();
            let tx = tx.clone();
            thread::spawn(move || {
                let _ = tx.send(
                    SocketTimeouts::of(&tcp)
                        .map_err(HandshakeError::Io)
                        .and_then(|in_force| {
                            Transport::accept_implicit(tcp, &config, timeout, in_force)
                        })
                        .map(|mut t| echo_one(&mut t)),
                );
            });
        }
    });
    (rx, handle)
}

/// Writes a banner, reads a line and echoes it; the server side of every happy path.
pub fn echo_one(transport: &mut Transport) -> Served {
    transport.tcp().set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    transport.write_all(b"220 ready\r\n").unwrap();
    transport.flush().unwrap();
    let line = read_line(transport);
    transport
        .write_all(format!("250 {line}").as_bytes())
        .unwrap();
    transport.flush().unwrap();
    let info = transport.tls_info().unwrap();
    Served { info, line }
}

/// The client side of [`echo_one`]: reads the banner, sends `line`, checks the echo.
pub fn talk(client: &mut Client, line: &str) {
    assert_eq!(read_line(client), "220 ready\r\n");
    client.write_all(line.as_bytes()).unwrap();
    client.flush().unwrap();
    assert_eq!(read_line(client), format!("250 {line}"));
}

/// Receives a server result, failing the test if none comes in time.
pub fn next<T>(rx: &std::sync::mpsc::Receiver<T>) -> T {
    rx.recv_timeout(IO_TIMEOUT * 2)
        .expect("the server thread sent no result in time")
}
