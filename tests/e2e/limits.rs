//! Limits over a real socket: an oversized message is read to its end and refused with 552 while
//! the connection stays usable; pipelined floods; the smuggling vectors store one message.

use mailsink_tests::{python, RawClient, TestServer};

#[test]
fn oversized_message_is_refused_and_the_connection_stays_in_step() {
    let server = TestServer::start(&["--max-message-size", "1"]);
    let script = r#"
import smtplib, sys
big = b"Subject: big\r\n\r\n" + (b"x" * 1000 + b"\r\n") * 3000
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    s.ehlo("c")
    print(s.esmtp_features["size"])
    s.mail("a@example.com")
    s.rcpt("b@example.com")
    print(s.data(big))
    print(s.noop())
    s.sendmail("a@example.com", ["b@example.com"], b"Subject: small\r\n\r\nok\r\n")
    print("small sent")
"#;
    let out = python(script, &[&server.port().to_string()]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1048576");
    assert_eq!(
        lines[1],
        "(552, b'5.3.4 Requested mail action aborted: exceeded storage allocation (1048576)')"
    );
    assert_eq!(lines[2], "(250, b'2.0.0 Ok')");
    assert_eq!(lines[3], "small sent");
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert!(String::from_utf8_lossy(messages[0].raw()).contains("Subject: small"));
}

#[test]
fn a_thousand_pipelined_commands_in_one_write() {
    let server = TestServer::start(&[]);
    let mut client = RawClient::connect(server.addr);
    assert!(client.line().starts_with("220 "));
    let mut burst = Vec::new();
    for _ in 0..1000 {
        burst.extend_from_slice(b"NOOP\r\n");
    }
    burst.extend_from_slice(b"QUIT\r\n");
    client.send(&burst);
    for i in 0..1000 {
        assert_eq!(client.line(), "250 2.0.0 Ok", "reply {i}");
    }
    assert!(client.line().starts_with("221 2.0.0"));
    assert!(client.closed());
}

#[test]
fn smuggling_vectors_end_to_end_store_one_message() {
    let server = TestServer::start(&[]);
    let mut client = RawClient::connect(server.addr);
    client.line();
    client.send(b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n");
    client.reply();
    for _ in 0..3 {
        client.line();
    }
    let vectors: &[&[u8]] = &[
        b"\n.\n", b"\n.\r\n", b"\r.\n", b"\r.\r", b"\r\n.\n", b"\n.\r",
    ];
    let mut data = b"Subject: smuggle\r\n\r\n".to_vec();
    for v in vectors {
        data.extend_from_slice(b"x");
        data.extend_from_slice(v);
        data.extend_from_slice(
            b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nsmuggled\r\n",
        );
    }
    data.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
    client.send(&data);
    let queued = client.line();
    assert!(queued.starts_with("250 2.0.0 Ok: queued as "), "{queued}");
    assert!(client.line().starts_with("221 "));
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "exactly one message, never two");
    assert_eq!(messages[0].envelope().rcpt_to, ["b@example.com"]);
    assert!(messages[0].raw().ends_with(b"smuggled\r\n\r\n"));
}
