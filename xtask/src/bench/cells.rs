//! The cells: what load, against which servers. The first contestant of a cell is the one the
//! others are compared with (mailsink, except in the calibration cell); with `--baseline`, the
//! earlier build comes second, started exactly as the first.

use super::client::Security;
use super::options::Options;
use super::servers::{Kind, ServerSpec};

/// 1 KiB and 100 KiB message bodies.
pub(crate) const KIB_1: usize = 1024;
pub(crate) const KIB_100: usize = 100 * 1024;

/// Who sends the load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Driver {
    /// Postfix `smtp-source`, plain SMTP.
    Source,
    /// The load client in `client.rs`.
    Client {
        security: Security,
        auth: bool,
        resume: bool,
        expect_refusal: bool,
    },
}

impl Driver {
    pub(crate) fn client(security: Security) -> Self {
        Self::Client {
            security,
            auth: false,
            resume: false,
            expect_refusal: false,
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Source => "smtp-source",
            Self::Client { .. } => "xtask client",
        }
    }
}

/// One server with one load driver.
#[derive(Debug, Clone)]
pub(crate) struct Contestant {
    pub label: String,
    pub server: ServerSpec,
    pub driver: Driver,
}

/// One measured situation.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub name: &'static str,
    pub title: String,
    pub size: usize,
    pub concurrency: usize,
    pub messages: u64,
    /// Messages per connection: 1, or all of them (spread over the connections).
    pub reuse: bool,
    pub contestants: Vec<Contestant>,
    /// References the cell has but `--peers` left out.
    pub left_out: Vec<Kind>,
}

impl Cell {
    fn new(
        name: &'static str,
        title: &str,
        size: usize,
        concurrency: usize,
        messages: u64,
    ) -> Self {
        Self {
            name,
            title: title.to_owned(),
            size,
            concurrency,
            messages,
            reuse: false,
            contestants: Vec::new(),
            left_out: Vec::new(),
        }
    }

    fn reuse(mut self) -> Self {
        self.reuse = true;
        self
    }

    fn with(mut self, label: &str, server: ServerSpec, driver: Driver) -> Self {
        self.contestants.push(Contestant {
            label: label.to_owned(),
            server,
            driver,
        });
        self
    }

    /// The shape's floor ([`super::floor`]), last: what a server of mailsink's shape costs
    /// when it does nothing but answer (and, over TLS, the handshake mailsink does).
    fn floor(self, security: Security, driver: &Driver) -> Self {
        let kind = Kind::Floor;
        self.with(
            kind.name(),
            ServerSpec::new(kind).security(security),
            driver.clone(),
        )
    }

    /// Leaves out the references `--peers` does not name and, with `--baseline`, puts the
    /// baseline second: a twin of the first row when that row is mailsink's, with the same
    /// arguments and load. mailsink's other rows (plain against TLS, memory against `--maildir`,
    /// ...) compare mailsink with itself and get no twin.
    fn pick(&mut self, options: &Options) {
        for contestant in &self.contestants {
            let kind = contestant.server.kind;
            if !options.runs(kind) && !self.left_out.contains(&kind) {
                self.left_out.push(kind);
            }
        }
        self.contestants.retain(|c| options.runs(c.server.kind));
        let first = self.contestants.first();
        let Some(first) = first.filter(|c| c.server.kind == Kind::Mailsink) else {
            return;
        };
        if options.runs(Kind::Baseline) {
            let twin = Contestant {
                label: first.label.replacen("mailsink", Kind::Baseline.name(), 1),
                server: ServerSpec {
                    kind: Kind::Baseline,
                    ..first.server.clone()
                },
                driver: first.driver.clone(),
            };
            self.contestants.insert(1, twin);
        }
    }

    /// mailsink and every reference that speaks `security`, all driven by `driver`.
    fn everyone(mut self, security: Security, driver: &Driver) -> Self {
        for kind in [
            Kind::Mailsink,
            Kind::SmtpSink,
            Kind::Mailcrab,
            Kind::Mailtutan,
            Kind::Aiosmtpd,
        ] {
            if kind.supports(security) {
                self = self.with(
                    kind.name(),
                    ServerSpec::new(kind).security(security),
                    driver.clone(),
                );
            }
        }
        self
    }
}

