//! From a checked body to the SDK call: the same requests `cred` and `cred batch` build,
//! validated before anything is sent, then sent (and recorded in the audit ledger) by a
//! future that owns everything it needs, so it can run to its end on its own even when
//! the caller goes away.

use std::future::Future;
use std::pin::Pin;

use cred_core::{Answer, ApiRequest, Error, ResponseMeta};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::catalogue::Operation;
use crate::fields::Fields;

/// The provider clients the gateway calls through (each optional: a provider without
/// credentials is simply not offered).
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct Clients {
    /// Jumdata.
    pub jumdata: Option<jumdata_api::Client>,
    /// Juhe.
    pub juhe: Option<juhe_api::Client>,
    /// The Zaozhuang licence platform.
    pub zz_license: Option<zz_license_api::Client>,
    /// Alipay Zhima.
    pub zhima: Option<zhima_api::Client>,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients")
            .field("jumdata", &self.jumdata.is_some())
            .field("juhe", &self.juhe.is_some())
            .field("zz_license", &self.zz_license.is_some())
            .field("zhima", &self.zhima.is_some())
            .finish()
    }
}

impl Clients {
    /// Whether `provider` has a client.
    pub fn has(&self, provider: &str) -> bool {
        match provider {
            "jumdata" => self.jumdata.is_some(),
            "juhe" => self.juhe.is_some(),
            "zz-license" => self.zz_license.is_some(),
            "zhima" => self.zhima.is_some(),
            _ => false,
        }
    }

    /// The providers with a client.
    pub fn providers(&self) -> Vec<&'static str> {
        ["jumdata", "juhe", "zz-license", "zhima"]
            .into_iter()
            .filter(|p| self.has(p))
            .collect()
    }
}

/// A licence file (`zz-license download`).
#[derive(Debug)]
pub(crate) struct File {
    pub body: FileBody,
    pub content_type: String,
    pub extension: &'static str,
}

/// A file's bytes: whole (a download with an `Idempotency-Key`, kept for its replay),
/// or streamed to the caller as they arrive.
pub(crate) enum FileBody {
    Whole(Vec<u8>),
    Stream(axum::body::Body),
}

impl std::fmt::Debug for FileBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileBody::Whole(b) => write!(f, "Whole({} bytes)", b.len()),
            FileBody::Stream(_) => f.write_str("Stream"),
        }
    }
}

fn media_type(format: zz_license_api::FileFormat) -> &'static str {
    // By what the bytes are, not by what the platform's header said.
    match format {
        zz_license_api::FileFormat::Pdf => "application/pdf",
        zz_license_api::FileFormat::Ofd => "application/ofd",
        _ => "application/octet-stream",
    }
}

/// A provider's answer, as the gateway sends it.
#[derive(Debug)]
pub(crate) struct Done {
    pub meta: ResponseMeta,
    pub found: bool,
    pub licence_status: Option<&'static str>,
    /// The typed result as JSON (`null` when nothing was found).
    pub result: Box<RawValue>,
    /// The file, for a download that found one.
    pub file: Option<File>,
}

impl Done {
    fn of<T: Serialize>(answer: Answer<T>) -> Done {
        let licence_status =
            zz_license_api::LicenceStatus::of_meta(answer.meta()).map(|s| s.as_str());
        let (result, meta) = answer.into_parts();
        let json = raw_json(&result);
        Done {
            meta,
            found: result.is_some(),
            licence_status,
            result: json,
            file: None,
        }
    }
}

/// `value` as JSON kept verbatim (`null` if it cannot be encoded).
fn raw_json<T: Serialize + ?Sized>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value)
        .unwrap_or_else(|_| serde_json::value::to_raw_value(&()).unwrap_or_default())
}

/// Who asks and why, for the ledger.
#[derive(Clone)]
pub(crate) struct Audit {
    pub ledger: Option<cred_ledger::Ledger>,
    pub caller: String,
    pub purpose: Option<String>,
    pub idempotency_key: Option<String>,
}

/// The outcome of a call, and whether its audit record was written.
pub(crate) type Outcome = (Result<Done, Error>, Result<(), String>);

/// A call ready to be sent.
pub(crate) type Pending = Pin<Box<dyn Future<Output = Outcome> + Send + 'static>>;

impl Audit {
    /// Makes `call` and, with a ledger, records it (who, why, about whom, the
    /// idempotency key as its keyed HMAC); a ledger that no longer writes refuses the
    /// call before it is made.
    async fn record<R, T, F>(
        &self,
        provider: &str,
        operation: &str,
        request: &R,
        call: F,
    ) -> (Result<Answer<T>, Error>, Result<(), String>)
    where
        R: ApiRequest,
        F: Future<Output = Result<Answer<T>, Error>>,
    {
        let Some(ledger) = &self.ledger else {
            return (call.await, Ok(()));
        };
        if let Err(e) = ledger.check_writable() {
            return (
                Err(Error::config(format!(
                    "the audit ledger cannot be written, so the call was not made: {e}"
                ))),
                Err(e.to_string()),
            );
        }
        let started = std::time::Instant::now();
        let result = call.await;
        let entry = cred_ledger::Entry::of_result(&self.caller, provider, operation, &result)
            .purpose(self.purpose.as_deref())
            .latency(started.elapsed())
            .idempotency_key(self.idempotency_key.as_deref())
            .about(request);
        let recorded = ledger
            .record(entry)
            .committed()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
        (result, recorded)
    }

