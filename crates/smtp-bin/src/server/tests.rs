//! Unit tests of the listener set-up.

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use super::inherited_options;
use crate::services::Timeouts;

/// The driver skips `set_nodelay` and both timeouts when the acceptor says the socket already
/// has them: were they not inherited, a silent client would hold a worker for ever.
#[test]
fn accepted_sockets_start_with_the_options_the_driver_needs() {
    for tls in [false, true] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let timeouts = Timeouts {
            command: Duration::from_secs(7),
            data: Duration::from_secs(3),
            handshake: Duration::from_secs(2),
            tls,
        };
        if !inherited_options(&listener, &timeouts) {
            // Not Linux: the driver sets them on each socket, so there is nothing to check.
            return;
        }
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert!(accepted.nodelay().unwrap());
        // Reads start with the shortest wait: the data timeout here, and the handshake's
        // where TLS is configured.
        let read = if tls {
            timeouts.handshake
        } else {
            timeouts.data
        };
        assert_eq!(accepted.read_timeout().unwrap(), Some(read), "tls: {tls}");
        assert_eq!(accepted.write_timeout().unwrap(), Some(timeouts.command));
    }
}
