//! Environment names with parameters (`hex:size=5`, `addition:digits=1-6`), parsed into
//! [`AnyEnv`], and the registry that `ponder envs` prints.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::{code, connect4, game24, hex, math, tictactoe, Env, EnvError};

/// One parameter of an environment, for `ponder envs` and error messages.
#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// One environment in the registry.
#[derive(Debug, Clone, Copy)]
pub struct EnvInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamInfo],
}

/// Every environment, in the order `ponder envs` lists them.
pub const REGISTRY: &[EnvInfo] = &[
    tictactoe::INFO,
    connect4::INFO,
    hex::INFO,
    math::ADDITION_INFO,
    math::MULTIPLICATION_INFO,
    game24::INFO,
    code::INFO,
];

/// Every environment behind one type. Code that is generic over [`Env`] is reached through
/// [`with_env!`](crate::with_env).
#[derive(Debug, Clone)]
pub enum AnyEnv {
    TicTacToe(tictactoe::TicTacToe),
    Connect4(connect4::Connect4),
    Hex(hex::Hex),
    Arith(math::Arith),
    Game24(game24::Game24),
    Code(code::Code),
}

/// Runs a block with the concrete environment inside an [`AnyEnv`] bound to a name:
/// `with_env!(any, env => run(env))`. The block is compiled once per environment type.
#[macro_export]
macro_rules! with_env {
    ($any:expr, $env:ident => $body:expr) => {
        match $any {
            $crate::AnyEnv::TicTacToe($env) => $body,
            $crate::AnyEnv::Connect4($env) => $body,
            $crate::AnyEnv::Hex($env) => $body,
            $crate::AnyEnv::Arith($env) => $body,
            $crate::AnyEnv::Game24($env) => $body,
            $crate::AnyEnv::Code($env) => $body,
        }
    };
}

impl AnyEnv {
    /// The canonical name with every parameter.
    pub fn spec(&self) -> String {
        with_env!(self, e => e.spec())
    }
    /// Game or task.
    pub fn kind(&self) -> crate::Kind {
        with_env!(self, e => e.kind())
    }
}

impl fmt::Display for AnyEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec())
    }
}

impl FromStr for AnyEnv {
    type Err = EnvError;

    /// Parses `name` or `name:key=value,key=value`. Unknown names and parameters, and values out
    /// of range, are errors that list what is accepted.
    fn from_str(text: &str) -> Result<Self, EnvError> {
        let text = text.trim();
        let (name, rest) = text.split_once(':').unwrap_or((text, ""));
        let info = REGISTRY.iter().find(|i| i.name == name).ok_or_else(|| {
            let names: Vec<_> = REGISTRY.iter().map(|i| i.name).collect();
            EnvError::BadSpec(format!("unknown environment {name:?}; known: {}", names.join(", ")))
        })?;
        let mut p = Params::parse(info, rest)?;
        let env = match name {
            "tictactoe" => AnyEnv::TicTacToe(tictactoe::TicTacToe::from_params(&mut p)?),
            "connect4" => AnyEnv::Connect4(connect4::Connect4::from_params(&mut p)?),
            "hex" => AnyEnv::Hex(hex::Hex::from_params(&mut p)?),
            "addition" => AnyEnv::Arith(math::Arith::from_params(math::Op::Add, &mut p)?),
            "multiplication" => AnyEnv::Arith(math::Arith::from_params(math::Op::Mul, &mut p)?),
            "game24" => AnyEnv::Game24(game24::Game24::from_params(&mut p)?),
            "code" => AnyEnv::Code(code::Code::from_params(&mut p)?),
            _ => unreachable!("every registry name has a constructor"),
        };
        p.finish()?;
        Ok(env)
    }
}

/// Parameters of one environment spec, consumed by its `from_params`; whatever is left over is
/// an error naming the key.
#[derive(Debug)]
pub struct Params {
    env: &'static EnvInfo,
    values: BTreeMap<String, String>,
}

