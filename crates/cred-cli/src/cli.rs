//! The command-line contract: every command and flag, as `cred --help` shows them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Query Chinese credential- and licence-verification APIs, validate identifiers, and run
/// the offline sandbox.
///
/// Credentials come from the environment variables the provider crates read; each
/// provider's --help lists all of them (cred jumdata --help, cred zz-license --help, ...).
/// With --sandbox no credentials are needed: the built-in sandbox answers with published
/// test values.
///
/// Exit codes: 0 answered (found, not found, or a licence revoked, expired or restricted:
/// `licence_status` in --json), 2 invalid input or usage (nothing sent),
/// 3 authentication or configuration, 4 try later: throttled, call quota used up,
/// unavailable or timed out (nothing is wrong with the request), 1 any other provider
/// error.
#[derive(Debug, Parser)]
#[command(name = "cred", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Start the built-in sandbox on an ephemeral loopback port and send every call there
    /// with its test credentials (offline, nothing billed).
    #[arg(long, global = true, help_heading = GLOBAL, conflicts_with = "base_url")]
    pub sandbox: bool,

    /// Override the provider's base URL (a proxy, a test server).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "URL")]
    pub base_url: Option<String>,

    /// Print exactly one JSON object on stdout instead of the readable view.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,

    /// Trust the root CAs in this PEM file as well as the system's (a private or
    /// intranet CA). Also `<PROVIDER>_CA_FILE`, e.g. JUMDATA_CA_FILE.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Send every request through this HTTP(S) proxy, `http://[user:password@]host:port`.
    /// Also `<PROVIDER>_PROXY`, e.g. ZZ_LICENSE_PROXY; otherwise HTTPS_PROXY/HTTP_PROXY.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "URL")]
    pub proxy: Option<String>,

    /// Share the provider's rate limit with every `cred` process (and SDK client) that
    /// uses this Redis and namespace (redis://, rediss:// for TLS, redis+unix://).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "URL", env = "CRED_REDIS_URL")]
    pub redis: Option<String>,

    /// Key namespace in Redis (default credkit).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "NAME", default_value = "credkit")]
    pub redis_namespace: String,

    /// When Redis cannot be reached, go on with a local limiter at this share of the
    /// rate (0 < SHARE <= 1; with N processes, 1/N) and a token of this process's own,
    /// instead of failing closed (the default: nothing is sent while Redis is away).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SHARE", value_parser = parse_share)]
    pub redis_fallback: Option<f64>,

    /// Requests a second for the provider being called, in any one-second window (0:
    /// no client-side limit). Also `<PROVIDER>_RATE_LIMIT`, e.g. JUMDATA_RATE_LIMIT.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "N")]
    pub rate_limit: Option<u32>,

    /// Record every provider call in this audit ledger (created with its key,
    /// LEDGER.key, when neither exists): who called, why, what it cost, and about whom
    /// as keyed HMACs only. Also CRED_AUDIT_LEDGER. See `cred audit --help`.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "LEDGER", env = "CRED_AUDIT_LEDGER")]
    pub audit_ledger: Option<PathBuf>,

    /// The audit ledger's key file (default: LEDGER.key).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "PATH", env = "CRED_AUDIT_KEY")]
    pub audit_key: Option<PathBuf>,

    /// Why these calls are made (the purpose of processing, recorded in the audit
    /// ledger). Also CRED_PURPOSE.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "TEXT", env = "CRED_PURPOSE")]
    pub purpose: Option<String>,

    /// Refuse to call without --purpose when recording in an audit ledger.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub require_purpose: bool,

    /// Overall timeout of one attempt, in seconds (default 30).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<f64>,

    /// Log to stderr (-v: credkit debug logs, -vv: everything). Personal data is masked
    /// and secrets are never printed.
    #[arg(short, long, global = true, help_heading = GLOBAL, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The heading of the options every command takes, shown after the command's own.
const GLOBAL: &str = "Global options";

