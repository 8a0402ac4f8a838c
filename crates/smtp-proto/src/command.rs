//! Command parsing: one framed line in, a typed [`Command`] or a [`ParseError`] out.
//!
//! Parsing is pure and borrows from the line. Each [`ParseError`] knows its reply, so the session
//! never invents error texts of its own for syntax problems.

use crate::address::{self, AddressError, Mailbox, ReversePath};
use crate::reply::{EnhancedStatus, Reply, ReplyCode};

/// The `BODY=` MAIL parameter (RFC 6152, RFC 3030).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyType {
    #[default]
    SevenBit,
    EightBitMime,
    BinaryMime,
}

/// ESMTP parameters of MAIL FROM that this server understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MailParams {
    /// `SIZE=` (RFC 1870), the client's estimate of the message size.
    pub size: Option<u64>,
    pub body: BodyType,
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
}

/// One SMTP command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    Ehlo(&'a str),
    Helo(&'a str),
    Mail {
        from: ReversePath,
        params: MailParams,
    },
    Rcpt {
        to: Mailbox,
    },
    Data,
    Bdat {
        size: u64,
        last: bool,
    },
    Rset,
    Noop,
    Quit,
    Help,
    Vrfy,
    Expn,
    StartTls,
    Auth {
        mechanism: &'a str,
        initial: Option<&'a str>,
    },
}

/// Why a command line did not parse; [`ParseError::reply`] is what the client gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    Unrecognized,
    MissingDomain,
    UnexpectedArgument,
    StartTlsArgument,
    InvalidFrom,
    InvalidTo,
    InvalidSize,
    InvalidBody,
    UnsupportedParameter,
    Utf8NotDeclared,
    InvalidBdat,
    MissingAuthMechanism,
    MissingVrfyArgument,
    NotUtf8,
}

const SYNTAX: EnhancedStatus = EnhancedStatus::new(5, 5, 4);

impl ParseError {
    pub fn reply(self) -> Reply {
        let param = |text: &'static str| Reply::new(ReplyCode::PARAM_SYNTAX, SYNTAX, text);
        match self {
            ParseError::Unrecognized => Reply::new(
                ReplyCode::SYNTAX_ERROR,
                EnhancedStatus::new(5, 5, 2),
                "Syntax error, command unrecognized",
            ),
            ParseError::MissingDomain => {
                param("Syntax error in parameters or arguments (domain required)")
            }
            ParseError::UnexpectedArgument => {
                param("Syntax error in parameters or arguments (no parameters allowed)")
            }
            ParseError::StartTlsArgument => Reply::new(
                ReplyCode::PARAM_SYNTAX,
                EnhancedStatus::new(5, 5, 2),
                "Syntax error (no parameters allowed)",
            ),
            ParseError::InvalidFrom => {
                param("Syntax error in parameters or arguments (invalid FROM parameter)")
            }
            ParseError::InvalidTo => {
                param("Syntax error in parameters or arguments (invalid TO parameter)")
            }
            ParseError::InvalidSize => {
                param("Syntax error in parameters or arguments (invalid SIZE parameter)")
            }
            ParseError::InvalidBody => {
                param("Syntax error in parameters or arguments (invalid BODY parameter)")
            }
            ParseError::UnsupportedParameter => Reply::new(
                ReplyCode::PARAMS_NOT_RECOGNIZED,
                SYNTAX,
                "Unsupported parameter",
            ),
            ParseError::Utf8NotDeclared => Reply::new(
                ReplyCode::MAILBOX_NAME_NOT_ALLOWED,
                EnhancedStatus::new(5, 6, 7),
                "Non-ASCII address requires SMTPUTF8",
            ),
            ParseError::InvalidBdat => {
                param("Syntax error in parameters or arguments (invalid BDAT size)")
            }
            ParseError::MissingAuthMechanism => param("Malformed AUTH input (argument required)"),
            ParseError::MissingVrfyArgument => {
                param("Syntax error in parameters or arguments (argument required)")
            }
            ParseError::NotUtf8 => param("Syntax error in parameters or arguments (invalid UTF-8)"),
        }
    }
}

/// Parses one command line (without its terminator).
pub fn parse(line: &[u8]) -> Result<Command<'_>, ParseError> {
    let line = trim_end(line);
    let (verb, args) = match line.iter().position(|&b| b == b' ') {
        Some(sp) => (&line[..sp], &line[sp + 1..]),
        None => (line, &[][..]),
    };
    let verb = Verb::from_bytes(verb).ok_or(ParseError::Unrecognized)?;
    let args = std::str::from_utf8(args)
        .map_err(|_| ParseError::NotUtf8)?
        .trim_start();
    match verb {
        Verb::Ehlo => domain_arg(args).map(Command::Ehlo),
        Verb::Helo => domain_arg(args).map(Command::Helo),
        Verb::Mail => parse_mail(args),
        Verb::Rcpt => parse_rcpt(args),
        Verb::Data => no_args(args, Command::Data),
        Verb::Bdat => parse_bdat(args),
        Verb::Rset => no_args(args, Command::Rset),
        Verb::Noop => Ok(Command::Noop),
        Verb::Quit => no_args(args, Command::Quit),
        Verb::Help => Ok(Command::Help),
        Verb::Vrfy if args.is_empty() => Err(ParseError::MissingVrfyArgument),
        Verb::Vrfy => Ok(Command::Vrfy),
        Verb::Expn => Ok(Command::Expn),
        Verb::StartTls if !args.is_empty() => Err(ParseError::StartTlsArgument),
        Verb::StartTls => Ok(Command::StartTls),
        Verb::Auth => parse_auth(args),
    }
}

