//! The Alipay v3 authorizer: builds the query or body once, signs exactly those bytes,
//! sets the v3 headers; on the way back verifies the response signature (on by
//! default), checks the certificate SN, transcodes declared charsets, decrypts, and
//! explains a refused request signature.

use std::fmt;

use async_trait::async_trait;
use cred_core::{
    Authorizer, Encoding, Endpoint, Error, Method, OutgoingRequest, RawResponse, Redactor, Secret,
};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};

use crate::cert::CertSns;
use crate::crypto::EncryptKey;
use crate::keys::{AlipayPublicKey, AppKey};
use crate::signer;

/// Signs requests and checks responses for one Alipay app.
pub(crate) struct AlipayAuth {
    pub(crate) app_id: String,
    pub(crate) key: AppKey,
    /// `None` only when verification was switched off explicitly.
    pub(crate) alipay_key: Option<AlipayPublicKey>,
    pub(crate) encrypt: Option<EncryptKey>,
    pub(crate) certs: Option<CertSns>,
    pub(crate) app_auth_token: Option<Secret>,
    /// How far a signed answer's `alipay-timestamp` may be from the local clock.
    pub(crate) freshness: Option<std::time::Duration>,
}

impl fmt::Debug for AlipayAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlipayAuth")
            .field("app_id", &self.app_id)
            .field("key", &self.key)
            .field("alipay_key", &self.alipay_key)
            .field("verify_responses", &self.alipay_key.is_some())
            .field("encrypt", &self.encrypt.is_some())
            .field("cert_mode", &self.certs.is_some())
            .field("response_time_window", &self.freshness)
            .field(
                "app_auth_token",
                &self.app_auth_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

fn header(value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value).map_err(|_| Error::config("a header value is not visible ASCII"))
}

fn short_digest(bytes: &[u8]) -> String {
    crate::digest_hex(bytes)[..16].to_owned()
}

impl AlipayAuth {
    fn signature_error(&self, endpoint: &'static Endpoint, message: String) -> Error {
        Error::signature(endpoint.site, message)
    }

    /// Verifies the response signature headers over `timestamp\nnonce\nbody\n`.
    fn verify(
        &self,
        endpoint: &'static Endpoint,
        key: &AlipayPublicKey,
        response: &RawResponse,
        trace: &str,
        redactor: &Redactor<'_>,
    ) -> Result<(), Error> {
        let timestamp = response.header("alipay-timestamp");
        let nonce = response.header("alipay-nonce");
        let signature = response.header("alipay-signature");
        let (Some(timestamp), Some(nonce), Some(signature)) = (timestamp, nonce, signature) else {
            if !response.is_success() {
                return Ok(()); // gateway errors may come unsigned; they carry no data
            }
            let missing: Vec<&str> = [
                ("alipay-timestamp", timestamp),
                ("alipay-nonce", nonce),
                ("alipay-signature", signature),
            ]
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
            return Err(self.signature_error(
                endpoint,
                format!(
                    "HTTP {} answer without {}{trace}: not trusted as data (response verification is on)",
                    response.status,
                    missing.join(", ")
                ),
            ));
        };
        let mut content =
            Vec::with_capacity(timestamp.len() + nonce.len() + response.body.len() + 3);
        for part in [timestamp.as_bytes(), nonce.as_bytes(), &response.body[..]] {
            content.extend_from_slice(part);
            content.push(b'\n');
        }
        if key.verify(&content, signature) {
            return self.check_freshness(endpoint, timestamp, trace);
        }
        Err(self.signature_error(
            endpoint,
            format!(
                "the response signature does not verify with the Alipay public key {} (verified: alipay-timestamp {}, alipay-nonce, body of {} bytes with sha256 {}){trace}; check that ALIPAY_PUBLIC_KEY is the 支付宝公钥 of app {}, not another app's, and that nothing between you and Alipay rewrites responses",
                key.fingerprint(),
                redactor.identifier(timestamp),
                response.body.len(),
                short_digest(&response.body),
                self.app_id,
            ),
        ))
    }
}