/// The global options that mean nothing to a top-level command, as (clap id, flag):
/// hidden from its `--help` and refused with exit 2 when given on the command line (see
/// [`given_but_pointless`]).
fn pointless_for(command: &str) -> &'static [(&'static str, &'static str)] {
    const NETWORK: &[(&str, &str)] = &[
        ("sandbox", "--sandbox"),
        ("base_url", "--base-url"),
        ("ca_file", "--ca-file"),
        ("proxy", "--proxy"),
        ("redis", "--redis"),
        ("redis_namespace", "--redis-namespace"),
        ("redis_fallback", "--redis-fallback"),
        ("rate_limit", "--rate-limit"),
        ("timeout", "--timeout"),
        ("audit_ledger", "--audit-ledger"),
        ("audit_key", "--audit-key"),
        ("purpose", "--purpose"),
        ("require_purpose", "--require-purpose"),
    ];
    const SERVE: &[(&str, &str)] = &[
        ("purpose", "--purpose"),
        ("require_purpose", "--require-purpose"),
        ("json", "--json"),
    ];
    const EVERYTHING: &[(&str, &str)] = &[
        ("sandbox", "--sandbox"),
        ("base_url", "--base-url"),
        ("json", "--json"),
        ("ca_file", "--ca-file"),
        ("proxy", "--proxy"),
        ("redis", "--redis"),
        ("redis_namespace", "--redis-namespace"),
        ("redis_fallback", "--redis-fallback"),
        ("rate_limit", "--rate-limit"),
        ("timeout", "--timeout"),
        ("verbose", "-v"),
        ("audit_ledger", "--audit-ledger"),
        ("audit_key", "--audit-key"),
        ("purpose", "--purpose"),
        ("require_purpose", "--require-purpose"),
    ];
    match command {
        // Runs locally, uses no network; --json and -v apply.
        "check" => NETWORK,
        // Reads a ledger (its own LEDGER and --key); --json and -v apply.
        "audit" => NETWORK,
        // The sandbox itself; --json (serve's listing) and -v (its logs) apply.
        "sandbox" => NETWORK,
        // Callers give their purpose per request (X-Credkit-Purpose).
        "serve" => SERVE,
        // Prints a script: nothing applies.
        "completions" => EVERYTHING,
        _ => &[],
    }
}

/// `cred`'s command tree: [`Cli`] with each top-level command showing only the global
/// options that apply to it (the others are hidden there, and refused by
/// [`given_but_pointless`]). Parse with this, then [`clap::FromArgMatches`].
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let root = Cli::command();
    let globals: Vec<clap::Arg> = root
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let names: Vec<String> = root
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    names.iter().fold(root, |root, name| {
        let hidden = pointless_for(name);
        if hidden.is_empty() {
            return root;
        }
        root.mut_subcommand(name, |sub| {
            // A subcommand's own arg of the same id stops clap propagating the root's
            // (still global, so it reaches nested commands and its value the root's
            // matches): same parsing, hidden from help and completions.
            globals
                .iter()
                .filter(|a| hidden.iter().any(|(id, _)| a.get_id() == *id))
                .fold(sub, |sub, a| sub.arg(a.clone().hide(true)))
        })
    })
}

/// The first global option given on the command line (not from the environment, not a
/// default) that means nothing to the command run: the flag, and what the command is.
pub fn given_but_pointless(matches: &clap::ArgMatches) -> Option<(&'static str, &'static str)> {
    use clap::parser::ValueSource;
    let (name, _) = matches.subcommand()?;
    let (_, flag) = pointless_for(name)
        .iter()
        .find(|(id, _)| matches.value_source(id) == Some(ValueSource::CommandLine))?;
    let what = match name {
        "check" => "`cred check`, which runs locally and uses no network",
        "sandbox" => "`cred sandbox`, which is the sandbox itself",
        "audit" => "`cred audit`, which reads the ledger it is given (use --key for its key)",
        "serve" => {
            "`cred serve`, whose callers give their purpose with each request (X-Credkit-Purpose; require_purpose in the config)"
        }
        _ => "`cred completions`, which only prints a script",
    };
    Some((flag, what))
}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(
            "must be a number above 0 and at most 1 (a share of the rate, e.g. 0.25)".to_owned(),
        ),
    }
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err("must be a number of seconds between 0 and 3600".to_owned()),
    }
}

