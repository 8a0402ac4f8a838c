//! Reading each option from the command line first and from its `MP_*` variable second.
//!
//! [`Sources`] wraps pico-args and the environment lookup. Every read removes the flag from the
//! argument list, so whatever is left at [`Sources::finish`] is an unknown flag, a flag given twice
//! or a stray argument, and is refused. Environment values that are empty count as unset, as in
//! Mailpit (`MP_LABEL=` is no label), except booleans, where empty means off.

use std::convert::Infallible;
use std::ffi::OsString;

use super::error::{ConfigError, Origin};
use super::flags::{EnvOnly, Flag};

/// A value and where it came from, so an error can name the flag or the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Given {
    pub(crate) text: String,
    pub(crate) origin: Origin,
}

/// The command line and the environment, read option by option.
pub(crate) struct Sources<'a> {
    args: pico_args::Arguments,
    env: &'a dyn Fn(&str) -> Option<String>,
    /// The flags read so far: a leftover that names one of them was given twice.
    read: Vec<&'static Flag>,
}

impl<'a> Sources<'a> {
    pub(crate) fn new(args: Vec<OsString>, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            args: pico_args::Arguments::from_vec(args),
            env,
            read: Vec::new(),
        }
    }

    /// Takes the first positional argument when it is a subcommand name.
    pub(crate) fn subcommand(&mut self) -> Result<Option<String>, ConfigError> {
        self.args.subcommand().map_err(|_| ConfigError::NotUtf8)
    }

    /// Whether the command line holds `flag` (environment not consulted): for `--help` and friends.
    pub(crate) fn cli_switch(&mut self, flag: &'static Flag) -> bool {
        self.read.push(flag);
        let mut found = false;
        while self.take_switch(flag) {
            found = true;
        }
        found
    }

    /// An on/off switch: `--flag` or `--flag=BOOL` on the command line, else its variable.
    pub(crate) fn switch(&mut self, flag: &'static Flag) -> Result<bool, ConfigError> {
        let bare = self.cli_switch(flag);
        if let Some(text) = self.cli_value(flag)? {
            return parse_bool(&text).ok_or_else(|| bool_error(Origin::Flag(flag.long), text));
        }
        if bare {
            return Ok(true);
        }
        match flag
            .env
            .and_then(|name| (self.env)(name).map(|text| (name, text)))
        {
            Some((name, text)) => {
                parse_bool(&text).ok_or_else(|| bool_error(Origin::Env(name), text))
            }
            None => Ok(false),
        }
    }

    /// A flag's value, else its variable's value when that is not empty.
    pub(crate) fn value(&mut self, flag: &'static Flag) -> Result<Option<Given>, ConfigError> {
        if let Some(text) = self.cli_value(flag)? {
            return Ok(Some(Given {
                text,
                origin: Origin::Flag(flag.long),
            }));
        }
        Ok(flag.env.and_then(|name| self.env_value(name)))
    }

    /// A setting only the environment can give, when it is not empty.
    pub(crate) fn env_only(&self, var: &EnvOnly) -> Option<Given> {
        self.env_value(var.name)
    }

    /// The next positional argument; a flag there is refused as unknown.
    pub(crate) fn positional(&mut self) -> Result<Option<String>, ConfigError> {
        match self.args.opt_free_from_fn(verbatim) {
            Ok(Some(arg)) if arg.len() > 1 && arg.starts_with('-') => {
                Err(ConfigError::UnknownFlag(arg))
            }
            Ok(arg) => Ok(arg),
            Err(_) => Err(ConfigError::NotUtf8),
        }
    }

    /// Refuses whatever the reads above did not consume.
    pub(crate) fn finish(self) -> Result<(), ConfigError> {
        let Some(first) = self.args.finish().into_iter().next() else {
            return Ok(());
        };
        let arg = first.to_string_lossy().into_owned();
        if arg.len() < 2 || !arg.starts_with('-') {
            return Err(ConfigError::UnexpectedArgument(arg));
        }
        let name = arg.split_once('=').map_or(arg.as_str(), |(name, _)| name);
        match self
            .read
            .iter()
            .find(|flag| flag.long == name || flag.short == Some(name))
        {
            Some(flag) => Err(ConfigError::RepeatedFlag(flag.long)),
            None => Err(ConfigError::UnknownFlag(arg)),
        }
    }

    /// The flag's value on the command line; a second occurrence is an error.
    fn cli_value(&mut self, flag: &'static Flag) -> Result<Option<String>, ConfigError> {
        self.read.push(flag);
        let first = self.take_value(flag)?;
        if first.is_some() && self.take_value(flag)?.is_some() {
            return Err(ConfigError::RepeatedFlag(flag.long));
        }
        Ok(first)
    }

    fn take_switch(&mut self, flag: &Flag) -> bool {
        match flag.short {
            Some(short) => self.args.contains([short, flag.long]),
            None => self.args.contains(flag.long),
        }
    }

    fn take_value(&mut self, flag: &'static Flag) -> Result<Option<String>, ConfigError> {
        let taken = match flag.short {
            Some(short) => self.args.opt_value_from_fn([short, flag.long], verbatim),
            None => self.args.opt_value_from_fn(flag.long, verbatim),
        };
        taken.map_err(|error| match error {
            pico_args::Error::NonUtf8Argument => ConfigError::NotUtf8,
            _ => ConfigError::MissingValue(flag.long.to_owned()),
        })
    }

    fn env_value(&self, name: &'static str) -> Option<Given> {
        let text = (self.env)(name).filter(|text| !text.is_empty())?;
        Some(Given {
            text,
            origin: Origin::Env(name),
        })
    }
}

/// The value exactly as given.
fn verbatim(text: &str) -> Result<String, Infallible> {
    Ok(text.to_owned())
}

/// Mailpit's booleans (`1`, `true`, `yes`), their opposites, and empty as off; case-insensitive.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" | "" => Some(false),
        _ => None,
    }
}

fn bool_error(origin: Origin, value: String) -> ConfigError {
    ConfigError::InvalidValue {
        origin,
        value,
        expected: "1, true, yes, 0, false or no",
    }
}
