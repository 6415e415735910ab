//! What a command prints: the readable view (aligned by display width, so Chinese text
//! lines up) or exactly one JSON object, and the exit code.

use std::fmt::Write as _;
use std::process::ExitCode;

use cred_core::{Error, ErrorKind, ResponseMeta};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use unicode_width::UnicodeWidthStr;

/// Writes `text` to stdout. A closed stdout (`cred ... | head -1`) is not an error worth
/// a panic: what could not be written is dropped.
pub fn out(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Writes `text` to stderr, ignoring a closed stderr.
pub fn err(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Exit code: answered: found, not found, or a licence's status (revoked, expired,
/// restricted).
pub const EXIT_OK: u8 = 0;
/// Exit code: any other provider error.
pub const EXIT_PROVIDER: u8 = 1;
/// Exit code: invalid input or usage; nothing was sent.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: authentication or configuration.
pub const EXIT_AUTH: u8 = 3;
/// Exit code: throttled, quota used up, unavailable or timed out: try later; nothing is
/// wrong with the request.
pub const EXIT_UNAVAILABLE: u8 = 4;

/// A titled group of label/value rows.
#[derive(Debug, Default)]
pub struct Block {
    /// Heading, if any.
    pub title: Option<String>,
    /// Rows, in order.
    pub rows: Vec<(String, String)>,
}

impl Block {
    /// A block with a heading.
    pub fn titled(title: impl Into<String>) -> Self {
        Self {
            title: Some(title.into()),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, label: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.rows.push((label.into(), value.into()));
        self
    }

    /// Adds a row when `value` is present.
    pub fn opt(&mut self, label: &str, value: Option<impl ToString>) -> &mut Self {
        if let Some(v) = value {
            self.rows.push((label.to_owned(), v.to_string()));
        }
        self
    }
}

/// Renders blocks, labels padded to the widest label by terminal display width.
pub fn render(blocks: &[Block]) -> String {
    let width = blocks
        .iter()
        .flat_map(|b| b.rows.iter())
        .map(|(l, _)| l.width())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let indent = if let Some(t) = &block.title {
            let _ = writeln!(out, "{t}");
            "  "
        } else {
            ""
        };
        for (label, value) in &block.rows {
            let pad = width.saturating_sub(label.width());
            let _ = writeln!(out, "{indent}{label}{}  {value}", " ".repeat(pad));
        }
    }
    out
}

/// A successful command's output.
#[derive(Debug)]
pub enum Output {
    /// A provider's answer.
    Answer {
        /// Provider metadata.
        meta: ResponseMeta,
        /// Whether a record was found.
        found: bool,
        /// A licence's status when the platform answered revoked, expired or restricted
        /// (`expired`): an answer, not a failure.
        licence_status: Option<&'static str>,
        /// The typed result as JSON in the provider's field order (`null` when not found).
        result: Box<RawValue>,
        /// The readable view.
        human: Vec<Block>,
    },
    /// Anything else (local checks, sandbox info).
    Plain {
        /// The JSON object.
        json: Value,
        /// The readable view.
        human: Vec<Block>,
    },
}

impl Output {
    /// A provider's answer: `result` (`None` when nothing was found) kept as JSON in the
    /// provider's field order, with its readable view.
    pub fn answer<T: Serialize>(
        meta: ResponseMeta,
        result: &Option<T>,
        human: Vec<Block>,
    ) -> Output {
        let json = serde_json::value::to_raw_value(result)
            .unwrap_or_else(|_| serde_json::value::to_raw_value(&()).unwrap_or_default());
        Output::Answer {
            licence_status: zz_license_api::LicenceStatus::of_meta(&meta).map(|s| s.as_str()),
            meta,
            found: result.is_some(),
            result: json,
            human,
        }
    }
}

/// A failed command.
#[derive(Debug)]
pub struct Failure {
    /// The provider the command was for, if any.
    pub provider: Option<&'static str>,
    /// What went wrong.
    pub error: Error,
}

impl Failure {
    /// A failure of a `provider` command.
    pub fn of(provider: &'static str, error: Error) -> Self {
        Self {
            provider: Some(provider),
            error,
        }
    }

    /// A failure outside any provider.
    pub fn local(error: Error) -> Self {
        Self {
            provider: None,
            error,
        }
    }
}

/// Exit code for an error (see the `cred --help` text).
pub fn exit_code(error: &Error) -> u8 {
    if matches!(error, Error::InvalidInput { .. }) {
        return EXIT_USAGE;
    }
    match error.kind() {
        ErrorKind::Auth | ErrorKind::Permission | ErrorKind::Config => EXIT_AUTH,
        ErrorKind::Throttled | ErrorKind::QuotaExhausted | ErrorKind::Unavailable => {
            EXIT_UNAVAILABLE
        }
        _ => EXIT_PROVIDER,
    }
}

/// Prints `result` to stdout/stderr and returns the exit code.
pub fn emit(result: Result<Output, Failure>, json_mode: bool) -> ExitCode {
    match result {
        Ok(Output::Answer {
            meta,
            found,
            licence_status,
            result,
            human,
        }) => {
            if json_mode {
                // The shape the gateway answers with too: one definition of it.
                let obj = cred_gateway::respond::answer_json(&meta, found, licence_status, &result);
                out(&format!("{}\n", String::from_utf8_lossy(&obj)));
            } else {
                out(&render(&human));
            }
            ExitCode::from(EXIT_OK)
        }
        Ok(Output::Plain { json, human }) => {
            if json_mode {
                out(&format!("{json}\n"));
            } else {
                out(&render(&human));
            }
            ExitCode::from(EXIT_OK)
        }
        Err(failure) => {
            let code = exit_code(&failure.error);
            emit_error(&failure, json_mode);
            ExitCode::from(code)
        }
    }
}

/// Prints a failure: one line on stderr, or the JSON error object on stdout.
pub fn emit_error(failure: &Failure, json_mode: bool) {
    let e = &failure.error;
    if json_mode {
        let obj = cred_gateway::respond::error_json(failure.provider, e);
        out(&format!("{}\n", String::from_utf8_lossy(&obj)));
    } else {
        let line = e.to_string().replace(['\n', '\r'], " ");
        err(&format!("error: {line}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_align_by_display_width() {
        let mut b = Block::default();
        b.row("职业名称", "电器计量工").row("level", "三级");
        let text = render(&[b]);
        let lines: Vec<&str> = text.lines().collect();
        // 职业名称 is 8 columns wide; "level" is padded to 8 as well.
        assert_eq!(lines[0], "职业名称  电器计量工");
        assert_eq!(lines[1], "level     三级");
    }

    #[test]
    fn exit_codes_follow_the_contract() {
        use cred_core::{CallSite, Charged, ProviderError};
        let site = CallSite::new("jumdata", "credential_query");
        let p = |kind| Error::from(ProviderError::new(site, "x", "m", kind, Charged::No, None));
        assert_eq!(exit_code(&Error::invalid("idcard", "bad")), EXIT_USAGE);
        assert_eq!(exit_code(&Error::config("missing")), EXIT_AUTH);
        assert_eq!(exit_code(&p(ErrorKind::Auth)), EXIT_AUTH);
        assert_eq!(exit_code(&p(ErrorKind::Permission)), EXIT_AUTH);
        assert_eq!(exit_code(&p(ErrorKind::Throttled)), EXIT_UNAVAILABLE);
        assert_eq!(exit_code(&p(ErrorKind::Unavailable)), EXIT_UNAVAILABLE);
        assert_eq!(exit_code(&p(ErrorKind::QuotaExhausted)), EXIT_UNAVAILABLE);
        assert_eq!(exit_code(&p(ErrorKind::InsufficientBalance)), EXIT_PROVIDER);
        assert_eq!(exit_code(&p(ErrorKind::InvalidArgument)), EXIT_PROVIDER);
        let timeout = Error::timeout(site, std::time::Duration::from_secs(1));
        assert_eq!(exit_code(&timeout), EXIT_UNAVAILABLE);
    }
}
