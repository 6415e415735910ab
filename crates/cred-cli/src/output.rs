//! What a command prints: the readable view (aligned by display width, so Chinese text
//! lines up) or exactly one JSON object, and the exit code.

use std::fmt::Write as _;
use std::process::ExitCode;

use cred_core::{Charged, Error, ErrorKind, ResponseMeta};
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

/// `{"provider", "operation", "found", "licence_status"?, "charged", "request_id",
/// "result"}`, in that order (`licence_status` only when the licence platform answered
/// revoked, expired or restricted).
#[derive(Serialize)]
struct SuccessJson<'a> {
    provider: String,
    operation: &'a str,
    found: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    licence_status: Option<&'a str>,
    charged: Value,
    request_id: Option<&'a str>,
    result: &'a RawValue,
}

/// `{"error": {"provider", "kind", "code", "message", "retryable", "charged", "request_id"}}`.
#[derive(Serialize)]
struct ErrorJson<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    provider: Option<String>,
    kind: &'a str,
    code: Option<String>,
    message: String,
    retryable: bool,
    charged: Value,
    request_id: Option<&'a str>,
}

/// A provider as the command line names it (`zz-license`), whatever its SDK call-site id
/// (`zz_license`): JSON output uses the same name as the command.
pub fn cli_provider(provider: &str) -> String {
    provider.replace('_', "-")
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| {
        format!(r#"{{"error":{{"kind":"internal","message":"cannot encode output: {e}"}}}}"#)
    })
}

fn charged_json(c: Charged) -> Value {
    match c {
        Charged::Yes => Value::Bool(true),
        Charged::No => Value::Bool(false),
        Charged::Unknown => Value::Null,
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
                let obj = SuccessJson {
                    provider: cli_provider(meta.provider),
                    operation: meta.operation,
                    found,
                    licence_status,
                    charged: charged_json(meta.charged),
                    request_id: meta.request_id.as_deref(),
                    result: &result,
                };
                out(&format!("{}\n", to_json(&obj)));
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
        let obj = ErrorJson {
            error: ErrorBody {
                provider: failure.provider.map(cli_provider),
                kind: e.kind().as_str(),
                code: e.code(),
                message: e.to_string(),
                retryable: e.is_retryable(),
                charged: charged_json(e.charged()),
                request_id: e.request_id(),
            },
        };
        out(&format!("{}\n", to_json(&obj)));
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
        use cred_core::{CallSite, ProviderError};
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
