//! Builds the MIME message of `POST /api/v1/send`, shaped like the one Mailpit's builder
//! (enmime) writes:
//!
//! ```text
//! multipart/mixed                      only with attachments
//! └─ multipart/related                 only with inline parts (a Content-ID)
//!    └─ multipart/alternative          only with both a text and an HTML body
//!       ├─ text/plain                  quoted-printable, UTF-8
//!       └─ text/html
//! ```
//!
//! Every header value that came from the request is kept on one line (line breaks become
//! spaces), and non-ASCII text is written as RFC 2047 encoded words, so no request can add a
//! header or break the structure. No `Bcc:` is written: the store adds one for recipients named
//! in no header, as for SMTP.

use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// A name and an address, as given in the request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mailbox {
    pub name: String,
    pub email: String,
}

/// A file to attach; with a Content-ID it is an inline part of a `multipart/related`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FilePart {
    pub content: Vec<u8>,
    pub file_name: String,
    pub content_type: String,
    pub content_id: String,
}

/// Everything the message is built from, already validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outgoing {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Extra header fields, in order (names already checked to be tokens).
    pub headers: Vec<(String, String)>,
    pub files: Vec<FilePart>,
}

/// Base64 and quoted-printable lines stop at this many characters (RFC 2045).
const LINE: usize = 76;

impl Outgoing {
    /// The message bytes, CRLF line endings. `boundary` makes the multipart boundaries unique.
    pub(crate) fn build(&self, date: SystemTime, boundary: &str) -> Vec<u8> {
        let mut out = String::new();
        self.write_headers(&mut out, date);
        out.push_str("MIME-Version: 1.0\r\n");
        self.write_body(&mut out, boundary);
        out.into_bytes()
    }

    fn write_headers(&self, out: &mut String, date: SystemTime) {
        header(out, "Date", &crate::time::rfc5322(date));
        header(out, "From", &mailbox(&self.from));
        for (name, list) in [
            ("To", &self.to),
            ("Cc", &self.cc),
            ("Reply-To", &self.reply_to),
        ] {
            if !list.is_empty() {
                let joined: Vec<String> = list.iter().map(mailbox).collect();
                header(out, name, &joined.join(",\r\n "));
            }
        }
        header(out, "Subject", &encode_words(&self.subject));
        for (name, value) in &self.headers {
            header(out, name, &encode_words(value));
        }
    }

    fn write_body(&self, out: &mut String, boundary: &str) {
        let (inline, attached): (Vec<&FilePart>, Vec<&FilePart>) =
            self.files.iter().partition(|f| !f.content_id.is_empty());
        if attached.is_empty() {
            return self.write_related(out, &inline, boundary);
        }
        let mixed = format!("mixed-{boundary}");
        out.push_str(&format!(
            "Content-Type: multipart/mixed;\r\n boundary=\"{mixed}\"\r\n\r\n"
        ));
        out.push_str(&format!("--{mixed}\r\n"));
        self.write_related(out, &inline, boundary);
        for file in attached {
            out.push_str(&format!("\r\n--{mixed}\r\n"));
            write_file(out, file, "attachment");
        }
        out.push_str(&format!("\r\n--{mixed}--\r\n"));
    }

    fn write_related(&self, out: &mut String, inline: &[&FilePart], boundary: &str) {
        if inline.is_empty() {
            return self.write_alternative(out, boundary);
        }
        let related = format!("related-{boundary}");
        out.push_str(&format!(
            "Content-Type: multipart/related;\r\n boundary=\"{related}\"\r\n\r\n"
        ));
        out.push_str(&format!("--{related}\r\n"));
        self.write_alternative(out, boundary);
        for file in inline {
            out.push_str(&format!("\r\n--{related}\r\n"));
            write_file(out, file, "inline");
        }
        out.push_str(&format!("\r\n--{related}--\r\n"));
    }

    fn write_alternative(&self, out: &mut String, boundary: &str) {
        if self.html.is_empty() {
            return write_text(out, "text/plain", &self.text);
        }
        if self.text.is_empty() {
            return write_text(out, "text/html", &self.html);
        }
        let alternative = format!("alternative-{boundary}");
        out.push_str(&format!(
            "Content-Type: multipart/alternative;\r\n boundary=\"{alternative}\"\r\n\r\n"
        ));
        out.push_str(&format!("--{alternative}\r\n"));
        write_text(out, "text/plain", &self.text);
        out.push_str(&format!("\r\n--{alternative}\r\n"));
        write_text(out, "text/html", &self.html);
        out.push_str(&format!("\r\n--{alternative}--\r\n"));
    }
}

