//! `cred juhe ...`

use cred_core::{Answer, Error};
use juhe_api::{
    AdministrativeLicense, AdministrativeLicenseListByName, AdministrativeLicenseResult, Client,
    ConLicByName, Config, Qualification, QualificationResult,
};

use crate::cli::JuheCommand;
use crate::context::Context;
use crate::output::{Block, Failure, Output};

const PROVIDER: &str = "juhe";

/// Runs a `cred juhe` command.
pub async fn run(ctx: &Context, command: &JuheCommand) -> Result<Output, Failure> {
    match command {
        JuheCommand::Qualification { name } => qualification(ctx, name).await,
        JuheCommand::AdministrativeLicense { name, skip } => administrative(ctx, name, *skip).await,
    }
    .map_err(|e| Failure::of(PROVIDER, crate::flags::name_flags(e, FLAGS)))
}

/// The parameters' flags.
const FLAGS: &[crate::flags::Flag] = &[
    crate::flags::flag("name", "--name"),
    crate::flags::flag("skip", "--skip"),
];

/// A client for the sandbox (test key) or from `JUHE_*` variables.
pub(crate) fn client(ctx: &Context) -> Result<Client, Error> {
    let mut config = match &ctx.sandbox {
        Some(sandbox) => Config::new()
            .with_key(cred_sandbox::credentials::JUHE_KEY)
            .with_base_url(sandbox.base_url()),
        None => Config::from_env().map_err(|e| crate::flags::missing_credentials(e, "JUHE_KEY"))?,
    };
    if let Some(url) = &ctx.base_url {
        config = config.with_base_url(url.clone());
    }
    // Juhe has only a key: it is hashed into the Redis key, never stored readable.
    let account = config
        .key()
        .map(|k| k.expose())
        .unwrap_or_default()
        .to_owned();
    ctx.configure(Client::builder().config(config), "juhe", &account)?
        .build()
}

async fn qualification(ctx: &Context, name: &str) -> Result<Output, Error> {
    let request = ConLicByName::new(name);
    cred_core::ApiRequest::validate(&request)?;
    let answer = ctx
        .audited(
            "juhe",
            "qualification",
            &request,
            None,
            client(ctx)?.con_lic_by_name(&request),
        )
        .await?;
    Ok(answer_output(answer))
}

async fn administrative(ctx: &Context, name: &str, skip: Option<i64>) -> Result<Output, Error> {
    let mut request = AdministrativeLicenseListByName::new(name);
    if let Some(n) = skip {
        request = request.skip(n);
    }
    cred_core::ApiRequest::validate(&request)?;
    let answer = ctx
        .audited(
            "juhe",
            "administrative-license",
            &request,
            None,
            client(ctx)?.administrative_license_list_by_name(&request),
        )
        .await?;
    Ok(administrative_output(answer))
}

fn administrative_output(answer: Answer<AdministrativeLicenseResult>) -> Output {
    let (result, meta) = answer.into_parts();
    let mut head = Block::titled(format!(
        "企业行政许可 ({} {})",
        meta.provider, meta.operation
    ));
    let count = result.as_ref().map_or(0, |r| r.items.len());
    head.row(
        "found",
        match &result {
            Some(_) => format!("yes, {count} licence{}", if count == 1 { "" } else { "s" }),
            None => "no (查询无结果)".to_owned(),
        },
    )
    .row("charged", meta.charged.as_str())
    .opt("total", result.as_ref().and_then(|r| r.total));
    let mut blocks = vec![head];
    if let Some(r) = &result {
        blocks.extend(
            r.items
                .iter()
                .enumerate()
                .map(|(i, l)| licence_block(i + 1, l)),
        );
    }
    Output::answer(meta, &result, blocks)
}

fn licence_block(n: usize, l: &AdministrativeLicense) -> Block {
    let mut b = Block::titled(format!("licence {n}"));
    b.opt("许可文件名称 name", l.name.as_deref())
        .opt("许可文件编号 number", l.number.as_deref())
        .opt("许可机关 issued by", l.department.as_deref())
        .opt("开始日期 valid from", l.start_date.as_ref())
        .opt("结束日期 valid until", l.end_date.as_ref())
        .opt("内容 content", l.content.as_deref())
        .opt(
            "公示 record",
            l.disabled.as_deref().map(|d| match d {
                "0" => "0 current (当前公示信息)".to_owned(),
                "1" => "1 historical (历史公示信息)".to_owned(),
                other => other.to_owned(),
            }),
        );
    b
}

fn answer_output(answer: Answer<QualificationResult>) -> Output {
    let (result, meta) = answer.into_parts();
    let mut head = Block::titled(format!(
        "企业工程资质资格查询 ({} {})",
        meta.provider, meta.operation
    ));
    let found = result.is_some();
    let count = result.as_ref().map_or(0, |r| r.items.len());
    head.row(
        "found",
        if found {
            format!(
                "yes, {count} qualification{}",
                if count == 1 { "" } else { "s" }
            )
        } else {
            "no (查询无结果)".to_owned()
        },
    )
    .row("charged", meta.charged.as_str())
    .opt("total", result.as_ref().and_then(|r| r.total));
    let mut blocks = vec![head];
    if let Some(r) = &result {
        blocks.extend(
            r.items
                .iter()
                .enumerate()
                .map(|(i, q)| qualification_block(i + 1, q)),
        );
    }
    Output::answer(meta, &result, blocks)
}

fn qualification_block(n: usize, q: &Qualification) -> Block {
    let mut b = Block::titled(format!("qualification {n}"));
    b.opt("资质类别 category", q.category.as_deref())
        .opt("证书编号 licence no", q.lic_no.as_deref());
    for name in &q.lic_name {
        b.row("资质名称 name", name.as_str());
    }
    b.opt("发证机关 issued by", q.issue_org.as_deref())
        .opt("发证日期 issued on", q.validity_start.as_ref())
        .opt("有效期至 valid until", q.validity_end.as_ref())
        .opt("资质范围 scope", q.lic_scope.as_deref())
        .opt("原文链接 source", q.url.as_deref())
        .opt("更新时间 updated", q.updated_time.as_ref());
    b
}