impl Params {
    fn parse(env: &'static EnvInfo, text: &str) -> Result<Self, EnvError> {
        let mut values = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| {
                EnvError::BadSpec(format!("{}: parameter {part:?} should be key=value", env.name))
            })?;
            let k = k.trim();
            if !env.params.iter().any(|p| p.name == k) {
                return Err(EnvError::BadSpec(format!(
                    "{}: unknown parameter {k:?}; {}",
                    env.name,
                    Self::accepted(env)
                )));
            }
            if values.insert(k.to_string(), v.trim().to_string()).is_some() {
                return Err(EnvError::BadSpec(format!("{}: parameter {k:?} given twice", env.name)));
            }
        }
        Ok(Params { env, values })
    }

    fn accepted(env: &EnvInfo) -> String {
        if env.params.is_empty() {
            "it takes no parameters".into()
        } else {
            let names: Vec<_> = env.params.iter().map(|p| p.name).collect();
            format!("accepted: {}", names.join(", "))
        }
    }

    /// The raw value of `key`, or its registry default.
    pub fn raw(&mut self, key: &str) -> String {
        self.values.remove(key).unwrap_or_else(|| {
            self.env.params.iter().find(|p| p.name == key).map(|p| p.default.to_string()).unwrap_or_default()
        })
    }

    /// An integer parameter within `lo..=hi`.
    pub fn int(&mut self, key: &str, lo: u64, hi: u64) -> Result<u64, EnvError> {
        let raw = self.raw(key);
        let v: u64 = raw.parse().map_err(|_| self.err(key, &raw, &format!("an integer in {lo}..={hi}")))?;
        if !(lo..=hi).contains(&v) {
            return Err(self.err(key, &raw, &format!("an integer in {lo}..={hi}")));
        }
        Ok(v)
    }

    /// A range parameter `a-b` (or a single `a`) within `lo..=hi`, with `a <= b`.
    pub fn range(&mut self, key: &str, lo: u64, hi: u64) -> Result<(u64, u64), EnvError> {
        let raw = self.raw(key);
        let want = format!("a range a-b with {lo} <= a <= b <= {hi}");
        let (a, b) = raw.split_once('-').unwrap_or((&raw, &raw));
        let a: u64 = a.trim().parse().map_err(|_| self.err(key, &raw, &want))?;
        let b: u64 = b.trim().parse().map_err(|_| self.err(key, &raw, &want))?;
        if a < lo || b > hi || a > b {
            return Err(self.err(key, &raw, &want));
        }
        Ok((a, b))
    }

    /// One of a fixed set of words.
    pub fn choice(&mut self, key: &str, options: &[&str]) -> Result<String, EnvError> {
        let raw = self.raw(key);
        if options.contains(&raw.as_str()) {
            Ok(raw)
        } else {
            Err(self.err(key, &raw, &format!("one of {}", options.join(", "))))
        }
    }

    fn err(&self, key: &str, raw: &str, want: &str) -> EnvError {
        EnvError::BadSpec(format!("{}: parameter {key}={raw:?} should be {want}", self.env.name))
    }

    fn finish(self) -> Result<(), EnvError> {
        match self.values.keys().next() {
            None => Ok(()),
            Some(k) => Err(EnvError::BadSpec(format!(
                "{}: parameter {k:?} was not used; {}",
                self.env.name,
                Self::accepted(self.env)
            ))),
        }
    }
}

/// The text `ponder envs` prints: every environment, its parameters and their defaults.
pub fn describe_all() -> String {
    let mut s = String::new();
    for info in REGISTRY {
        s.push_str(&format!("{:<16}{}\n", info.name, info.summary));
        for p in info.params {
            s.push_str(&format!("    {:<12}default {:<10}{}\n", p.name, p.default, p.help));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registry_entry_parses_with_defaults_and_round_trips() {
        for info in REGISTRY {
            let env: AnyEnv = info.name.parse().unwrap();
            let again: AnyEnv = env.spec().parse().unwrap();
            assert_eq!(env.spec(), again.spec(), "{}", info.name);
        }
    }

    #[test]
    fn unknown_names_and_parameters_are_named_in_the_error() {
        let e = "chess".parse::<AnyEnv>().unwrap_err().to_string();
        assert!(e.contains("\"chess\"") && e.contains("tictactoe"), "{e}");
        let e = "hex:sise=5".parse::<AnyEnv>().unwrap_err().to_string();
        assert!(e.contains("\"sise\"") && e.contains("size"), "{e}");
        let e = "hex:size=12".parse::<AnyEnv>().unwrap_err().to_string();
        assert!(e.contains("size") && e.contains("12"), "{e}");
        let e = "hex:size".parse::<AnyEnv>().unwrap_err().to_string();
        assert!(e.contains("key=value"), "{e}");
        let e = "hex:size=5,size=6".parse::<AnyEnv>().unwrap_err().to_string();
        assert!(e.contains("twice"), "{e}");
    }
}
