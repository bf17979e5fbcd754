//! A small, strict argument parser: `--flag value` pairs and boolean switches. Unknown flags, missing values and
//! unparsable numbers are errors that name the flag.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::{Error, Result};

/// Parsed `--key value` options and `--switch`es of one subcommand.
#[derive(Debug, Default)]
pub struct Args {
    values: BTreeMap<String, String>,
    switches: Vec<String>,
    used: std::cell::RefCell<Vec<String>>,
}

impl Args {
    /// Parses `argv` (without the subcommand). `switches` lists the flags that take no value.
    pub fn parse(argv: &[String], switches: &[&str]) -> Result<Args> {
        let mut args = Args::default();
        let mut it = argv.iter();
        while let Some(a) = it.next() {
            let Some(key) = a.strip_prefix("--") else {
                return Err(Error::param(a.clone(), "unexpected argument (options start with --)"));
            };
            let (key, inline) = match key.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (key.to_string(), None),
            };
            if switches.contains(&key.as_str()) {
                args.switches.push(key);
            } else {
                let v = match inline {
                    Some(v) => v,
                    None => it.next().cloned().ok_or_else(|| Error::param(&key, "needs a value"))?,
                };
                args.values.insert(key, v);
            }
        }
        Ok(args)
    }

    pub fn flag(&self, name: &str) -> bool {
        self.used.borrow_mut().push(name.into());
        self.switches.iter().any(|s| s == name)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.used.borrow_mut().push(name.into());
        self.values.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &str) -> Result<&str> {
        self.str(name).ok_or_else(|| Error::param(name, "is required"))
    }

    pub fn get<T: FromStr>(&self, name: &str) -> Result<Option<T>> {
        match self.str(name) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| Error::param(name, format!("cannot parse `{v}`"))),
        }
    }

    pub fn get_or<T: FromStr>(&self, name: &str, default: T) -> Result<T> {
        Ok(self.get(name)?.unwrap_or(default))
    }

    /// Errors on any option the command never looked at (a typo must not be silently ignored).
    pub fn finish(&self) -> Result<()> {
        let used = self.used.borrow();
        for k in self.values.keys().chain(self.switches.iter()) {
            if !used.contains(k) {
                return Err(Error::param(k.clone(), "unknown option for this command"));
            }
        }
        Ok(())
    }
}