/// The variables of every provider (also listed by each provider's `--help`).
const JUMDATA_ENV: &str = "Environment variables:
  JUMDATA_APP_ID       the app id (appId)
  JUMDATA_APP_SECRET   the app secret (never printed)
  JUMDATA_BASE_URL     default https://api.jumdata.com
  JUMDATA_CA_FILE      extra root CAs (PEM) trusted beside the system's
  JUMDATA_PROXY        a proxy for every request (http://[user:password@]host:port)";
const JUHE_ENV: &str = "Environment variables:
  JUHE_KEY             the API key (never printed)
  JUHE_BASE_URL        default https://v.juhe.cn
  JUHE_CA_FILE         extra root CAs (PEM) trusted beside the system's
  JUHE_PROXY           a proxy for every request";
const ZZ_LICENSE_ENV: &str = "Environment variables:
  ZZ_LICENSE_BASE_URL        the deployment, e.g. http://ip:port/license-api-release (no default)
  ZZ_LICENSE_USERNAME        访问标识 (username)
  ZZ_LICENSE_PASSWORD        应用认证信息 (password, never printed)
  ZZ_LICENSE_CLIENT_ID       OAuth client id (e.g. xxxx-oauth)
  ZZ_LICENSE_CLIENT_SECRET   OAuth client secret (e.g. xxxx-mobile, never printed)
  ZZ_LICENSE_CLIENT_AUTH     form (default: client_id/client_secret as form fields) or basic
  ZZ_LICENSE_SYSTEM_NAME     调用系统名称 (audit, or --system-name)
  ZZ_LICENSE_CALL_CATEGORY   调用类别: 0 matter, 1 non-matter (or --call-category)
  ZZ_LICENSE_MATTER_NAME     事项名称 (or --matter-name)
  ZZ_LICENSE_EVENT_CODE      事项编码 (or --event-code)
  ZZ_LICENSE_COPY_CAUSE      用证事由, at most 200 characters (or --cause)
  ZZ_LICENSE_CALL_DISTRICT   调用区（市） (or --district)
  ZZ_LICENSE_CALL_DEPARTMENT 调用部门 (or --department)
  ZZ_LICENSE_DISTRICT_LEVEL  区（市）级别 (or --district-level)
  ZZ_LICENSE_CA_FILE         extra root CAs (PEM) trusted beside the system's
  ZZ_LICENSE_PROXY           a proxy for every request";
const ALIPAY_ENV: &str = "Environment variables (a value starting with @ is read from that file):
  ALIPAY_APP_ID        the app id
  ALIPAY_PRIVATE_KEY   the app private key, PKCS#8 or PKCS#1, PEM or base64 (never printed)
  ALIPAY_PUBLIC_KEY    Alipay's public key (支付宝公钥), to verify every answer
  ALIPAY_ENCRYPT_KEY   content encryption key (接口内容加密, AES, base64), optional
  ALIPAY_APP_CERT      certificate mode: the app certificate (PEM)
  ALIPAY_ALIPAY_CERT   certificate mode: Alipay's certificate (PEM)
  ALIPAY_ROOT_CERT     certificate mode: Alipay's root certificate bundle (PEM)
  ALIPAY_BASE_URL      default https://openapi.alipay.com
  ALIPAY_CA_FILE       extra root CAs (PEM) trusted beside the system's
  ALIPAY_PROXY         a proxy for every request";

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Jumdata (聚美智数) APIs.
    #[command(subcommand, after_help = JUMDATA_ENV)]
    Jumdata(JumdataCommand),
    /// Juhe (聚合数据) APIs.
    #[command(subcommand, after_help = JUHE_ENV)]
    Juhe(JuheCommand),
    /// Zaozhuang electronic-licence sharing platform (枣庄市电子证照共享).
    #[command(subcommand, name = "zz-license", after_help = ZZ_LICENSE_ENV)]
    ZzLicense(ZzLicenseCommand),
    /// Alipay Zhima (芝麻) APIs.
    #[command(subcommand, after_help = ALIPAY_ENV)]
    Zhima(ZhimaCommand),
    /// Verify every row of a CSV, JSON Lines or xlsx file: validated before any paid call,
    /// each input sent once, resumable (a journal records every row).
    #[command(subcommand)]
    Batch(crate::batch::args::BatchCommand),
    /// Validate an identifier locally (no network, nothing billed).
    Check(CheckArgs),
    /// The audit ledger: verify it, find every call about a person or licence, report
    /// charged calls (reads only; the key file stays beside the ledger unless --key).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The offline sandbox.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Serve every query operation over HTTP to callers in any language (the credkit
    /// gateway): `cred serve --sandbox` runs it offline and prints a test key.
    Serve(ServeArgs),
    /// Print a shell completion script. Bash, for this user: `mkdir -p
    /// ~/.local/share/bash-completion/completions && cred completions bash >
    /// ~/.local/share/bash-completion/completions/cred`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `cred jumdata ...`
#[derive(Debug, Subcommand)]
pub enum JumdataCommand {
    /// 职业资格证书查询: professional-qualification certificates of a person (Jumdata lists
    /// it as discontinued).
    #[command(after_help = JUMDATA_ENV)]
    Credential(CredentialArgs),
    /// 身份证实名核验: whether a name and a resident ID number belong together.
    #[command(after_help = JUMDATA_ENV)]
    Idcard {
        /// The name (姓名).
        #[arg(long)]
        name: String,
        /// The 18-character resident ID number (身份证号).
        #[arg(long)]
        idcard: String,
    },
}

/// `cred jumdata credential`
#[derive(Debug, Args)]
pub struct CredentialArgs {
    /// The holder's name (姓名).
    #[arg(long)]
    pub name: String,
    /// The holder's 18-character resident ID number (身份证号).
    #[arg(long)]
    pub idcard: String,
    /// Narrow the query to one certificate number (证书编号).
    #[arg(long, value_name = "NO")]
    pub certificate_no: Option<String>,
}

/// `cred juhe ...`
#[derive(Debug, Subcommand)]
pub enum JuheCommand {
    /// 企业工程资质资格查询: construction qualifications of a company.
    #[command(after_help = JUHE_ENV)]
    Qualification {
        /// Company full name, registration number or unified social credit code.
        #[arg(long, value_name = "NAME_OR_CREDIT_CODE")]
        name: String,
    },
    /// 企业行政许可: administrative licences of a company, a page at a time.
    #[command(after_help = JUHE_ENV)]
    AdministrativeLicense {
        /// Company full name, registration number or unified social credit code.
        #[arg(long, value_name = "NAME_OR_CREDIT_CODE")]
        name: String,
        /// Records to skip (paging; default 0).
        #[arg(long, value_name = "N")]
        skip: Option<i64>,
    },
}

/// Audit context every licence-sharing call carries (flags or ZZ_LICENSE_* variables).
#[derive(Debug, Args)]
#[command(next_help_heading = "Audit context (调用审计)")]
pub struct AuditArgs {
    /// 调用系统名称 (certificateSystemName).
    #[arg(long, env = "ZZ_LICENSE_SYSTEM_NAME")]
    pub system_name: Option<String>,
    /// 事项名称 (certificateMatterName).
    #[arg(long, env = "ZZ_LICENSE_MATTER_NAME")]
    pub matter_name: Option<String>,
    /// 事项编码 (certificateEventCode).
    #[arg(long, env = "ZZ_LICENSE_EVENT_CODE")]
    pub event_code: Option<String>,
    /// 用证事由, at most 200 characters (certificateCopyCause).
    #[arg(long, env = "ZZ_LICENSE_COPY_CAUSE")]
    pub cause: Option<String>,
    /// 调用类别: 0 matter, 1 non-matter (certificateCallCategory).
    #[arg(long, env = "ZZ_LICENSE_CALL_CATEGORY")]
    pub call_category: Option<String>,
    /// 调用区（市） (callDistrict), e.g. 薛城区.
    #[arg(long, env = "ZZ_LICENSE_CALL_DISTRICT")]
    pub district: Option<String>,
    /// 调用部门 (callDepartment).
    #[arg(long, env = "ZZ_LICENSE_CALL_DEPARTMENT")]
    pub department: Option<String>,
    /// 区（市）级别 (districtLevel): 市级, 区级, 街镇级.
    #[arg(long, env = "ZZ_LICENSE_DISTRICT_LEVEL")]
    pub district_level: Option<String>,
}

/// `cred zz-license ...`
#[derive(Debug, Subcommand)]
pub enum ZzLicenseCommand {
    /// 按持证主体代码查询: licences of a holder.
    #[command(after_help = ZZ_LICENSE_ENV)]
    ByHolder {
        /// Holder code (ID number, credit code, ...).
        #[arg(long)]
        holder_code: String,
        /// Holder code type (GB/T 36903), e.g. 111 resident ID, 001 credit code. Optional
        /// for the province interface, required with --city (省库数据非必填, 市库数据必填).
        #[arg(long)]
        holder_type: Option<String>,
        /// Licence type code.
        #[arg(long)]
        cert_type: String,
        /// Licence number to narrow the query to.
        #[arg(long, value_name = "NO")]
        certificate_number: Option<String>,
        /// Use the city interface (interfaceType=1) instead of the province one.
        #[arg(long)]
        city: bool,
        /// Audit context.
        #[command(flatten)]
        audit: AuditArgs,
    },
    /// 按证照标识查询: one licence by its identifier.
    #[command(after_help = ZZ_LICENSE_ENV)]
    Info {
        /// Licence identifier: a GB/T 36904 one (1.2.156.3005.2....) or a city fileNumber,
        /// as by-holder and by-qrcode print them.
        #[arg(long, value_name = "ID")]
        certificate_id: String,
        /// Use the city interface.
        #[arg(long)]
        city: bool,
        /// Audit context.
        #[command(flatten)]
        audit: AuditArgs,
    },
    /// 按二维码查询: a licence by the content of its QR code.
    #[command(after_help = ZZ_LICENSE_ENV)]
    ByQrcode {
        /// The QR code content.
        #[arg(long, value_name = "VALUE")]
        qr: String,
        /// Use the city interface.
        #[arg(long)]
        city: bool,
        /// Audit context.
        #[command(flatten)]
        audit: AuditArgs,
    },
    /// 证照数据核验: verify licence data.
    #[command(after_help = ZZ_LICENSE_ENV)]
    Verify {
        /// Licence type code.
        #[arg(long)]
        cert_type: String,
        /// Holder code.
        #[arg(long)]
        holder_code: String,
        /// The data to verify, as a JSON object.
        #[arg(long, value_name = "JSON")]
        data: String,
        /// Purpose of the verification.
        #[arg(long, value_name = "TEXT")]
        use_for: String,
        /// Use the city interface.
        #[arg(long)]
        city: bool,
        /// Audit context.
        #[command(flatten)]
        audit: AuditArgs,
    },
    /// 证照文件核验: verify a licence file (PDF/OFD).
    #[command(after_help = ZZ_LICENSE_ENV)]
    VerifyFile {
        /// Licence type code.
        #[arg(long)]
        cert_type: String,
        /// The file to verify.
        #[arg(long, value_name = "PATH")]
        file: PathBuf,
        /// Purpose of the verification.
        #[arg(long, value_name = "TEXT")]
        use_cause: String,
        /// Use the city interface.
        #[arg(long)]
        city: bool,
        /// Audit context.
        #[command(flatten)]
        audit: AuditArgs,
    },
    /// 获取证照下载地址: a download link (valid about 10 minutes).
    #[command(after_help = ZZ_LICENSE_ENV)]
    DownloadUrl {
        /// Licence identifier: a GB/T 36904 one (1.2.156.3005.2....) or a city fileNumber,
        /// as by-holder and by-qrcode print them.
        #[arg(long, value_name = "ID")]
        certificate_id: String,
        /// Expiry date of the link (YYYY-MM-DD).
        #[arg(long, value_name = "YYYY-MM-DD")]
        expiry: Option<String>,
        /// Audit context.
        #[command(flatten)]
        audit: AuditArgs,
    },
    /// 证照文件下载: a download link, then the file, written to FILE.part and renamed
    /// when complete.
    #[command(after_help = ZZ_LICENSE_ENV)]
    Download {
        /// Licence identifier: a GB/T 36904 one (1.2.156.3005.2....) or a city fileNumber,
        /// as by-holder and by-qrcode print them.
        #[arg(long, value_name = "ID")]
        certificate_id: String,
        /// Where to write the file.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
        /// Audit context.
        #[command(flatten)]
        audit: AuditArgs,
    },
}

/// `query_type` of the jobworth query.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum QueryType {
    /// Exact match.
    Exact,
    /// Fuzzy match.
    Dim,
}