impl AlipayAuth {
    /// Refuses a correctly signed answer whose `alipay-timestamp` (milliseconds since
    /// the epoch) is outside the window: a replayed answer, or a wrong local clock.
    fn check_freshness(
        &self,
        endpoint: &'static Endpoint,
        timestamp: &str,
        trace: &str,
    ) -> Result<(), Error> {
        let Some(window) = self.freshness else {
            return Ok(());
        };
        let Ok(stamp) = timestamp.trim().parse::<u64>() else {
            return Err(self.signature_error(
                endpoint,
                format!(
                    "the answer's alipay-timestamp is not a number of milliseconds{trace}: freshness cannot be checked (ClientBuilder::response_time_window(None) turns the check off)"
                ),
            ));
        };
        let now = cred_core::now_millis();
        let skew_ms = now.abs_diff(stamp);
        if u128::from(skew_ms) <= window.as_millis() {
            return Ok(());
        }
        let direction = if stamp < now {
            "older than"
        } else {
            "ahead of"
        };
        Err(self.signature_error(
            endpoint,
            format!(
                "the answer is signed correctly but its alipay-timestamp is {} {direction} this machine's clock, outside the accepted window of ±{}{trace}: a replayed or delayed answer, or a wrong clock here (check NTP; ClientBuilder::response_time_window widens or turns off the check)",
                describe_duration(skew_ms),
                describe_duration(window.as_millis().min(u128::from(u64::MAX)) as u64),
            ),
        ))
    }
}

/// `1 d 3 h`, `14 min 5 s`, `850 ms`: a skew in words.
fn describe_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        3600..86400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86400, (s % 86400) / 3600),
    }
}

/// Transcodes a body declared in a non-UTF-8 charset (some gateways answer GBK).
fn transcode(response: &mut RawResponse) {
    let Some(charset) = response.header("content-type").and_then(|ct| {
        ct.split(';')
            .filter_map(|p| p.trim().strip_prefix("charset="))
            .next()
            .map(|c| c.trim_matches('"').to_owned())
    }) else {
        return;
    };
    let Some(encoding) = encoding_rs::Encoding::for_label(charset.as_bytes()) else {
        return;
    };
    if encoding == encoding_rs::UTF_8 {
        return;
    }
    let (text, _, _) = encoding.decode(&response.body);
    response.body = bytes::Bytes::from(text.into_owned());
}

impl AlipayAuth {
    /// Signs `request` (and encrypts its body when content encryption is on): all of
    /// it without waiting.
    fn sign_request(&self, request: &mut OutgoingRequest) -> Result<(), Error> {
        let endpoint = request.endpoint;
        let params = std::mem::take(&mut request.params);
        let in_query = endpoint.method == Method::Get || endpoint.encoding == Encoding::Query;
        let mut body = String::new();
        if in_query {
            let query = signer::encode_query(
                &params
                    .iter()
                    .map(|(k, v)| (*k, v.clone()))
                    .collect::<Vec<_>>(),
            );
            request
                .url
                .set_query((!query.is_empty()).then_some(query.as_str()));
        } else {
            body = cred_core::transport::json_object(&params);
        }
        let mut content_type = "application/json";
        if let Some(key) = &self.encrypt {
            request.headers.insert(
                HeaderName::from_static("alipay-encrypt-type"),
                HeaderValue::from_static("AES"),
            );
            if !body.is_empty() {
                body = key.encrypt(body.as_bytes())?;
                content_type = "text/plain";
            }
        }
        let mut path_and_query = request.url.path().to_owned();
        if let Some(q) = request.url.query() {
            path_and_query.push('?');
            path_and_query.push_str(q);
        }
        let nonce = signer::nonce();
        let auth = signer::auth_string(
            &self.app_id,
            self.certs.as_ref().map(|c| c.app.as_str()),
            &nonce,
            cred_core::now_millis(),
        );
        let token = self.app_auth_token.as_ref().map(|t| t.expose());
        let authorization = signer::sign_request(
            &self.key,
            &auth,
            endpoint.method.as_str(),
            &path_and_query,
            &body,
            token,
        )?;
        let mut value = header(&authorization)?;
        value.set_sensitive(true);
        let h = &mut request.headers;
        h.insert(AUTHORIZATION, value);
        h.insert(
            HeaderName::from_static("alipay-request-id"),
            header(&signer::nonce())?,
        );
        h.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(token) = token {
            let mut v = header(token)?;
            v.set_sensitive(true);
            h.insert(HeaderName::from_static("alipay-app-auth-token"), v);
        }
        if let Some(certs) = &self.certs {
            h.insert(
                HeaderName::from_static("alipay-root-cert-sn"),
                header(&certs.root)?,
            );
        }
        request.signed = Some(format!(
            "signed {} {path_and_query} with a body of {} bytes (sha256 {}) using app key {}{}",
            endpoint.method.as_str(),
            body.len(),
            short_digest(body.as_bytes()),
            self.key.fingerprint(),
            self.certs
                .as_ref()
                .map(|c| format!(" and app_cert_sn {}", c.app))
                .unwrap_or_default(),
        ));
        if endpoint.method != Method::Get {
            h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            request.body = Some(bytes::Bytes::from(body));
        }
        Ok(())
    }
}

