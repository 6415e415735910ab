//! `cred batch <provider> <operation> --input FILE ...`: the command-line contract.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use cred_batch::output::OutputFormat;
use cred_batch::{Encoding, Format, Shard};

use crate::cli::AuditArgs;

/// Shown under every batch operation's help.
pub const BATCH_HELP: &str =
    "Columns are named like the single command's flags (name, idcard, certificate-no, ...); \
--map maps other headers (--map 姓名=name --map 身份证号=idcard). A column given twice is \
refused.

Every row is validated and deduplicated before any paid call; the journal (default \
<input>.journal, with its key in <input>.journal.key) records each row before its request \
leaves, so re-running the same command resumes without paying twice. A journal is used by \
one run at a time. Rows that were in flight when a run died are reported `unknown` and \
sent again only with --resend-unknown. A CSV file's encoding is decided on the whole file; \
a file not valid in it is refused, and a row that does not decode is never sent. Every call \
is recorded in the audit ledger (--audit-ledger, else ~/.local/share/credkit/audit.ledger; \
--no-audit for none), committed before its row is marked done.

Exit codes: 0 every row of the input has its outcome (answered, invalid, duplicate, failed \
or unknown); 2 the input or the paths cannot be used (unreadable or badly encoded input, a \
column given twice, --output naming the input or the journal, a missing directory), \
nothing sent; 6 the journal is in use by another run, nothing sent; 8 the journal is \
missing, empty or damaged beside its key file, or not this batch's, or the key file is \
readable by others, nothing sent; 7 a file could not be written (a full disk): the run \
stopped, every answer received is recorded; 130 interrupted; 5 stopped by --max-charged; \
and when an error no later row can escape stopped the run: 3 auth, permission or \
configuration (a Redis password refused included), 1 insufficient-balance (or the \
input changed during the run), 4 \
quota-exhausted or shared state (Redis) unavailable. A stopped run prints the command \
that resumes it (a password in it masked or named by its variable).";

/// The providers and operations a batch runs.
#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Jumdata (聚美智数).
    #[command(subcommand)]
    Jumdata(BatchJumdata),
    /// Juhe (聚合数据).
    #[command(subcommand)]
    Juhe(BatchJuhe),
    /// Zaozhuang electronic-licence sharing platform.
    #[command(subcommand, name = "zz-license")]
    ZzLicense(Box<BatchZzLicense>),
    /// Alipay Zhima.
    #[command(subcommand)]
    Zhima(BatchZhima),
}

impl BatchCommand {
    /// The options of whichever operation was given.
    pub fn options(&self) -> &BatchOptions {
        match self {
            BatchCommand::Jumdata(BatchJumdata::Credential(o) | BatchJumdata::Idcard(o)) => o,
            BatchCommand::Juhe(
                BatchJuhe::Qualification(o) | BatchJuhe::AdministrativeLicense(o),
            ) => o,
            BatchCommand::ZzLicense(z) => match z.as_ref() {
                BatchZzLicense::ByHolder(zz)
                | BatchZzLicense::Info(zz)
                | BatchZzLicense::Verify(zz) => &zz.options,
            },
            BatchCommand::Zhima(BatchZhima::Jobworth(o)) => o,
        }
    }
}

/// `cred batch jumdata ...`
#[derive(Debug, Subcommand)]
pub enum BatchJumdata {
    /// 职业资格证书查询 for every row. Columns: name, idcard, certificate-no (optional).
    #[command(after_help = BATCH_HELP)]
    Credential(BatchOptions),
    /// 身份证实名核验 for every row. Columns: name, idcard.
    #[command(after_help = BATCH_HELP)]
    Idcard(BatchOptions),
}

/// `cred batch juhe ...`
#[derive(Debug, Subcommand)]
pub enum BatchJuhe {
    /// 企业工程资质资格查询 for every row. Column: name (company name, registration
    /// number or unified social credit code).
    #[command(after_help = BATCH_HELP)]
    Qualification(BatchOptions),
    /// 企业行政许可 for every row. Columns: name (company name, registration number or
    /// unified social credit code), skip (optional: records to skip).
    #[command(after_help = BATCH_HELP)]
    AdministrativeLicense(BatchOptions),
}