#[derive(Debug, Clone, Copy)]
enum Verb {
    Ehlo,
    Helo,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Quit,
    Help,
    Vrfy,
    Expn,
    StartTls,
    Auth,
}

impl Verb {
    fn from_bytes(verb: &[u8]) -> Option<Verb> {
        const VERBS: [(&[u8], Verb); 14] = [
            (b"EHLO", Verb::Ehlo),
            (b"HELO", Verb::Helo),
            (b"MAIL", Verb::Mail),
            (b"RCPT", Verb::Rcpt),
            (b"DATA", Verb::Data),
            (b"BDAT", Verb::Bdat),
            (b"RSET", Verb::Rset),
            (b"NOOP", Verb::Noop),
            (b"QUIT", Verb::Quit),
            (b"HELP", Verb::Help),
            (b"VRFY", Verb::Vrfy),
            (b"EXPN", Verb::Expn),
            (b"STARTTLS", Verb::StartTls),
            (b"AUTH", Verb::Auth),
        ];
        VERBS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(verb))
            .map(|&(_, v)| v)
    }
}

fn trim_end(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    &line[..end]
}

fn no_args(args: &str, command: Command<'static>) -> Result<Command<'static>, ParseError> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(ParseError::UnexpectedArgument)
    }
}

/// EHLO/HELO take the client's name. Clients send all sorts (FQDNs, address literals, bare host
/// names with underscores), so anything non-empty without spaces is taken as given.
fn domain_arg(args: &str) -> Result<&str, ParseError> {
    match args.split(' ').next() {
        Some(name) if !name.is_empty() => Ok(name),
        _ => Err(ParseError::MissingDomain),
    }
}

/// Strips a case-insensitive `FROM:`/`TO:` keyword and optional spaces before the path.
fn keyword<'a>(args: &'a str, kw: &str) -> Option<&'a str> {
    let head = args.get(..kw.len())?;
    head.eq_ignore_ascii_case(kw)
        .then(|| args[kw.len()..].trim_start())
}

fn parse_mail(args: &str) -> Result<Command<'_>, ParseError> {
    let path = keyword(args, "FROM:").ok_or(ParseError::InvalidFrom)?;
    let (mailbox, rest) =
        address::parse_path(path, true, true).map_err(|_| ParseError::InvalidFrom)?;
    let mut params = MailParams::default();
    for param in rest.split(' ').filter(|p| !p.is_empty()) {
        let (key, value) = match param.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (param, None),
        };
        match (key.to_ascii_uppercase().as_str(), value) {
            ("SIZE", Some(v)) => {
                params.size = Some(parse_number(v).ok_or(ParseError::InvalidSize)?)
            }
            ("SIZE", None) => return Err(ParseError::InvalidSize),
            ("BODY", Some(v)) => params.body = parse_body(v)?,
            ("SMTPUTF8", None) => params.smtputf8 = true,
            // RFC 4954 section 5: accepted and ignored (we do not relay).
            ("AUTH", Some(_)) => {}
            _ => return Err(ParseError::UnsupportedParameter),
        }
    }
    let from = match mailbox {
        None => ReversePath::Null,
        Some(m) if m.is_utf8() && !params.smtputf8 => return Err(ParseError::Utf8NotDeclared),
        Some(m) => ReversePath::Mailbox(m),
    };
    Ok(Command::Mail { from, params })
}

fn parse_rcpt(args: &str) -> Result<Command<'_>, ParseError> {
    let path = keyword(args, "TO:").ok_or(ParseError::InvalidTo)?;
    let (to, rest) = match path.get(..12) {
        Some(p) if p.eq_ignore_ascii_case("<postmaster>") => {
            (Mailbox::postmaster(&path[1..11]), &path[12..])
        }
        _ => match address::parse_path(path, false, true) {
            Ok((Some(m), rest)) => (m, rest),
            Ok((None, _))
            | Err(AddressError::Syntax | AddressError::TooLong | AddressError::Utf8NotDeclared) => {
                return Err(ParseError::InvalidTo)
            }
        },
    };
    if !rest.trim().is_empty() {
        return Err(ParseError::UnsupportedParameter);
    }
    Ok(Command::Rcpt { to })
}

fn parse_body(value: &str) -> Result<BodyType, ParseError> {
    match value.to_ascii_uppercase().as_str() {
        "7BIT" => Ok(BodyType::SevenBit),
        "8BITMIME" => Ok(BodyType::EightBitMime),
        "BINARYMIME" => Ok(BodyType::BinaryMime),
        _ => Err(ParseError::InvalidBody),
    }
}

/// Digits only, at most 20 of them, no sign.
fn parse_number(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_bdat(args: &str) -> Result<Command<'_>, ParseError> {
    let mut parts = args.split(' ').filter(|p| !p.is_empty());
    let size = parts
        .next()
        .and_then(parse_number)
        .ok_or(ParseError::InvalidBdat)?;
    let last = match parts.next() {
        None => false,
        Some(word) if word.eq_ignore_ascii_case("LAST") => true,
        Some(_) => return Err(ParseError::InvalidBdat),
    };
    if parts.next().is_some() {
        return Err(ParseError::InvalidBdat);
    }
    Ok(Command::Bdat { size, last })
}

fn parse_auth(args: &str) -> Result<Command<'_>, ParseError> {
    let mut parts = args.split(' ').filter(|p| !p.is_empty());
    let mechanism = parts.next().ok_or(ParseError::MissingAuthMechanism)?;
    let initial = parts.next();
    if parts.next().is_some() {
        return Err(ParseError::UnexpectedArgument);
    }
    Ok(Command::Auth { mechanism, initial })
}