/// `cred zhima ...`
#[derive(Debug, Subcommand)]
pub enum ZhimaCommand {
    /// 职得身份认证结果查询: the result of an occupation-identity (jobworth)
    /// authentication. Needs --once-token and one of --user-id, --open-id, --cert-no.
    #[command(after_help = ALIPAY_ENV)]
    Jobworth {
        /// 调用第一步创建接口的 out_agreement_no: the agreement number of the first step
        /// (conn_key).
        #[arg(long, value_name = "K")]
        conn_key: Option<String>,
        /// 查询身份认证结果的凭证: the one-time token to read the result; a final result
        /// is answered once (once_token). Required.
        #[arg(long, value_name = "TOKEN")]
        once_token: Option<String>,
        /// 查询方式: exact or fuzzy matching (query_type).
        #[arg(long)]
        query_type: Option<QueryType>,
        /// 身份类型: identity type, `04` teacher (identity_type).
        #[arg(long, value_name = "TYPE")]
        identity_type: Option<String>,
        /// 信用服务 id: the credit service id of the product package (service_id).
        #[arg(long, value_name = "ID")]
        service_id: Option<String>,
        /// 蚂蚁统一会员 ID: the Alipay user id; give it, --open-id or --cert-no (user_id).
        #[arg(long, value_name = "ID")]
        user_id: Option<String>,
        /// The Alipay user's open_id; give it, --user-id or --cert-no (open_id).
        #[arg(long, value_name = "ID")]
        open_id: Option<String>,
        /// 证件号: the certificate number, e.g. a resident ID number (cert_no).
        #[arg(long, value_name = "NO")]
        cert_no: Option<String>,
        /// 证件类型: 0 ID card, 1 passport, 2 home-return permit, 3 HK/Macau permit,
        /// 4 Taiwan permit, 5 HK/Macau ID (cert_type).
        #[arg(long, value_name = "0-5", value_parser = clap::value_parser!(u8).range(0..=5))]
        cert_type: Option<u8>,
        /// Send without credkit's reading of the document (a once_token, and one of
        /// --user-id, --open-id, --cert-no); the document marks every parameter optional.
        #[arg(long)]
        skip_reading_checks: bool,
    },
}