/// `cred batch zz-license ...`
#[derive(Debug, Subcommand)]
pub enum BatchZzLicense {
    /// 按持证主体代码查询 for every row. Columns: holder-code, cert-type, holder-type
    /// (optional; required with --city), certificate-number (optional).
    #[command(after_help = BATCH_HELP)]
    ByHolder(BatchZz),
    /// 按证照标识查询 for every row. Column: certificate-id.
    #[command(after_help = BATCH_HELP)]
    Info(BatchZz),
    /// 证照数据核验 for every row. Columns: cert-type, holder-code, data (a JSON object),
    /// use-for.
    #[command(after_help = BATCH_HELP)]
    Verify(BatchZz),
}

/// A licence-platform batch: the batch options, the interface and the audit context.
#[derive(Debug, Args)]
pub struct BatchZz {
    /// Batch options.
    #[command(flatten)]
    pub options: BatchOptions,
    /// Use the city interface (interfaceType=1).
    #[arg(long)]
    pub city: bool,
    /// Audit context (the same for every row).
    #[command(flatten)]
    pub audit: AuditArgs,
}

/// `cred batch zhima ...`
#[derive(Debug, Subcommand)]
pub enum BatchZhima {
    /// 职得身份认证结果查询 for every row. Columns: once-token, and user-id, open-id or
    /// cert-no; optional conn-key, query-type, identity-type, service-id, cert-type.
    #[command(after_help = BATCH_HELP)]
    Jobworth(BatchOptions),
}

/// What every batch takes.
#[derive(Debug, Args)]
pub struct BatchOptions {
    /// The rows: .csv (UTF-8, UTF-8 with BOM or GBK), .jsonl or .xlsx (first sheet).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Where the results go, one per row of the input in input order (default: stdout).
    /// Written beside its final name and renamed into place; it may not be the input,
    /// the journal or one of its files.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The journal (default <input>.journal). Keep it to resume; delete it (and its .key)
    /// to start over.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Record nothing in the audit ledger. By default a batch records every call in
    /// --audit-ledger (or CRED_AUDIT_LEDGER), else in
    /// $XDG_DATA_HOME/credkit/audit.ledger (~/.local/share/credkit/audit.ledger).
    #[arg(long)]
    pub no_audit: bool,
    /// The input's format when its name does not say.
    #[arg(long, value_name = "csv|jsonl|xlsx")]
    pub format: Option<Format>,
    /// A CSV file's encoding (default: detected; GBK is what Excel writes on Chinese
    /// Windows).
    #[arg(long, value_name = "auto|utf-8|gbk", default_value = "auto")]
    pub encoding: Encoding,
    /// Maps an input header to a column: --map 姓名=name (repeatable).
    #[arg(long, value_name = "HEADER=column", value_parser = cred_batch::ColumnMap::parse_pair)]
    pub map: Vec<(String, String)>,
    /// The results' format: jsonl, or csv (flattened for spreadsheets).
    #[arg(long, value_name = "jsonl|csv", default_value = "jsonl")]
    pub output_format: OutputFormat,
    /// Check every row and print what a run would send and cost; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send again the rows that were in flight when an earlier run died (they may have
    /// been answered, and charged, already).
    #[arg(long)]
    pub resend_unknown: bool,
    /// Stop sending after this many charged answers (never exceeded).
    #[arg(long, value_name = "N")]
    pub max_charged: Option<u64>,
    /// Requests in flight at most (default 8); the rate limit applies as well.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// Take rows K, K+N, K+2N, ... so N machines split one input (each with its own
    /// journal; share the quota with --redis).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Serve the credkit metrics at http://HOST:PORT/metrics (Prometheus text format)
    /// while the batch runs.
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<std::net::SocketAddr>,
}