    async fn run<R, T, F>(self, provider: &str, operation: &str, request: &R, call: F) -> Outcome
    where
        R: ApiRequest,
        T: Serialize,
        F: Future<Output = Result<Answer<T>, Error>>,
    {
        let (result, recorded) = self.record(provider, operation, request, call).await;
        (result.map(Done::of), recorded)
    }
}

fn missing(provider: &str) -> Error {
    Error::config(format!(
        "{provider} is not configured on this gateway (its credentials were not loaded)"
    ))
}

/// `request` validated, then a future that sends it through `client.$method`.
macro_rules! send {
    ($audit:expr, $op:expr, $client:expr, $request:expr, $method:ident) => {{
        let request = $request;
        ApiRequest::validate(&request)?;
        let client = $client;
        let audit = $audit;
        let op: &'static Operation = $op;
        Box::pin(async move {
            audit
                .run(op.provider, op.name, &request, client.$method(&request))
                .await
        }) as Pending
    }};
}

/// Builds and validates `op`'s request from `fields`; the returned future sends it.
/// Every error here is before anything is sent.
pub(crate) fn prepare(
    op: &'static Operation,
    fields: &Fields,
    clients: &Clients,
    audit: Audit,
) -> Result<Pending, Error> {
    use crate::requests as r;
    match (op.provider, op.name) {
        ("jumdata", name) => {
            let client = clients
                .jumdata
                .clone()
                .ok_or_else(|| missing(op.provider))?;
            Ok(if name == "credential" {
                send!(
                    audit,
                    op,
                    client,
                    r::jumdata_credential(fields),
                    credential_query
                )
            } else {
                send!(audit, op, client, r::jumdata_idcard(fields), idcard_check)
            })
        }
        ("juhe", name) => {
            let client = clients.juhe.clone().ok_or_else(|| missing(op.provider))?;
            Ok(if name == "administrative-license" {
                let q = r::juhe_administrative_license(fields)?;
                send!(audit, op, client, q, administrative_license_list_by_name)
            } else {
                send!(
                    audit,
                    op,
                    client,
                    r::juhe_qualification(fields),
                    con_lic_by_name
                )
            })
        }
        ("zz-license", _) => zz_license(op, fields, clients, audit),
        ("zhima", _) => {
            let client = clients.zhima.clone().ok_or_else(|| missing(op.provider))?;
            let q = r::zhima_jobworth(fields)?;
            zhima_api::check_reading(&q)?;
            Ok(send!(audit, op, client, q, jobworth_authentication))
        }
        _ => Err(Error::config(format!(
            "{} {} is not offered",
            op.provider, op.name
        ))),
    }
}

fn zz_license(
    op: &'static Operation,
    fields: &Fields,
    clients: &Clients,
    audit: Audit,
) -> Result<Pending, Error> {
    use crate::requests as r;
    use zz_license_api::AuditContext;
    let base = clients
        .zz_license
        .as_ref()
        .ok_or_else(|| missing(op.provider))?;
    // The purpose the caller gave is the platform's 用证事由 (certificateCopyCause).
    let client = match &audit.purpose {
        Some(p) => base.with_audit(&AuditContext::new().copy_cause(p)),
        None => base.clone(),
    };
    client.audit().check_complete()?;
    let city = fields.flag("city");
    Ok(match op.name {
        "by-holder" => send!(
            audit,
            op,
            client,
            r::zz_by_holder(fields, city)?,
            share_query_cert_info_by_holder_code
        ),
        "info" => send!(
            audit,
            op,
            client,
            r::zz_info(fields, city)?,
            share_query_cert_info
        ),
        "by-qrcode" => send!(
            audit,
            op,
            client,
            r::zz_by_qrcode(fields, city)?,
            share_query_cert_info_by_qrcode
        ),
        "verify" => send!(
            audit,
            op,
            client,
            r::zz_verify(fields, city)?,
            share_verify_cert_info
        ),
        "verify-file" => send!(
            audit,
            op,
            client,
            r::zz_verify_file(fields, city)?,
            share_verify_cert_file
        ),
        "download-url" => send!(
            audit,
            op,
            client,
            r::zz_download_url(fields)?,
            share_download_url
        ),
        "download" => {
            let q = r::zz_download_url(fields)?;
            ApiRequest::validate(&q)?;
            if audit.idempotency_key.is_some() {
                Box::pin(download(client, q, audit, op)) as Pending
            } else {
                Box::pin(download_streamed(client, q, audit, op)) as Pending
            }
        }
        other => return Err(Error::config(format!("zz-license {other} is not offered"))),
    })
}

/// The SDK's sink for a streamed file: each piece goes to the caller as it arrives; a
/// caller that went away stops the download.
struct Chunks(tokio::sync::mpsc::UnboundedSender<bytes::Bytes>);

