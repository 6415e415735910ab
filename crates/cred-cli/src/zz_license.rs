//! `cred zz-license ...`

use std::io::Write as _;
use std::path::Path;

use cred_core::{Answer, Error, Pii};
use serde::Serialize;
use serde_json::{Value, json};
use zz_license_api::{
    AuditContext, CallCategory, Client, Config, DataVerification, DownloadLinks, FileVerification,
    HolderCodeType, InterfaceType, LicenceStatus, Licences, QrLicence, ShareDownloadUrl,
    ShareQueryCertInfo, ShareQueryCertInfoByHolderCode, ShareQueryCertInfoByQrcode,
    ShareVerifyCertFile, ShareVerifyCertInfo,
};

use crate::cli::{AuditArgs, ZzLicenseCommand};
use crate::context::Context;
use crate::output::{Block, Failure, Output};

const PROVIDER: &str = "zz-license";

/// Runs a `cred zz-license` command.
pub async fn run(ctx: &Context, command: &ZzLicenseCommand) -> Result<Output, Failure> {
    dispatch(ctx, command)
        .await
        .map_err(|e| Failure::of(PROVIDER, with_flag_hint(e)))
}

/// An error about a parameter in the words typed: the flag (and its variable).
pub(crate) fn with_flag_hint(e: Error) -> Error {
    use crate::flags::{AUDIT, flag, name_flags};
    const FLAGS: &[crate::flags::Flag] = &[
        flag("holder_code", "--holder-code"),
        flag("certificate_holder_code", "--holder-code"),
        flag("holder_code_type", "--holder-type"),
        flag("holder_type", "--holder-type"),
        flag("cert_type_code", "--cert-type"),
        flag("certificate_number", "--certificate-number"),
        flag("certificate_id", "--certificate-id"),
        flag("expiry_time", "--expiry"),
        flag("qr_value", "--qr"),
        flag("certificate_data", "--data"),
        flag("use_for", "--use-for"),
        flag("content", "--file"),
        flag("file", "--file"),
        flag("use_cause", "--use-cause"),
        flag("call_category", "--call-category"),
        flag("output", "--output"),
    ];
    let e = name_flags(e, AUDIT);
    name_flags(e, FLAGS)
}

fn level(city: bool) -> InterfaceType {
    if city {
        InterfaceType::City
    } else {
        InterfaceType::Province
    }
}

