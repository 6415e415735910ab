//! The hook through which each provider signs or authorises a request.

use std::fmt;

use async_trait::async_trait;
use http::HeaderMap;

use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::mask::Redactor;
use crate::transport::RawResponse;

/// A request about to be sent, as the auth hook sees it (built by the pipeline; the
/// hook changes its fields).
#[derive(Clone)]
#[non_exhaustive]
pub struct OutgoingRequest {
    /// The endpoint being called.
    pub endpoint: &'static Endpoint,
    /// Full URL (base + path), without the parameters of [`OutgoingRequest::params`].
    pub url: url::Url,
    /// Extra headers.
    pub headers: HeaderMap,
    /// Wire parameters in order; where they go depends on the endpoint's encoding.
    pub params: Vec<(&'static str, String)>,
    /// Raw body for JSON endpoints. When it is `None`, the parameters of a JSON endpoint
    /// travel as a JSON object of strings; when it is set, they go to the query string.
    pub body: Option<bytes::Bytes>,
    /// Which credential (for example which cached token) the authorizer used; handed back
    /// to [`Authorizer::invalidate`] when the provider rejects it. `0` when unused.
    pub credential: u64,
    /// What the authorizer signed, in words fit for an error message (method, path,
    /// body digest, key fingerprint; never a secret). Handed back to
    /// [`Authorizer::check_response`].
    pub signed: Option<String>,
}

impl fmt::Debug for OutgoingRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Parameter values are personal data or signatures: names only.
        let names: Vec<&str> = self.params.iter().map(|(k, _)| *k).collect();
        f.debug_struct("OutgoingRequest")
            .field("operation", &self.endpoint.site.operation)
            .field("method", &self.endpoint.method)
            .field("path", &self.url.path())
            .field("params", &names)
            .field("body_len", &self.body.as_ref().map(|b| b.len()))
            .finish()
    }
}

impl OutgoingRequest {
    /// A request to `endpoint` at `url`, with no headers, parameters or body yet (for
    /// token requests and other calls a provider crate makes outside the pipeline).
    pub fn new(endpoint: &'static Endpoint, url: url::Url) -> Self {
        Self {
            endpoint,
            url,
            headers: HeaderMap::new(),
            params: Vec::new(),
            body: None,
            credential: 0,
            signed: None,
        }
    }

    /// Registers for redaction what this request carries that is secret: the values of
    /// the parameters named in `fields` (in the body or the query), the fields themselves
    /// wherever an echo quotes them, and every header marked sensitive (whole, and its
    /// credential after the scheme: `Basic <base64>`, `Bearer <token>`).
    pub fn register_secrets(&self, fields: &'static [&'static str], redactor: &mut Redactor<'_>) {
        redactor.secret_fields(fields);
        for (k, v) in &self.params {
            if fields.contains(k) {
                redactor.secret(v.clone());
            }
        }
        if self.url.query().is_some() {
            for (k, v) in self.url.query_pairs() {
                if fields.contains(&k.as_ref()) {
                    redactor.secret(v.into_owned());
                }
            }
        }
        for value in self.headers.values().filter(|v| v.is_sensitive()) {
            if let Ok(text) = value.to_str() {
                redactor.secret(text.to_owned());
                if let Some((_, credential)) = text.split_once(' ') {
                    redactor.secret(credential.trim().to_owned());
                }
            }
        }
    }
}

/// Signs or authorises requests for one provider account.
///
/// Implementations hold the credentials and expose them only inside
/// [`Authorizer::authorize`].
#[async_trait]
pub trait Authorizer: Send + Sync + fmt::Debug {
    /// Adds whatever the provider needs (sign parameters, key, bearer token, headers).
    async fn authorize(&self, request: &mut OutgoingRequest) -> Result<(), Error>;

    /// [`Authorizer::authorize`] without waiting, for authorizers that never wait (a
    /// signature, a key in the query): `Some` with the outcome, or `None` when this
    /// request has to go through `authorize` (a token to fetch first). The pipeline
    /// tries it first, so that a signer implementing it spares every call a boxed
    /// future. The default answers `None`.
    fn authorize_now(&self, request: &mut OutgoingRequest) -> Option<Result<(), Error>> {
        let _ = request;
        None
    }

    /// Called after the provider rejected the credential numbered `credential` (the
    /// [`OutgoingRequest::credential`] the authorizer set), so a cached token can be
    /// dropped before the next attempt. Many callers may report the same stale
    /// credential; only the first should drop it. The default does nothing.
    async fn invalidate(&self, credential: u64) {
        let _ = credential;
    }

    /// Whether [`Authorizer::invalidate`] can make a rejected request succeed (cached
    /// tokens); when `true` the pipeline re-authenticates once after an auth failure.
    fn is_refreshable(&self) -> bool {
        false
    }

    /// Registers every secret this authorizer holds, so it is scrubbed from error text.
    fn register_secrets<'a>(&'a self, redactor: &mut Redactor<'a>);

    /// Wire names of the parameters this authorizer adds whose values are secret or
    /// derived from a secret (`sign`, `key`, `access_token`): their values, and these
    /// fields wherever an echoing server quotes them, are scrubbed from error text (see
    /// [`OutgoingRequest::register_secrets`]). Headers marked sensitive are scrubbed
    /// whatever this says. The default names none.
    fn secret_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// Checks (and may transform) a response before it is decoded: verifies a response
    /// signature, decrypts an encrypted body, explains a refused request signature.
    /// `signed` is the [`OutgoingRequest::signed`] of the request. An error here is
    /// returned as the call's error. The default accepts every response as it is.
    fn check_response(
        &self,
        endpoint: &'static Endpoint,
        signed: Option<&str>,
        response: &mut RawResponse,
        redactor: &Redactor<'_>,
    ) -> Result<(), Error> {
        let _ = (endpoint, signed, response, redactor);
        Ok(())
    }
}

/// An authorizer that adds nothing (public endpoints, tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAuth;

#[async_trait]
impl Authorizer for NoAuth {
    async fn authorize(&self, _request: &mut OutgoingRequest) -> Result<(), Error> {
        Ok(())
    }

    fn register_secrets<'a>(&'a self, _redactor: &mut Redactor<'a>) {}
}
