//! `cred zhima ...`

use cred_core::{Answer, Error, Pii};
use zhima_api::{
    CertType, Client, Config, JobworthAuthentication, JobworthAuthenticationResult, QueryType,
};

use crate::cli::{self, ZhimaCommand};
use crate::context::Context;
use crate::output::{Block, Failure, Output};

const PROVIDER: &str = "zhima";

/// Runs a `cred zhima` command.
pub async fn run(ctx: &Context, command: &ZhimaCommand) -> Result<Output, Failure> {
    match command {
        ZhimaCommand::Jobworth {
            conn_key,
            once_token,
            query_type,
            identity_type,
            service_id,
            user_id,
            open_id,
            cert_no,
            cert_type,
            skip_reading_checks,
        } => {
            let mut q = JobworthAuthentication::new();
            if let Some(v) = conn_key {
                q = q.conn_key(v);
            }
            if let Some(v) = once_token {
                q = q.once_token(v);
            }
            if let Some(v) = query_type {
                q = q.query_type(match v {
                    cli::QueryType::Exact => QueryType::Exact,
                    cli::QueryType::Dim => QueryType::Dim,
                });
            }
            if let Some(v) = identity_type {
                q = q.identity_type(v);
            }
            if let Some(v) = service_id {
                q = q.service_id(v);
            }
            if let Some(v) = user_id {
                q = q.user_id(v);
            }
            if let Some(v) = open_id {
                q = q.open_id(v);
            }
            if let Some(v) = cert_no {
                q = q.cert_no(v);
            }
            if let Some(code) = cert_type.and_then(CertType::from_code) {
                q = q.cert_type(code);
            }
            jobworth(ctx, &q, *skip_reading_checks)
                .await
                .map_err(|e| Failure::of(PROVIDER, in_flags(e)))
        }
    }
}

/// The parameters' flags.
const FLAGS: &[crate::flags::Flag] = &[
    crate::flags::flag("once_token", "--once-token"),
    crate::flags::flag("user_id", "--user-id"),
    crate::flags::flag("open_id", "--open-id"),
    crate::flags::flag("cert_no", "--cert-no"),
    crate::flags::flag("cert_type", "--cert-type"),
    crate::flags::flag("conn_key", "--conn-key"),
    crate::flags::flag("query_type", "--query-type"),
    crate::flags::flag("identity_type", "--identity-type"),
    crate::flags::flag("service_id", "--service-id"),
];

/// A client for the sandbox (its published test keys) or from `ALIPAY_*` variables.
pub(crate) fn client(ctx: &Context) -> Result<Client, Error> {
    client_with(ctx, true)
}

/// [`client`], with credkit's reading of the jobworth document on or off.
fn client_with(ctx: &Context, reading_checks: bool) -> Result<Client, Error> {
    use cred_sandbox::credentials as sc;
    let mut config = match &ctx.sandbox {
        Some(sandbox) => Config::new()
            .with_app_id(sc::ALIPAY_APP_ID)
            .with_private_key(sc::ALIPAY_APP_PRIVATE_KEY)
            .with_alipay_public_key(sc::ALIPAY_PUBLIC_KEY)
            .with_base_url(sandbox.base_url()),
        None => Config::from_env().map_err(|e| {
            crate::flags::missing_credentials(
                e,
                "ALIPAY_APP_ID, ALIPAY_PRIVATE_KEY, ALIPAY_PUBLIC_KEY",
            )
        })?,
    };
    if let Some(url) = &ctx.base_url {
        config = config.with_base_url(url.clone());
    }
    let account = config.app_id().unwrap_or_default().to_owned();
    ctx.configure(
        Client::builder()
            .config(config)
            .reading_checks(reading_checks),
        "zhima",
        &account,
    )?
    .build()
}

async fn jobworth(
    ctx: &Context,
    query: &JobworthAuthentication,
    skip_reading_checks: bool,
) -> Result<Output, Error> {
    cred_core::ApiRequest::validate(query)?;
    let client = client_with(ctx, !skip_reading_checks)?;
    let answer = ctx
        .audited(
            "zhima",
            "jobworth",
            query,
            None,
            client.jobworth_authentication(query),
        )
        .await?;
    Ok(answer_output(answer))
}

/// An error in the command's words: flags, and the flag that turns the reading off.
fn in_flags(e: Error) -> Error {
    match crate::flags::name_flags(e, FLAGS) {
        Error::InvalidInput { field, reason, .. } => Error::invalid(
            field,
            reason.replace(
                "build the client with reading_checks(false)",
                "give --skip-reading-checks",
            ),
        ),
        other => other,
    }
}

fn answer_output(answer: Answer<JobworthAuthenticationResult>) -> Output {
    let (result, meta) = answer.into_parts();
    let mut head = Block::titled(format!(
        "职得身份认证查询 ({} {})",
        meta.provider, meta.operation
    ));
    let found = result.is_some();
    head.row("found", if found { "yes" } else { "no" })
        .row("charged", meta.charged.as_str())
        .opt("request id", meta.request_id.as_deref())
        .row("signature", "verified (alipay-signature)");
    let mut blocks = vec![head];
    if let Some(r) = &result {
        let mut b = Block::titled("result");
        if let Some(identity) = &r.identity_result {
            b.row(
                "认证结果 identity",
                match identity {
                    zhima_api::IdentityResult::Success => format!("✓ {identity}"),
                    zhima_api::IdentityResult::Failed => format!("✗ {identity}"),
                    zhima_api::IdentityResult::WaitingVerify => {
                        format!("… {identity} (not decided yet: ask again later)")
                    }
                    other => format!("? {other}"),
                },
            );
        }
        b.opt("token 状态 token status", r.token_status.as_deref())
            .opt(
                "商户身份 id merchant identity",
                r.merchant_identity_id.as_deref(),
            )
            .opt("user_id", r.user_id.as_deref().map(|v| Pii::Other.mask(v)))
            .opt("open_id", r.open_id.as_deref().map(|v| Pii::Other.mask(v)))
            .opt("结果页 result page", r.identity_result_skip_url.as_deref());
        blocks.push(b);
    }
    Output::answer(meta, &result, blocks)
}
