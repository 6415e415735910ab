//! The Alipay v3 client. `Config`, `ClientBuilder` and `Client::{builder, new,
//! from_env}` are generated from the `[client]` table of `api.toml`; this file holds
//! what only Alipay has: response verification and its time window, credkit's reading
//! checks, and how keys and certificates are parsed and checked into a client.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cred_core::raw::RawRequest;
use cred_core::{Answer, ApiRequest, ClientCore, ClientSettings, Error};

use crate::auth::AlipayAuth;
use crate::cert::{self, CertSns};
use crate::crypto::EncryptKey;
use crate::envelope;
use crate::generated::{
    ClientBuilder, ENV_ALIPAY_CERT, ENV_APP_CERT, ENV_PRIVATE_KEY, ENV_PUBLIC_KEY, ENV_ROOT_CERT,
    Settled,
};
use crate::keys::{AlipayPublicKey, AppKey};

/// How far an answer's `alipay-timestamp` may be from this machine's clock, either way,
/// before the answer is refused (see [`ClientBuilder::response_time_window`]).
pub const DEFAULT_RESPONSE_TIME_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The builder options only Alipay has.
#[derive(Debug)]
pub(crate) struct Extra {
    verify_responses: bool,
    freshness: Option<Duration>,
    reading_checks: bool,
}

impl Default for Extra {
    fn default() -> Self {
        Extra {
            verify_responses: true,
            freshness: Some(DEFAULT_RESPONSE_TIME_WINDOW),
            reading_checks: true,
        }
    }
}

impl ClientBuilder {
    /// Whether the checks that are credkit's reading of the jobworth document run before a
    /// request is sent (default `true`): a `once_token`, and one of `user_id`, `open_id`
    /// or `cert_no` ([`crate::check_reading`], which quotes the words read). The document
    /// itself marks every parameter optional: `false` sends what the gateway may accept
    /// that credkit would refuse. Checks that follow from a rule (a GB 11643 check
    /// character) run either way.
    pub fn reading_checks(mut self, on: bool) -> Self {
        self.extra.reading_checks = on;
        self
    }

    /// **Accepts answers without checking Alipay's signature.** Anyone able to alter
    /// traffic between you and Alipay (a proxy, a compromised network) can then feed
    /// the client forged identity results. Only for tests against servers that cannot
    /// sign; never in production.
    pub fn dangerously_accept_unverified_responses(mut self) -> Self {
        self.extra.verify_responses = false;
        self
    }

    /// How far a signed answer's `alipay-timestamp` may be from this machine's clock,
    /// either way (default [`DEFAULT_RESPONSE_TIME_WINDOW`], 15 minutes, the window the
    /// gateway applies to requests). An answer outside it is refused as an
    /// [`Error::Signature`] stating the skew: a correctly signed but old answer is a
    /// replay, or this machine's clock is wrong. `None` turns the check off (signatures
    /// are still verified).
    pub fn response_time_window(mut self, window: Option<Duration>) -> Self {
        self.extra.freshness = window;
        self
    }
}

/// The three certificates of certificate mode, as PEM text.
struct Certificates {
    app_cert: String,
    alipay_cert: String,
    root_cert: String,
}