/// What `cred check` validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckKind {
    /// Resident ID number (GB 11643-1999).
    Idcard,
    /// Unified social credit code (GB 32100-2015).
    Uscc,
    /// Electronic-licence identifier (GB/T 36904-2018).
    LicenseId,
}

/// `cred check KIND VALUE`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// What the value is.
    pub kind: CheckKind,
    /// The value to check.
    pub value: String,
}

/// `cred audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole chain and the head: names the first record that was edited,
    /// deleted, inserted or moved, and a cut tail. Exit 0: verified; 1: it does not
    /// verify; 3: the ledger or its key cannot be read.
    Verify {
        /// The ledger.
        ledger: PathBuf,
        /// Also check a head kept elsewhere (a file `cred audit head` printed earlier).
        #[arg(long, value_name = "HEAD_FILE")]
        against: Option<PathBuf>,
        /// The ledger's key file (default: LEDGER.key).
        #[arg(long, value_name = "PATH")]
        key: Option<PathBuf>,
    },
    /// Print the ledger's head (its last record's seq and MAC, tagged): keep copies
    /// where the ledger's writers cannot change them, and check with `verify --against`.
    Head {
        /// The ledger.
        ledger: PathBuf,
        /// The ledger's key file (default: LEDGER.key).
        #[arg(long, value_name = "PATH")]
        key: Option<PathBuf>,
    },
    /// Every call about one person, licence or company (the value is turned into its
    /// keyed HMAC; it is never written).
    Find(AuditFindArgs),
    /// Calls, outcomes and charged calls over a period, by caller, operation or purpose.
    Report(AuditReportArgs),
}