async fn dispatch(ctx: &Context, command: &ZzLicenseCommand) -> Result<Output, Error> {
    match command {
        ZzLicenseCommand::ByHolder {
            holder_code,
            holder_type,
            cert_type,
            certificate_number,
            city,
            audit,
        } => {
            let mut request = ShareQueryCertInfoByHolderCode::new(holder_code, cert_type)
                .interface_type(level(*city));
            if let Some(holder_type) = holder_type {
                let kind = HolderCodeType::from_code(holder_type)
                    .map_err(|reason| Error::invalid("holder_type", reason))?;
                request = request.holder_code_type(kind);
            }
            if let Some(no) = certificate_number {
                request = request.certificate_number(no);
            }
            let answer = ctx
                .audited(
                    PROVIDER,
                    "by-holder",
                    &request,
                    audit.cause.as_deref(),
                    client(ctx, audit)?.share_query_cert_info_by_holder_code(&request),
                )
                .await?;
            Ok(licences_output("证照持有主体代码获取证照信息", answer))
        }
        ZzLicenseCommand::Info {
            certificate_id,
            city,
            audit,
        } => {
            let request = ShareQueryCertInfo::new(certificate_id).interface_type(level(*city));
            let answer = ctx
                .audited(
                    PROVIDER,
                    "info",
                    &request,
                    audit.cause.as_deref(),
                    client(ctx, audit)?.share_query_cert_info(&request),
                )
                .await?;
            Ok(licences_output("证照标识获取证照信息", answer))
        }
        ZzLicenseCommand::ByQrcode { qr, city, audit } => {
            let request = ShareQueryCertInfoByQrcode::new(qr).interface_type(level(*city));
            let answer = ctx
                .audited(
                    PROVIDER,
                    "by-qrcode",
                    &request,
                    audit.cause.as_deref(),
                    client(ctx, audit)?.share_query_cert_info_by_qrcode(&request),
                )
                .await?;
            Ok(qr_output(answer))
        }
        ZzLicenseCommand::Verify {
            cert_type,
            holder_code,
            data,
            use_for,
            city,
            audit,
        } => {
            let request = ShareVerifyCertInfo::new(cert_type, data, use_for, holder_code)
                .interface_type(level(*city));
            let answer = ctx
                .audited(
                    PROVIDER,
                    "verify",
                    &request,
                    audit.cause.as_deref(),
                    client(ctx, audit)?.share_verify_cert_info(&request),
                )
                .await?;
            Ok(data_check_output(answer))
        }
        ZzLicenseCommand::VerifyFile {
            cert_type,
            file,
            use_cause,
            city,
            audit,
        } => {
            let request = ShareVerifyCertFile::from_path(cert_type, file, use_cause)?
                .interface_type(level(*city));
            let answer = ctx
                .audited(
                    PROVIDER,
                    "verify-file",
                    &request,
                    audit.cause.as_deref(),
                    client(ctx, audit)?.share_verify_cert_file(&request),
                )
                .await?;
            Ok(file_check_output(answer))
        }
        ZzLicenseCommand::DownloadUrl {
            certificate_id,
            expiry,
            audit,
        } => {
            let mut request = ShareDownloadUrl::new(certificate_id);
            if let Some(e) = expiry {
                request = request.expiry_time(e);
            }
            let answer = ctx
                .audited(
                    PROVIDER,
                    "download-url",
                    &request,
                    audit.cause.as_deref(),
                    client(ctx, audit)?.share_download_url(&request),
                )
                .await?;
            Ok(links_output(answer))
        }
        ZzLicenseCommand::Download {
            certificate_id,
            output,
            audit,
        } => download(ctx, audit, certificate_id, output).await,
    }
}

/// The audit context: environment, then flags (clap also reads the five main ones from
/// their variables); in sandbox mode, labelled demo values fill what is missing.
fn audit_context(ctx: &Context, args: &AuditArgs) -> Result<AuditContext, Error> {
    let mut audit = AuditContext::new();
    if let Some(v) = &args.system_name {
        audit = audit.system_name(v);
    }
    if let Some(v) = &args.call_category {
        let category: CallCategory = v
            .parse()
            .map_err(|reason: String| Error::invalid("call_category", reason))?;
        audit = audit.call_category(category);
    }
    if let Some(v) = &args.matter_name {
        audit = audit.matter_name(v);
    }
    if let Some(v) = &args.event_code {
        audit = audit.event_code(v);
    }
    if let Some(v) = &args.cause {
        audit = audit.copy_cause(v);
    }
    if let Some(v) = &args.district {
        audit = audit.district(v);
    }
    if let Some(v) = &args.department {
        audit = audit.department(v);
    }
    if let Some(v) = &args.district_level {
        audit = audit.district_level(v);
    }
    if ctx.sandbox.is_some() {
        let demo = AuditContext::new()
            .system_name("credkit sandbox")
            .call_category(CallCategory::NonMatter)
            .matter_name("credkit sandbox demo")
            .event_code("SANDBOX")
            .copy_cause("credkit sandbox demo call");
        audit = demo.merged(&audit);
    }
    audit.check()?;
    Ok(audit)
}

/// No audit flags (`cred serve`: the environment gives the context, each caller its
/// purpose).
pub(crate) fn no_audit_flags() -> AuditArgs {
    AuditArgs {
        system_name: None,
        matter_name: None,
        event_code: None,
        cause: None,
        call_category: None,
        district: None,
        department: None,
        district_level: None,
    }
}

