//! The SMTP envelope of a message read back from disk, recovered from its headers.
//!
//! A Maildir file holds only the message, so after a restart the envelope comes from what
//! [`compose`](crate::compose::compose) wrote at delivery: `Return-Path:` is MAIL FROM, and the topmost
//! `Received:` names the HELO, the client's IP, the protocol (`ESMTPSA` means ESMTP over TLS with
//! AUTH, `UTF8` SMTPUTF8) and, for one recipient, `for <RCPT>`. With several recipients the
//! recipients are the To, Cc and Bcc addresses (compose lists every unlisted one in Bcc).
//!
//! Not recovered: the client's port (0) and the name the client authenticated as (`auth_user`
//! is `Some("")` when the protocol says AUTH was used). Messages written by other tools get
//! whatever their headers say, and defaults for the rest.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use mail_parser::{Host, Message, Protocol};

use crate::message::Envelope;

/// The envelope [`compose`](crate::compose::compose) recorded in the message's headers.
pub(super) fn recover(message: &Message<'_>) -> Envelope {
    let received = message.received_all().next();
    let protocol = received.and_then(|r| r.with);
    let (esmtp, tls, auth, smtputf8) = protocol.map_or((true, false, false, false), traits);
    let ip = received
        .and_then(|r| r.from_ip)
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let helo = received
        .and_then(|r| r.from.as_ref())
        .map(host)
        .unwrap_or_default();
    let rcpt_to = match received.and_then(|r| r.for_.as_deref()) {
        Some(only) => vec![only.trim_matches(['<', '>']).to_owned()],
        None => listed_recipients(message),
    };
    Envelope {
        remote_addr: SocketAddr::new(ip, 0),
        helo,
        esmtp,
        tls,
        auth_user: auth.then(String::new),
        mail_from: message
            .return_address()
            .unwrap_or_default()
            .trim()
            .trim_matches(['<', '>'])
            .to_owned(),
        rcpt_to,
        smtputf8,
    }
}

/// The envelope of bytes that are not a message: nothing known.
pub(super) fn unknown() -> Envelope {
    Envelope {
        remote_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        helo: String::new(),
        esmtp: false,
        tls: false,
        auth_user: None,
        mail_from: String::new(),
        rcpt_to: Vec::new(),
        smtputf8: false,
    }
}

/// (ESMTP, TLS, AUTH, SMTPUTF8) as the RFC 3848 / RFC 6531 protocol word tells them.
fn traits(protocol: Protocol) -> (bool, bool, bool, bool) {
    match protocol {
        Protocol::SMTP => (false, false, false, false),
        Protocol::ESMTPS => (true, true, false, false),
        Protocol::ESMTPA => (true, false, true, false),
        Protocol::ESMTPSA => (true, true, true, false),
        Protocol::UTF8SMTP => (true, false, false, true),
        Protocol::UTF8SMTPS => (true, true, false, true),
        Protocol::UTF8SMTPA => (true, false, true, true),
        Protocol::UTF8SMTPSA => (true, true, true, true),
        _ => (true, false, false, false),
    }
}

fn host(host: &Host<'_>) -> String {
    match host {
        Host::Name(name) => name.to_string(),
        Host::IpAddr(ip) => ip.to_string(),
    }
}

/// The To, Cc and Bcc addresses, first spelling kept, duplicates (ignoring case) dropped.
fn listed_recipients(message: &Message<'_>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    [message.to(), message.cc(), message.bcc()]
        .into_iter()
        .flatten()
        .flat_map(|list| list.iter())
        .filter_map(|addr| addr.address())
        .filter(|address| seen.insert(address.to_lowercase()))
        .map(str::to_owned)
        .collect()
}