/// `cred audit find`
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["idcard", "name", "certificate_no", "licence_id", "credit_code", "company_name"])))]
pub struct AuditFindArgs {
    /// The ledger.
    pub ledger: PathBuf,
    /// A resident ID number.
    #[arg(long)]
    pub idcard: Option<String>,
    /// A person's name.
    #[arg(long)]
    pub name: Option<String>,
    /// A certificate number.
    #[arg(long)]
    pub certificate_no: Option<String>,
    /// An electronic licence's identifier or number.
    #[arg(long, alias = "license-id")]
    pub licence_id: Option<String>,
    /// A unified social credit code.
    #[arg(long)]
    pub credit_code: Option<String>,
    /// A company's name.
    #[arg(long)]
    pub company_name: Option<String>,
    /// Output: a table, CSV, or JSON (the default with --json).
    #[arg(long, value_enum)]
    pub format: Option<AuditFormat>,
    /// The ledger's key file (default: LEDGER.key).
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
}

/// `cred audit report`
#[derive(Debug, Args)]
pub struct AuditReportArgs {
    /// The ledger.
    pub ledger: PathBuf,
    /// From this day on (YYYY-MM-DD, China Standard Time, inclusive).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Up to this day (YYYY-MM-DD, China Standard Time, inclusive).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Group by caller, operation or purpose.
    #[arg(long, value_enum, default_value = "caller")]
    pub by: AuditGroup,
    /// Output: a table, CSV, or JSON (the default with --json).
    #[arg(long, value_enum)]
    pub format: Option<AuditFormat>,
    /// The ledger's key file (default: LEDGER.key).
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
}