/// Parses and checks every key and certificate of a checked configuration, then builds
/// the client.
pub(crate) fn assemble(
    config: Settled,
    settings: ClientSettings,
    extra: Extra,
) -> Result<Client, Error> {
    let app_id = config.app_id;
    let certificates = match (config.app_cert, config.alipay_cert, config.root_cert) {
        (Some(app_cert), Some(alipay_cert), Some(root_cert)) => Some(Certificates {
            app_cert,
            alipay_cert,
            root_cert,
        }),
        (None, None, None) => None,
        _ => {
            return Err(Error::config(format!(
                "certificate mode needs all of {ENV_APP_CERT}, {ENV_ALIPAY_CERT} and {ENV_ROOT_CERT} (ClientBuilder::app_cert, alipay_cert, root_cert)"
            )));
        }
    };
    let key = AppKey::parse(config.private_key.expose())?;
    let (alipay_key, certs) = match &certificates {
        Some(c) => {
            if config.alipay_public_key.is_some() {
                return Err(Error::config(format!(
                    "both {ENV_PUBLIC_KEY} and certificates are set: use one mode"
                )));
            }
            let app_public =
                AlipayPublicKey::from_der(&cert::public_key_der(&c.app_cert, "app certificate")?)?;
            if !app_public.is_public_half_of(&key) {
                return Err(Error::config(
                    "the app certificate (ALIPAY_APP_CERT) does not hold the public key of ALIPAY_PRIVATE_KEY",
                ));
            }
            let alipay = AlipayPublicKey::from_der(&cert::public_key_der(
                &c.alipay_cert,
                "Alipay certificate",
            )?)?;
            let sns = CertSns {
                app: cert::cert_sn(&c.app_cert)?,
                root: cert::root_cert_sn(&c.root_cert)?,
                alipay: cert::cert_sn(&c.alipay_cert)?,
            };
            (Some(alipay), Some(sns))
        }
        None => match &config.alipay_public_key {
            Some(text) => (Some(AlipayPublicKey::parse(text)?), None),
            None if !extra.verify_responses => (None, None),
            None => {
                return Err(Error::config(format!(
                    "{ENV_PUBLIC_KEY} is not set: answers are verified with Alipay's public key (支付宝公钥, in the app's 接口加签方式 settings)"
                )));
            }
        },
    };
    if let Some(alipay) = &alipay_key
        && alipay.is_public_half_of(&key)
    {
        return Err(Error::config(format!(
            "{ENV_PUBLIC_KEY} is your app's own public key (the public half of {ENV_PRIVATE_KEY}, fingerprint {}), not Alipay's: copy the 支付宝公钥 from the console, not the 应用公钥",
            key.fingerprint()
        )));
    }
    let alipay_key = if extra.verify_responses {
        alipay_key
    } else {
        tracing::warn!("Alipay response verification is OFF: answers are not authenticated");
        None
    };
    let encrypt = config
        .encrypt_key
        .as_ref()
        .map(|k| EncryptKey::parse(k.expose()))
        .transpose()?;
    let auth = AlipayAuth {
        app_id: app_id.clone(),
        key,
        alipay_key,
        encrypt,
        certs,
        app_auth_token: config.app_auth_token.clone(),
        freshness: extra.freshness,
    };
    let debug = format!("{auth:?}");
    let core = settings.build_core(Arc::new(auth), &config.base_url, crate::ENDPOINTS)?;
    Ok(Client {
        core,
        debug: debug.into(),
        reading_checks: extra.reading_checks,
    })
}

/// An Alipay v3 client for one app. Cheap to clone; `Send + Sync`. Keys are parsed once;
/// `Debug`, errors and logs never show a key, token or signature.
///
/// The operation methods (`jobworth_authentication`, ...) are generated from
/// `api.toml`; [`Client::execute`] sends any other v3 request described there.
#[derive(Clone)]
pub struct Client {
    core: ClientCore,
    debug: Arc<str>,
    reading_checks: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.core.base_url())
            .field("auth", &self.debug)
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

    /// Sends any v3 request (generated from `api.toml`): signed, verified, decrypted,
    /// decoded, retried as the policy allows. A jobworth query is first held to credkit's
    /// reading of its document unless the client was built without it
    /// ([`ClientBuilder::reading_checks`]).
    pub async fn execute<R: ApiRequest + 'static>(
        &self,
        request: &R,
    ) -> Result<Answer<R::Response>, Error> {
        if self.reading_checks
            && let Some(jobworth) =
                (request as &dyn std::any::Any).downcast_ref::<crate::JobworthAuthentication>()
            && let Err(e) = crate::checks::check_reading(jobworth)
        {
            if let Error::InvalidInput { field, .. } = &e {
                cred_core::telemetry::invalid_input(request.endpoint().site, field);
            }
            return Err(e);
        }
        self.core
            .execute(request, envelope::decode::<R::Response>)
            .await
    }

    /// Sends a request to an endpoint this crate's spec does not list, through the same
    /// pipeline as the generated methods: signing, the rate limit, the Alipay v3
    /// envelope and its code table, billing, the retry policy and redaction. The
    /// answer's payload is the raw JSON `data`. Parameters of a JSON endpoint
    /// (`.encoding(Encoding::Json)`) travel as a JSON object of strings; content
    /// encryption applies when the client has an `encrypt_key`.
    ///
    /// Parameter values are masked in errors and logs unless added with
    /// [`RawRequest::public_param`]; the call counts as paid (never sent twice when its
    /// outcome is unknown) unless the request says [`Billing::Free`](crate::Billing::Free).
    /// A path that does not start with `/` or holds a query is an
    /// [`Error::InvalidInput`] before anything is sent.
    ///
    /// ```no_run
    /// # async fn run(client: zhima_api::Client) -> Result<(), zhima_api::Error> {
    /// use zhima_api::{Method, RawRequest};
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
        let bound = request.bind("zhima")?;
        self.core
            .execute(&bound, envelope::decode::<serde_json::Value>)
            .await
    }
}
