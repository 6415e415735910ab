//! `cred jumdata ...`

use cred_core::{Answer, Error};
use jumdata_api::{
    CertificateItem, Client, Config, CredentialQuery, CredentialQueryResult, IdcardCheck,
    IdcardCheckResult,
};

use crate::cli::{CredentialArgs, JumdataCommand};
use crate::context::Context;
use crate::output::{Block, Failure, Output};

const PROVIDER: &str = "jumdata";

/// Runs a `cred jumdata` command.
pub async fn run(ctx: &Context, command: &JumdataCommand) -> Result<Output, Failure> {
    match command {
        JumdataCommand::Credential(args) => credential(ctx, args).await,
        JumdataCommand::Idcard { name, idcard } => idcard_check(ctx, name, idcard).await,
    }
    .map_err(|e| Failure::of(PROVIDER, crate::flags::name_flags(e, FLAGS)))
}

/// The parameters' flags.
const FLAGS: &[crate::flags::Flag] = &[
    crate::flags::flag("name", "--name"),
    crate::flags::flag("idcard", "--idcard"),
    crate::flags::flag("certificate_no", "--certificate-no"),
];

/// A client for the sandbox (test credentials) or from `JUMDATA_*` variables.
pub(crate) fn client(ctx: &Context) -> Result<Client, Error> {
    let mut config = match &ctx.sandbox {
        Some(sandbox) => Config::new()
            .with_app_id(cred_sandbox::credentials::JUMDATA_APP_ID)
            .with_app_secret(cred_sandbox::credentials::JUMDATA_APP_SECRET)
            .with_base_url(sandbox.base_url()),
        None => Config::from_env().map_err(|e| {
            crate::flags::missing_credentials(e, "JUMDATA_APP_ID and JUMDATA_APP_SECRET")
        })?,
    };
    if let Some(url) = &ctx.base_url {
        config = config.with_base_url(url.clone());
    }
    let account = config.app_id().unwrap_or_default().to_owned();
    ctx.configure(Client::builder().config(config), "jumdata", &account)?
        .build()
}

async fn credential(ctx: &Context, args: &CredentialArgs) -> Result<Output, Error> {
    let mut request = CredentialQuery::new(&args.name, &args.idcard);
    if let Some(no) = &args.certificate_no {
        request = request.certificate_no(no);
    }
    // Validate before building the client: a typo is reported even without credentials.
    cred_core::ApiRequest::validate(&request)?;
    let answer = ctx
        .audited(
            PROVIDER,
            "credential",
            &request,
            None,
            client(ctx)?.credential_query(&request),
        )
        .await?;
    Ok(answer_output(answer))
}

async fn idcard_check(ctx: &Context, name: &str, idcard: &str) -> Result<Output, Error> {
    let request = IdcardCheck::new(name, idcard);
    cred_core::ApiRequest::validate(&request)?;
    let answer = ctx
        .audited(
            PROVIDER,
            "idcard",
            &request,
            None,
            client(ctx)?.idcard_check(&request),
        )
        .await?;
    Ok(idcard_output(answer))
}

fn idcard_output(answer: Answer<IdcardCheckResult>) -> Output {
    let (result, meta) = answer.into_parts();
    let mut head = Block::titled(format!(
        "身份证实名核验 ({} {})",
        meta.provider, meta.operation
    ));
    head.row(
        "found",
        if result.is_some() {
            "yes"
        } else {
            "no (查无记录)"
        },
    )
    .row("charged", meta.charged.as_str())
    .opt("request id", meta.request_id.as_deref());
    let mut blocks = vec![head];
    if let Some(r) = &result {
        let mut b = Block::titled("result");
        b.opt(
            "核验结果 result",
            r.result.map(|code| match code {
                0 => "✓ 0 一致 (name and ID number belong together)".to_owned(),
                1 => "✗ 1 不一致 (they do not)".to_owned(),
                2 => "? 2 无记录 (no such ID number)".to_owned(),
                other => other.to_string(),
            }),
        )
        .opt("描述 description", r.desc.as_deref())
        .opt("性别 sex", r.sex.as_deref());
        blocks.push(b);
    }
    Output::answer(meta, &result, blocks)
}

fn answer_output(answer: Answer<CredentialQueryResult>) -> Output {
    let (result, meta) = answer.into_parts();
    let mut head = Block::titled(format!(
        "职业资格证书查询 ({} {})",
        meta.provider, meta.operation
    ));
    let found = result.is_some();
    let count = result.as_ref().map_or(0, |r| r.items.len());
    head.row(
        "found",
        if found {
            format!(
                "yes, {count} certificate{}",
                if count == 1 { "" } else { "s" }
            )
        } else {
            "no (查无记录)".to_owned()
        },
    )
    .row("charged", meta.charged.as_str())
    .opt("request id", meta.request_id.as_deref());
    let mut blocks = vec![head];
    if let Some(r) = &result {
        blocks.extend(
            r.items
                .iter()
                .enumerate()
                .map(|(i, c)| certificate_block(i + 1, c)),
        );
    }
    Output::answer(meta, &result, blocks)
}

fn certificate_block(n: usize, c: &CertificateItem) -> Block {
    let mut b = Block::titled(format!("certificate {n}"));
    b.opt("职业名称 occupation", c.occupation.as_deref())
        .opt(
            "证书类型 type",
            c.qua_type.map(|t| match t {
                1 => "1 国家职业资格证书".to_owned(),
                other => other.to_string(),
            }),
        )
        .opt("级别 level", c.qua_level.as_deref())
        .opt("证书编号 certificate no", c.certificate_no.as_deref())
        .opt("鉴定机构 assessed by", c.mechanism_name.as_deref())
        .opt("上报单位 reported by", c.reporting_unit.as_deref())
        .opt("上报时间 reported on", c.reporting_time.as_ref())
        .opt("发证日期 issued on", c.issuing_time.as_ref())
        .opt("文化程度 education", c.education_level.as_deref())
        .opt("评定成绩 result", c.scores.as_deref())
        .opt("理论成绩 theory score", c.theory_scores.as_deref())
        .opt("操作成绩 practical score", c.operation_scores.as_deref());
    b
}