/// A client for the sandbox (test account) or from `ZZ_LICENSE_*` variables.
pub(crate) fn client(ctx: &Context, args: &AuditArgs) -> Result<Client, Error> {
    use cred_sandbox::credentials as sc;
    let mut config = match &ctx.sandbox {
        Some(sandbox) => Config::new()
            .with_base_url(sandbox.zz_license_base_url())
            .with_username(sc::ZZ_LICENSE_USERNAME)
            .with_password(sc::ZZ_LICENSE_PASSWORD)
            .with_client_id(sc::ZZ_LICENSE_CLIENT_ID)
            .with_client_secret(sc::ZZ_LICENSE_CLIENT_SECRET),
        None => Config::from_env().map_err(|e| {
            crate::flags::missing_credentials(
                e,
                "ZZ_LICENSE_BASE_URL, ZZ_LICENSE_USERNAME, ZZ_LICENSE_PASSWORD, ZZ_LICENSE_CLIENT_ID, ZZ_LICENSE_CLIENT_SECRET",
            )
        })?,
    };
    if let Some(url) = &ctx.base_url {
        config = config.with_base_url(url.clone());
    }
    let audit = config
        .audit()
        .cloned()
        .unwrap_or_default()
        .merged(&audit_context(ctx, args)?);
    config = config.with_audit(audit);
    let account = format!(
        "{}|{}|{}",
        config.base_url().unwrap_or_default(),
        config.username().map(|u| u.expose()).unwrap_or_default(),
        config.client_id().unwrap_or_default()
    );
    let mut builder = ctx.configure(Client::builder().config(config), "zz-license", &account)?;
    if let Some(store) = ctx.token_store()? {
        builder = builder.token_store(store);
    }
    builder.build()
}

fn head<T>(title: &str, answer: &Answer<T>, found: String) -> Block {
    let meta = answer.meta();
    let mut b = Block::titled(format!("{title} ({} {})", meta.provider, meta.operation));
    match LicenceStatus::of(answer) {
        Some(status) => {
            b.row("found", status_line(status));
            if meta.message != status.description() && !meta.message.is_empty() {
                b.row("message", meta.message.as_str());
            }
        }
        None => {
            b.row("found", found);
            if !meta.message.is_empty() {
                b.row("message", meta.message.as_str());
            }
        }
    }
    b
}

/// `no: the licence is expired (证照已过期, status 22)`: an answer, not a failure.
fn status_line(status: LicenceStatus) -> String {
    format!(
        "no: the licence is {status} ({}, status {})",
        status.description(),
        status.code()
    )
}

fn finish<T: Serialize>(answer: Answer<T>, blocks: Vec<Block>) -> Output {
    let (result, meta) = answer.into_parts();
    Output::answer(meta, &result, blocks)
}

fn count(n: usize, what: &str) -> String {
    format!("yes, {n} {what}{}", if n == 1 { "" } else { "s" })
}

/// A readable label for a field the province answers carry beyond the documented ones
/// (pinyin abbreviations of the vendor's), its wire name kept.
fn field_label(key: &str) -> String {
    match key {
        "zzlx" => "证照类型 licence type (zzlx)".to_owned(),
        "zzmc" => "证照名称 licence name (zzmc)".to_owned(),
        "zzbh" => "证照编号 licence number (zzbh)".to_owned(),
        "fzjg" => "发证机构 issued by (fzjg)".to_owned(),
        "fzrq" => "发证日期 issued on (fzrq)".to_owned(),
        other => other.to_owned(),
    }
}

