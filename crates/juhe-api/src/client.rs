//! The Juhe client. `Config`, `ClientBuilder` and `Client::{builder, new, from_env}` are
//! generated from the `[client]` table of `api.toml`; this file turns a checked
//! configuration into a client.

use std::fmt;
use std::sync::Arc;

use cred_core::raw::RawRequest;
use cred_core::{Answer, ApiRequest, ClientCore, ClientSettings, Error};

use crate::auth::KeyAuth;
use crate::envelope;
use crate::generated::Settled;

/// Juhe has no builder option of its own (the struct exists for the generated builder).
#[derive(Debug, Default)]
pub(crate) struct Extra {}

/// A checked configuration and the shared settings: the client.
pub(crate) fn assemble(
    config: Settled,
    settings: ClientSettings,
    _extra: Extra,
) -> Result<Client, Error> {
    let auth = KeyAuth { key: config.key };
    let core = settings.build_core(Arc::new(auth), &config.base_url, crate::ENDPOINTS)?;
    Ok(Client { core })
}

/// A Juhe client. Cheap to clone (clones share the connection pool and rate limiter);
/// `Send + Sync`. `Debug`, errors and logs never show the key.
///
/// The operation methods (`con_lic_by_name`, ...) are generated from `api.toml`;
/// [`Client::call_raw`] reaches an endpoint the spec does not list.
#[derive(Clone)]
pub struct Client {
    core: ClientCore,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("key", &"[redacted]")
            .field("base_url", &self.core.base_url())
            .field("retry", self.core.retry_policy())
            .field("transport", self.core.transport().config())
            .finish()
    }
}

impl Client {
    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.core.base_url()
    }

    /// Sends any Juhe request (generated or hand-written [`ApiRequest`]) with the key,
    /// through the Juhe envelope decoder and the retry policy.
    pub async fn execute<R: ApiRequest>(&self, request: &R) -> Result<Answer<R::Response>, Error> {
        self.core
            .execute(request, envelope::decode::<R::Response>)
            .await
    }

    /// Sends a request to an endpoint this crate's spec does not list, through the same
    /// pipeline as the generated methods: signing, the rate limit, the Juhe
    /// envelope and its code table, billing, the retry policy and redaction. The
    /// answer's payload is the raw JSON `data`.
    ///
    /// Parameter values are masked in errors and logs unless added with
    /// [`RawRequest::public_param`]; the call counts as paid (never sent twice when its
    /// outcome is unknown) unless the request says [`Billing::Free`](crate::Billing::Free).
    /// A path that does not start with `/` or holds a query is an
    /// [`Error::InvalidInput`] before anything is sent.
    ///
    /// ```no_run
    /// # async fn run(client: juhe_api::Client) -> Result<(), juhe_api::Error> {
    /// use juhe_api::{Method, RawRequest};
    ///
    /// let request = RawRequest::new(Method::Post, "/some/other/api")
    ///     .param("name", "王小明")
    ///     .public_param("type", "1");
    /// let answer = client.call_raw(&request).await?;
    /// if let Some(data) = answer.result() {
    ///     println!("{}", data["items"]);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn call_raw(&self, request: &RawRequest) -> Result<Answer<serde_json::Value>, Error> {
        let bound = request.bind("juhe")?;
        self.execute(&bound).await
    }
}