/// How `cred audit find` and `report` print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Aligned columns.
    Table,
    /// Comma-separated, with a header line.
    Csv,
    /// One JSON document.
    Json,
}

/// What `cred audit report` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditGroup {
    /// The caller (a gateway key's name, cli:USER, batch:USER).
    Caller,
    /// The provider and operation.
    Operation,
    /// The purpose given.
    Purpose,
}

/// `cred sandbox ...`
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve the sandbox until interrupted; prints the base URL and the test credentials.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8787")]
        addr: SocketAddr,
        /// Print `export NAME='value'` lines for a POSIX shell instead of the table.
        #[arg(long, conflicts_with = "json")]
        env: bool,
        /// Write the `export NAME='value'` lines to FILE once the sandbox listens (written
        /// whole, then renamed into place: never seen half-written), with
        /// CRED_SANDBOX_PID: `cred sandbox serve --env-file sandbox.env --background &&
        /// . ./sandbox.env`, and `kill "$CRED_SANDBOX_PID"` to stop it.
        #[arg(long, value_name = "FILE")]
        env_file: Option<std::path::PathBuf>,
        /// Serve from a process of its own and return once the sandbox listens and the
        /// --env-file is written (needs --env-file).
        #[arg(long, requires = "env_file")]
        background: bool,
    },
}

/// `cred serve ...`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    /// `cred serve keygen NAME`.
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
    /// The gateway's configuration (TOML: listen address, limits, audit ledger, callers
    /// with their key digests); reloaded on SIGHUP.
    #[arg(long, value_name = "FILE", env = "CRED_GATEWAY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where to listen (default: the configuration's `listen`, else 127.0.0.1:8710).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Serve TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Do not record calls in the audit ledger (it is on by default).
    #[arg(long)]
    pub no_audit: bool,
}

/// `cred serve keygen`.
#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Print a new API key for caller NAME (shown once: only its digest is kept) and the
    /// `[[caller]]` lines to add to the configuration.
    Keygen {
        /// The caller's name (letters, digits, `-`, `_`, `.`): it appears in the audit
        /// ledger, the access log and the metrics.
        name: String,
    },
}