fn header(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push_str("\r\n");
}

fn write_text(out: &mut String, content_type: &str, text: &str) {
    out.push_str(&format!(
        "Content-Type: {content_type}; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    ));
    out.push_str(&quoted_printable(text));
}

fn write_file(out: &mut String, file: &FilePart, disposition: &str) {
    let name = parameter("name", &file.file_name);
    out.push_str(&format!(
        "Content-Type: {};{name}\r\n",
        one_line(&file.content_type)
    ));
    if !file.content_id.is_empty() {
        out.push_str(&format!("Content-ID: <{}>\r\n", one_line(&file.content_id)));
    }
    out.push_str(&format!(
        "Content-Disposition: {disposition};{}\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        parameter("filename", &file.file_name)
    ));
    let encoded = STANDARD.encode(&file.content);
    for line in encoded.as_bytes().chunks(LINE) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push_str("\r\n");
    }
}

/// ` name="value"` for ASCII values, RFC 2231 ` name*=UTF-8''%XX` otherwise; empty for none.
fn parameter(name: &str, value: &str) -> String {
    let value = one_line(value);
    if value.is_empty() {
        return String::new();
    }
    if value.is_ascii() {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        return format!("\r\n {name}=\"{escaped}\"");
    }
    let encoded: String = value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("\r\n {name}*=UTF-8''{encoded}")
}

/// `Name <address>`, the name quoted or encoded as needed; the bare address without a name.
fn mailbox(mailbox: &Mailbox) -> String {
    let email = one_line(&mailbox.email);
    let name = one_line(&mailbox.name);
    if name.is_empty() {
        return format!("<{email}>");
    }
    let name = if !name.is_ascii() {
        encode_words(&name)
    } else if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " !#$%&'*+-/=?^_`{|}~".contains(c))
    {
        name
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    };
    format!("{name} <{email}>")
}

/// Line breaks and other control characters become spaces: a value stays on its line.
pub(crate) fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// ASCII text as it is; other text as RFC 2047 `B` encoded words, folded between words.
fn encode_words(text: &str) -> String {
    let text = one_line(text);
    if text.is_ascii() {
        return text;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        // 39 bytes of UTF-8 make 52 characters of base64: with `Subject: ` and the word's
        // 12 characters of framing, every line stays within 78.
        if chunk.len() + c.len_utf8() > 39 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    let encoded: Vec<String> = words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", STANDARD.encode(w)))
        .collect();
    encoded.join("\r\n ")
}

/// Quoted-printable (RFC 2045 section 6.7) with CRLF line endings and soft breaks.
pub(crate) fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let normalized = normalized.strip_suffix('\n').unwrap_or(&normalized);
    for line in normalized.split('\n') {
        let mut width = 0;
        let bytes = line.as_bytes();
        for (i, &byte) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let literal = (byte.is_ascii_graphic() && byte != b'=')
                || ((byte == b' ' || byte == b'\t') && !last);
            let piece = if literal {
                char::from(byte).to_string()
            } else {
                format!("={byte:02X}")
            };
            if width + piece.len() > LINE - 1 {
                out.push_str("=\r\n");
                width = 0;
            }
            width += piece.len();
            out.push_str(&piece);
        }
        out.push_str("\r\n");
    }
    out
}

/// What Go's `http.DetectContentType` would call these bytes, for the common cases.
pub(crate) fn sniff(content: &[u8]) -> &'static str {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"\x1f\x8b\x08", "application/x-gzip"),
    ];
    if let Some((_, mime)) = SIGNATURES.iter().find(|(sig, _)| content.starts_with(sig)) {
        return mime;
    }
    if content.len() >= 12 && content.starts_with(b"RIFF") && &content[8..12] == b"WEBP" {
        return "image/webp";
    }
    let text = std::str::from_utf8(content).is_ok_and(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c' | '\x1b'))
    });
    if text {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    }
}