/// Every cell, in the order they run, with counts scaled for `--quick`.
pub(crate) fn all(options: &Options) -> Vec<Cell> {
    let n = |full| options.count(full);
    let source = Driver::Source;
    let plain = Driver::client(Security::Plain);
    let starttls = Driver::client(Security::StartTls);
    let implicit = Driver::client(Security::Implicit);
    let mailsink = || ServerSpec::new(Kind::Mailsink);
    let mut cells = vec![Cell::new(
        "calibrate",
        "calibration: smtp-source and the xtask client against smtp-sink, plain 1 KiB, c=10",
        KIB_1,
        10,
        n(5000),
    )
    .with(
        "smtp-sink ← smtp-source",
        ServerSpec::new(Kind::SmtpSink),
        source.clone(),
    )
    .with(
        "smtp-sink ← xtask client",
        ServerSpec::new(Kind::SmtpSink),
        plain.clone(),
    )];
    for (name, c, count) in [
        ("plain-1k-c1", 1, 3000),
        ("plain-1k-c10", 10, 5000),
        ("plain-1k-c100", 100, 5000),
    ] {
        let title = format!("plain, 1 KiB, c={c}, a connection per message");
        cells.push(
            Cell::new(name, &title, KIB_1, c, n(count))
                .everyone(Security::Plain, &source)
                .floor(Security::Plain, &source),
        );
    }
    for (name, c) in [
        ("plain-100k-c1", 1),
        ("plain-100k-c10", 10),
        ("plain-100k-c100", 100),
    ] {
        let title = format!("plain, 100 KiB, c={c}, a connection per message");
        cells.push(Cell::new(name, &title, KIB_100, c, n(1000)).everyone(Security::Plain, &source));
    }
    cells.push(
        Cell::new(
            "reuse-1k-c10",
            "plain, 1 KiB, c=10, every message on 10 reused connections",
            KIB_1,
            10,
            n(20_000),
        )
        .reuse()
        .everyone(Security::Plain, &source)
        .floor(Security::Plain, &source),
    );
    cells.push(
        Cell::new(
            "reuse-100k-c10",
            "plain, 100 KiB, c=10, every message on 10 reused connections",
            KIB_100,
            10,
            n(2000),
        )
        .reuse()
        .everyone(Security::Plain, &source),
    );
    for (name, c, count) in [("starttls-1k-c1", 1, 1000), ("starttls-1k-c10", 10, 3000)] {
        let title = format!("STARTTLS, 1 KiB, c={c}, a full handshake per message");
        cells.push(
            Cell::new(name, &title, KIB_1, c, n(count))
                .with(
                    "mailsink",
                    mailsink().security(Security::StartTls),
                    starttls.clone(),
                )
                .with("mailsink plain", mailsink(), plain.clone())
                .with(
                    "mailtutan",
                    ServerSpec::new(Kind::Mailtutan).security(Security::StartTls),
                    starttls.clone(),
                )
                .with(
                    "aiosmtpd",
                    ServerSpec::new(Kind::Aiosmtpd).security(Security::StartTls),
                    starttls.clone(),
                )
                .floor(Security::StartTls, &starttls),
        );
    }
    let auth = Driver::Client {
        security: Security::Implicit,
        auth: true,
        resume: false,
        expect_refusal: false,
    };
    cells.push(
        Cell::new(
            "tls-1k-c10",
            "implicit TLS, 1 KiB, c=10, a full handshake per message",
            KIB_1,
            10,
            n(3000),
        )
        .with(
            "mailsink",
            mailsink().security(Security::Implicit),
            implicit.clone(),
        )
        .with("mailsink plain", mailsink(), plain.clone())
        .with(
            "mailcrab (+AUTH)",
            ServerSpec::new(Kind::Mailcrab).security(Security::Implicit),
            auth,
        )
        .with(
            "aiosmtpd",
            ServerSpec::new(Kind::Aiosmtpd).security(Security::Implicit),
            implicit.clone(),
        )
        .floor(Security::Implicit, &implicit),
    );
    let resumed = Driver::Client {
        security: Security::StartTls,
        auth: false,
        resume: true,
        expect_refusal: false,
    };
    cells.push(
        Cell::new(
            "resume-1k-c10",
            "STARTTLS, 1 KiB, c=10, TLS sessions resumed",
            KIB_1,
            10,
            n(3000),
        )
        .with(
            "mailsink",
            mailsink().security(Security::StartTls),
            resumed.clone(),
        )
        .with(
            "mailsink full handshake",
            mailsink().security(Security::StartTls),
            starttls.clone(),
        )
        .with(
            "mailtutan",
            ServerSpec::new(Kind::Mailtutan).security(Security::StartTls),
            resumed.clone(),
        )
        .with(
            "aiosmtpd",
            ServerSpec::new(Kind::Aiosmtpd).security(Security::StartTls),
            resumed,
        ),
    );
    let with_auth = Driver::Client {
        security: Security::StartTls,
        auth: true,
        resume: false,
        expect_refusal: false,
    };
    cells.push(
        Cell::new(
            "auth-1k-c10",
            "STARTTLS + AUTH PLAIN (bcrypt cost 10 user), 1 KiB, c=10",
            KIB_1,
            10,
            n(3000),
        )
        .with(
            "mailsink AUTH",
            mailsink().security(Security::StartTls).auth(),
            with_auth,
        )
        .with(
            "mailsink no AUTH",
            mailsink().security(Security::StartTls),
            starttls,
        ),
    );
    cells.push(
        Cell::new(
            "maildir-1k-c10",
            "`--maildir`, plain, 1 KiB, c=10, a connection per message",
            KIB_1,
            10,
            n(3000),
        )
        .with("mailsink --maildir", mailsink().maildir(), source.clone())
        .with("mailsink memory", mailsink(), source.clone())
        .with(
            "mailtutan maildir",
            ServerSpec::new(Kind::Mailtutan).maildir(),
            source.clone(),
        ),
    );
    let mut memory = Cell::new("memory-2000x100k", "peak RSS receiving 2000 × 100 KiB, c=10 (mailsink: default --max 500; the others keep all)", KIB_100, 10, n(2000));
    memory = memory.everyone(Security::Plain, &source);
    memory.contestants[0].server = mailsink().max(None);
    cells.push(memory);
    let refusal = Driver::Client {
        security: Security::Plain,
        auth: false,
        resume: false,
        expect_refusal: true,
    };
    cells.push(
        Cell::new(
            "oversize",
            "4 connections each sending a 20 MiB message over `--max-message-size 1`",
            20 * 1024 * 1024,
            4,
            4,
        )
        .with("mailsink", mailsink().max_message_mib(1), refusal),
    );
    cells.retain(|cell| options.selects(cell.name));
    for cell in &mut cells {
        cell.pick(options);
    }
    // The calibration cell has only smtp-sink, and goes when `--peers` leaves it out.
    cells.retain(|cell| !cell.contestants.is_empty());
    cells
}

/// Names of the cells that are not load cells (run by `run.rs` directly).
pub(crate) const SPECIAL: &[&str] = &[
    "startup",
    "binary",
    "api-10k",
    "api-100k",
    "maildir-restart",
];
