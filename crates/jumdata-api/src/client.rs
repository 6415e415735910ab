//! The Jumdata client. `Config`, `ClientBuilder` and `Client::{builder, new, from_env}`
//! are generated from the `[client]` table of `api.toml`; this file holds what only
//! Jumdata has: the signing clock, and how a checked configuration becomes a client.

use std::fmt;
use std::sync::Arc;

use cred_core::raw::RawRequest;
use cred_core::{Answer, ApiRequest, ClientCore, ClientSettings, Error};

use crate::envelope;
use crate::generated::{ClientBuilder, Settled};
use crate::signer::{Clock, JumdataAuth};

/// The builder options only Jumdata has (set through [`ClientBuilder`]'s hand-written
/// setters).
#[derive(Default)]
pub(crate) struct Extra {
    clock: Option<Clock>,
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extra")
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl ClientBuilder {
    /// Replaces the millisecond clock used for `timestamp` (tests, clock-skew fixes).
    pub fn clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.extra.clock = Some(Arc::new(clock));
        self
    }
}

/// A checked configuration, the shared settings and Jumdata's options: the client.
pub(crate) fn assemble(
    config: Settled,
    settings: ClientSettings,
    extra: Extra,
) -> Result<Client, Error> {
    let auth = JumdataAuth {
        app_id: config.app_id.clone(),
        app_secret: config.app_secret,
        clock: extra
            .clock
            .unwrap_or_else(|| Arc::new(cred_core::now_millis)),
    };
    let core = settings.build_core(Arc::new(auth), &config.base_url, crate::ENDPOINTS)?;
    Ok(Client {
        core,
        app_id: config.app_id,
    })
}

/// A Jumdata client. Cheap to clone (clones share the connection pool and rate limiter);
/// `Send + Sync`. `Debug` never shows the secret.
///
/// The operation methods (`credential_query`, ...) are generated from `api.toml`;
/// [`Client::call_raw`] reaches an endpoint the spec does not list.
#[derive(Clone)]
pub struct Client {
    core: ClientCore,
    app_id: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("app_id", &self.app_id)
            .field("app_secret", &"[redacted]")
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

    /// Sends any Jumdata request (generated or hand-written [`ApiRequest`]) through the
    /// signer, the Jumdata envelope decoder and the retry policy.
    pub async fn execute<R: ApiRequest>(&self, request: &R) -> Result<Answer<R::Response>, Error> {
        self.core
            .execute(request, envelope::decode::<R::Response>)
            .await
    }

    /// Sends a request to an endpoint this crate's spec does not list, through the same
    /// pipeline as the generated methods: signing, the rate limit, the Jumdata
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
    /// # async fn run(client: jumdata_api::Client) -> Result<(), jumdata_api::Error> {
    /// use jumdata_api::{Method, RawRequest};
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
        let bound = request.bind("jumdata")?;
        self.execute(&bound).await
    }
}