fn licences_output(title: &str, answer: Answer<Licences>) -> Output {
    let found = match answer.result() {
        Some(l) => format!(
            "{} ({} interface)",
            count(l.len(), "licence"),
            l.shape().as_str()
        ),
        None => "no (没有符合条件的证照)".to_owned(),
    };
    let mut blocks = vec![head(title, &answer, found)];
    match answer.result() {
        Some(Licences::Province { items, .. }) => {
            for (i, l) in items.iter().enumerate() {
                let mut b = Block::titled(format!("licence {}", i + 1));
                b.opt("证照标识 identifier", l.cert_identifier.as_deref())
                    .opt(
                        "持证人 holder",
                        l.name.as_deref().map(|n| Pii::Name.mask(n)),
                    )
                    .opt(
                        "身份号码 ID number",
                        l.gmsfhm
                            .as_deref()
                            .or(l.certno.as_deref())
                            .map(|n| Pii::IdNumber.mask(n)),
                    );
                for (k, v) in &l.fields {
                    b.row(
                        field_label(k),
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    );
                }
                blocks.push(b);
            }
        }
        Some(Licences::City { items, .. }) => {
            for (i, l) in items.iter().enumerate() {
                let mut b = Block::titled(format!("licence {}", i + 1));
                // Whole: it is what `download` and `download-url` take (it holds the
                // holder's ID number: treat the output as personal data).
                let identifier = l.fields.get("fileNumber").and_then(|v| v.as_str());
                b.opt("证照名称 name", l.certificate_name.as_deref())
                    .opt("证照标识 identifier", identifier)
                    .opt("证照编号 number", l.certificate_number.as_deref())
                    .opt(
                        "持证主体 holder",
                        l.certificate_holder.as_deref().map(|n| Pii::Name.mask(n)),
                    )
                    .opt(
                        "持证主体代码 holder code",
                        l.certificate_holder_code
                            .as_deref()
                            .map(|n| Pii::IdNumber.mask(n)),
                    )
                    .opt("颁发机构 issued by", l.issue_dept.as_deref())
                    .opt("颁发日期 issued on", l.issue_date.as_ref())
                    .opt("有效期起 valid from", l.valid_from.as_ref())
                    .opt("有效期至 valid until", l.valid_until.as_ref());
                blocks.push(b);
            }
        }
        _ => {}
    }
    finish(answer, blocks)
}

fn qr_output(answer: Answer<QrLicence>) -> Output {
    let found = match answer.result() {
        Some(q) => format!("yes ({} interface)", q.shape().as_str()),
        None => "no (没有符合条件的证照)".to_owned(),
    };
    let mut blocks = vec![head("二维码获取证照信息", &answer, found)];
    match answer.result() {
        Some(QrLicence::City { licence: l }) => {
            let mut b = Block::titled("licence");
            b.opt("证照名称 name", l.license_name.as_deref())
                .opt("证照标识 identifier", l.file_number.as_deref())
                .opt(
                    "持证人 holder",
                    l.holder.as_deref().map(|n| Pii::Name.mask(n)),
                )
                .opt("发证单位 issued by", l.issuer.as_deref())
                .opt("状态 state", l.state.as_deref())
                .opt("有效期起 valid from", l.valid_from.as_ref())
                .opt("有效期至 valid until", l.valid_until.as_ref());
            blocks.push(b);
        }
        Some(q @ QrLicence::Province { .. }) => {
            let mut b = Block::titled("licences");
            for id in q.identifiers() {
                b.row("证照标识 identifier", id);
            }
            blocks.push(b);
        }
        _ => {}
    }
    finish(answer, blocks)
}

fn data_check_output(answer: Answer<DataVerification>) -> Output {
    let found = match answer.result() {
        Some(v) => format!("yes ({} interface)", v.shape().as_str()),
        None => "no".to_owned(),
    };
    let mut blocks = vec![head("证照类型代码验证证照信息", &answer, found)];
    if let Some(v) = answer.result() {
        let outcome = v.outcome();
        let mut b = Block::titled("result");
        b.row(
            "校验结果 outcome",
            format!(
                "{} {}",
                if outcome.is_valid() { "✓" } else { "✗" },
                outcome.description()
            ),
        )
        .opt("说明 message", v.message());
        blocks.push(b);
    }
    finish(answer, blocks)
}