#[async_trait]
impl Authorizer for AlipayAuth {
    async fn authorize(&self, request: &mut OutgoingRequest) -> Result<(), Error> {
        self.sign_request(request)
    }

    fn authorize_now(&self, request: &mut OutgoingRequest) -> Option<Result<(), Error>> {
        Some(self.sign_request(request))
    }

    fn secret_fields(&self) -> &'static [&'static str] {
        &["sign"]
    }

    fn register_secrets<'a>(&'a self, redactor: &mut Redactor<'a>) {
        if let Some(t) = &self.app_auth_token {
            redactor.secret(t.expose());
        }
    }

    fn check_response(
        &self,
        endpoint: &'static Endpoint,
        signed: Option<&str>,
        response: &mut RawResponse,
        redactor: &Redactor<'_>,
    ) -> Result<(), Error> {
        // Header text is provider bytes: redacted like any other.
        let trace = response
            .header("alipay-trace-id")
            .map(|t| format!(" [trace id {}]", redactor.identifier(t)))
            .unwrap_or_default();
        if let Some(key) = &self.alipay_key {
            // Nothing personal in these messages (headers, digests, fingerprints).
            self.verify(endpoint, key, response, &trace, redactor)?;
            if let Some(certs) = &self.certs
                && response.is_success()
            {
                let sn = redactor.identifier(response.header("alipay-sn").unwrap_or(""));
                if sn != certs.alipay {
                    return Err(self.signature_error(
                        endpoint,
                        format!(
                            "the response names Alipay certificate SN `{sn}`, the configured Alipay certificate is `{}`{trace}; Alipay may have rotated its certificate: download the new 支付宝公钥证书",
                            certs.alipay
                        ),
                    ));
                }
            }
        }
        transcode(response);
        if response.is_success() {
            let looks_json = matches!(response.body.trim_ascii_start().first(), Some(b'{' | b'['));
            if !looks_json && !response.body.trim_ascii().is_empty() {
                if let Some(key) = &self.encrypt {
                    let plain = key.decrypt(&response.body).ok_or_else(|| Error::decode(endpoint.site, format!(
                            "the encrypted answer does not decrypt with ALIPAY_ENCRYPT_KEY{trace}"
                        ), String::new()))?;
                    response.body = plain.into();
                } else if response.header("alipay-encrypt-type").is_some() {
                    return Err(Error::config(format!(
                        "the answer is encrypted (alipay-encrypt-type){trace}: set ALIPAY_ENCRYPT_KEY to the app's 接口内容加密密钥"
                    )));
                }
            }
            return Ok(());
        }
        let code = serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|v| v.get("code")?.as_str().map(str::to_owned));
        if code.as_deref() == Some("invalid-signature") {
            let message = format!(
                "the gateway refused the request signature (invalid-signature){trace}: {}; check that ALIPAY_PRIVATE_KEY is the key whose public half (应用公钥) is set for app {}, and that ALIPAY_APP_ID is right",
                // The query may hold personal data: masked.
                signed.map_or_else(|| "no signing record".to_owned(), |s| redactor.redact(s)),
                self.app_id
            );
            return Err(self.signature_error(endpoint, message));
        }
        Ok(())
    }
}