impl std::io::Write for Chunks {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .send(bytes::Bytes::copy_from_slice(buf))
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the caller went away")
            })?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A failure after the link was given (and possibly charged): the file could not be
/// fetched. It carries the link request's charge and request id.
fn after_link(error: &Error, meta: &ResponseMeta) -> Error {
    let kind = match error {
        // A link that cannot be followed is the platform's answer being unusable.
        Error::InvalidInput { .. } => cred_core::ErrorKind::Unknown,
        other => other.kind(),
    };
    Error::from(cred_core::ProviderError::new(
        zz_license_api::DOWNLOAD.site,
        "download-failed",
        format!("the platform gave a download link, but the file could not be fetched: {error}"),
        kind,
        meta.charged,
        meta.request_id.clone(),
    ))
}

/// The link (recorded in the ledger: it is the paid call), then the file, streamed to
/// the caller as it arrives: the answer starts with the first bytes (its type and
/// billing known by then); a failure before them is a JSON error, one after them cuts
/// the transfer (the chunked body never ends cleanly), so a cut file is never taken for
/// a whole one. The download rules are the SDK's (`Client::download`: the token only to
/// the platform itself, the size cap, an HTML or JSON answer refused).
async fn download_streamed(
    client: zz_license_api::Client,
    request: zz_license_api::ShareDownloadUrl,
    audit: Audit,
    op: &'static Operation,
) -> Outcome {
    let (links, recorded) = audit
        .record(
            op.provider,
            op.name,
            &request,
            client.share_download_url(&request),
        )
        .await;
    let answer = match links {
        Ok(a) => a,
        Err(e) => return (Err(e), recorded),
    };
    let (links, mut meta) = answer.into_parts();
    meta.operation = "download";
    let licence_status = zz_license_api::LicenceStatus::of_meta(&meta).map(|s| s.as_str());
    let Some(url) = links
        .as_ref()
        .and_then(|l| l.first_url())
        .map(str::to_owned)
    else {
        let done = Done {
            meta,
            found: false,
            licence_status,
            result: raw_json(&()),
            file: None,
        };
        return (Ok(done), recorded);
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let link = url.clone();
    let fetch = tokio::spawn(async move { client.download(&link, &mut Chunks(tx)).await });
    let Some(first) = rx.recv().await else {
        // Ended before its first byte: refused (an expired link's HTML page, ...).
        let error = match fetch.await {
            Ok(Err(e)) => e,
            Ok(Ok(_)) => Error::decode(
                zz_license_api::DOWNLOAD.site,
                "the platform's file was empty",
                String::new(),
            ),
            Err(_) => Error::config("the download stopped inside the gateway"),
        };
        return (Err(after_link(&error, &meta)), recorded);
    };
    let format = zz_license_api::FileFormat::detect(&first, None, &url);
    let (mut sender, body) =
        http_body_util::channel::Channel::<bytes::Bytes, std::io::Error>::new(8);
    tokio::spawn(async move {
        let mut next = Some(first);
        while let Some(chunk) = next {
            if sender.send_data(chunk).await.is_err() {
                return; // the caller went away: dropping `rx` stops the download
            }
            next = rx.recv().await;
        }
        let failed = match fetch.await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("the download stopped inside the gateway".to_owned()),
        };
        if let Some(why) = failed {
            tracing::warn!(target: "cred_gateway", "a streamed licence file was cut: {why}");
            sender.abort(std::io::Error::other(why));
        }
    });
    let result = raw_json(&serde_json::json!({"format": format}));
    let done = Done {
        meta,
        found: true,
        licence_status,
        result,
        file: Some(File {
            content_type: media_type(format).to_owned(),
            extension: format.extension(),
            body: FileBody::Stream(axum::body::Body::new(body)),
        }),
    };
    (Ok(done), recorded)
}

/// The link, then the file, held whole (at most the client's download cap) so that a
/// caller never takes a cut file for a whole one: it is sent with its length, or not at
/// all. With an `Idempotency-Key`: the answer is stored for the key's replay.
async fn download(
    client: zz_license_api::Client,
    request: zz_license_api::ShareDownloadUrl,
    audit: Audit,
    op: &'static Operation,
) -> Outcome {
    let mut sink: Vec<u8> = Vec::new();
    let (result, recorded) = audit
        .record(
            op.provider,
            op.name,
            &request,
            client.download_licence(&request, &mut sink),
        )
        .await;
    let result = result.map(|answer| {
        let (downloaded, mut meta) = answer.into_parts();
        meta.operation = "download";
        let licence_status = zz_license_api::LicenceStatus::of_meta(&meta).map(|s| s.as_str());
        let info = downloaded.as_ref().map(|d| {
            serde_json::json!({
                "format": d.format,
                "bytes": d.bytes,
                "content_type": d.content_type,
            })
        });
        let result = raw_json(&info);
        Done {
            meta,
            found: downloaded.is_some(),
            licence_status,
            result,
            file: downloaded.map(|d| File {
                content_type: media_type(d.format).to_owned(),
                extension: d.format.extension(),
                body: FileBody::Whole(std::mem::take(&mut sink)),
            }),
        }
    });
    (result, recorded)
}