fn file_check_output(answer: Answer<FileVerification>) -> Output {
    let found = if answer.found() { "yes" } else { "no" }.to_owned();
    let mut blocks = vec![head("证照类型代码验证证照文件", &answer, found)];
    if let Some(v) = answer.result() {
        let mut b = Block::titled("result");
        match v.outcome() {
            Some(o) => {
                b.row(
                    "校验结果 outcome",
                    format!(
                        "{} {}",
                        if o.is_valid() { "✓" } else { "✗" },
                        o.description()
                    ),
                );
            }
            None => {
                b.row("校验结果 outcome", "not stated; the platform answered text");
            }
        }
        b.opt("说明 message", v.message.as_deref())
            .opt("data", v.text.as_deref());
        blocks.push(b);
    }
    finish(answer, blocks)
}

fn links_output(answer: Answer<DownloadLinks>) -> Output {
    let found = match answer.result() {
        Some(l) => format!(
            "{} ({} interface), valid about 10 minutes",
            count(l.len(), "link"),
            l.shape().as_str()
        ),
        None => "no".to_owned(),
    };
    let mut blocks = vec![head("证照标识获取下载地址", &answer, found)];
    if let Some(links) = answer.result() {
        let mut b = Block::titled("links");
        for url in links.urls() {
            b.row("下载地址 url", url);
        }
        b.opt("格式 format", links.announced_format());
        blocks.push(b);
    }
    finish(answer, blocks)
}

/// Asks a link, streams the file to `<output>.part`, renames it on success.
async fn download(
    ctx: &Context,
    args: &AuditArgs,
    certificate_id: &str,
    output: &Path,
) -> Result<Output, Error> {
    let request = ShareDownloadUrl::new(certificate_id);
    cred_core::ApiRequest::validate(&request)?;
    let client = client(ctx, args)?;
    let part = output.with_extension(match output.extension() {
        Some(e) => format!("{}.part", e.to_string_lossy()),
        None => "part".to_owned(),
    });
    let mut file = std::fs::File::create(&part)
        .map_err(|e| Error::invalid("output", format!("cannot create the file: {e}")))?;
    let result = ctx
        .audited(
            PROVIDER,
            "download",
            &request,
            args.cause.as_deref(),
            client.download_licence(&request, &mut file),
        )
        .await;
    let _ = file.flush();
    drop(file);
    let answer = match result {
        Ok(answer) => answer,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    let (downloaded, mut meta) = answer.into_parts();
    meta.operation = "download";
    let mut b = Block::titled("证照文件下载 (zz-license download)");
    let Some(d) = downloaded else {
        let _ = std::fs::remove_file(&part);
        match LicenceStatus::of_meta(&meta) {
            Some(status) => b.row("found", status_line(status)),
            None => b.row("found", "no download link (没有符合条件的证照)"),
        };
        return Ok(Output::answer::<Value>(meta, &None, vec![b]));
    };
    // The file was already fetched: a failure here is not "nothing was sent".
    std::fs::rename(&part, output).map_err(|e| {
        Error::io(
            zz_license_api::DOWNLOAD.site,
            format!("cannot move the downloaded file into place: {e}"),
        )
    })?;
    b.row("found", "yes")
        .row("format", d.format.to_string())
        .row("bytes", d.bytes.to_string())
        .row("written to", output.display().to_string());
    let result = json!({
        "format": d.format,
        "bytes": d.bytes,
        "content_type": d.content_type,
        "output": output.display().to_string(),
    });
    Ok(Output::answer(meta, &Some(result), vec![b]))
}

/// The 用证事由 a command gives (flag or variable): the purpose its calls are recorded
/// with in an audit ledger when `--purpose` is not given.
pub fn cause_of(command: &ZzLicenseCommand) -> Option<&str> {
    let audit = match command {
        ZzLicenseCommand::ByHolder { audit, .. }
        | ZzLicenseCommand::Info { audit, .. }
        | ZzLicenseCommand::ByQrcode { audit, .. }
        | ZzLicenseCommand::Verify { audit, .. }
        | ZzLicenseCommand::VerifyFile { audit, .. }
        | ZzLicenseCommand::DownloadUrl { audit, .. }
        | ZzLicenseCommand::Download { audit, .. } => audit,
    };
    audit.cause.as_deref().filter(|c| !c.trim().is_empty())
}
