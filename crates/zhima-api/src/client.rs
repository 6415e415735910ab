//! The Alipay v3 client, its builder and its configuration.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use cred_core::secret::{secret_from_env, var_from_env};
use cred_core::{Answer, ApiRequest, ClientCore, ClientSettings, Error, Secret};

use crate::auth::AlipayAuth;
use crate::cert::{self, CertSns};
use crate::crypto::EncryptKey;
use crate::envelope;
use crate::keys::{AlipayPublicKey, AppKey};

/// Alipay's OpenAPI gateway.
pub const DEFAULT_BASE_URL: &str = "https://openapi.alipay.com";

/// Default client-side rate limit (requests per second, same burst).
pub const DEFAULT_RATE_PER_SECOND: u32 = 20;

/// The app id (APPID, 16 digits).
pub const ENV_APP_ID: &str = "ALIPAY_APP_ID";
/// The app private key (应用私钥), the value or `@path` of a file holding it.
pub const ENV_PRIVATE_KEY: &str = "ALIPAY_PRIVATE_KEY";
/// The Alipay public key (支付宝公钥), the value or `@path`.
pub const ENV_PUBLIC_KEY: &str = "ALIPAY_PUBLIC_KEY";
/// Optional content-encryption key (接口内容加密密钥, base64).
pub const ENV_ENCRYPT_KEY: &str = "ALIPAY_ENCRYPT_KEY";
/// Optional base URL (default [`DEFAULT_BASE_URL`]).
pub const ENV_BASE_URL: &str = "ALIPAY_BASE_URL";
/// Certificate mode: the app certificate (应用公钥证书), value or `@path`.
pub const ENV_APP_CERT: &str = "ALIPAY_APP_CERT";
/// Certificate mode: the Alipay certificate (支付宝公钥证书), value or `@path`.
pub const ENV_ALIPAY_CERT: &str = "ALIPAY_ALIPAY_CERT";
/// Certificate mode: the Alipay root bundle (支付宝根证书), value or `@path`.
pub const ENV_ROOT_CERT: &str = "ALIPAY_ROOT_CERT";

/// The three certificates of certificate mode, as PEM text.
#[derive(Clone)]
pub struct Certificates {
    /// 应用公钥证书 (`appCertPublicKey_<appid>.crt`).
    pub app_cert: String,
    /// 支付宝公钥证书 (`alipayCertPublicKey_RSA2.crt`).
    pub alipay_cert: String,
    /// 支付宝根证书 (`alipayRootCert.crt`), a bundle.
    pub root_cert: String,
}

/// Credentials and endpoint. `Debug` never shows a key.
#[derive(Clone)]
pub struct Config {
    /// APPID.
    pub app_id: String,
    /// 应用私钥: PKCS#8 or PKCS#1, PEM or bare base64.
    pub private_key: Secret,
    /// 支付宝公钥 (public-key mode): base64 SubjectPublicKeyInfo or PEM.
    pub alipay_public_key: Option<String>,
    /// 接口内容加密密钥 (optional): base64 of 16 bytes.
    pub encrypt_key: Option<Secret>,
    /// App authorisation token for calls made on behalf of a merchant (optional).
    pub app_auth_token: Option<Secret>,
    /// Certificate mode (instead of `alipay_public_key`).
    pub certificates: Option<Certificates>,
    /// Base URL; [`DEFAULT_BASE_URL`] unless overridden.
    pub base_url: String,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("app_id", &self.app_id)
            .field("private_key", &"[redacted]")
            .field(
                "alipay_public_key",
                &self.alipay_public_key.as_ref().map(|_| "<set>"),
            )
            .field(
                "encrypt_key",
                &self.encrypt_key.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "app_auth_token",
                &self.app_auth_token.as_ref().map(|_| "[redacted]"),
            )
            .field("certificate_mode", &self.certificates.is_some())
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// A variable's value, or the content of the file it names with `@path`.
fn value_or_file(name: &str) -> Result<Option<String>, Error> {
    let Some(value) = var_from_env(name) else {
        return Ok(None);
    };
    match value.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path.trim())
            .map(Some)
            .map_err(|e| Error::config(format!("{name}: cannot read {}: {e}", path.trim()))),
        None => Ok(Some(value)),
    }
}

impl Config {
    /// Public-key mode: app id, private key and the Alipay public key.
    pub fn new(
        app_id: impl Into<String>,
        private_key: impl Into<String>,
        alipay_public_key: impl Into<String>,
    ) -> Self {
        Self {
            app_id: app_id.into(),
            private_key: Secret::from(private_key.into()),
            alipay_public_key: Some(alipay_public_key.into()),
            encrypt_key: None,
            app_auth_token: None,
            certificates: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
        }
    }

    /// Reads `ALIPAY_APP_ID`, `ALIPAY_PRIVATE_KEY` (value or `@path`), `ALIPAY_PUBLIC_KEY`
    /// (value or `@path`) or the three certificate variables, and optionally
    /// `ALIPAY_ENCRYPT_KEY` and `ALIPAY_BASE_URL`.
    pub fn from_env() -> Result<Self, Error> {
        let app_id =
            var_from_env(ENV_APP_ID).ok_or_else(|| cred_core::secret::missing_var(ENV_APP_ID))?;
        let private_key = value_or_file(ENV_PRIVATE_KEY)?
            .ok_or_else(|| cred_core::secret::missing_var(ENV_PRIVATE_KEY))?;
        let certificates = match (
            value_or_file(ENV_APP_CERT)?,
            value_or_file(ENV_ALIPAY_CERT)?,
            value_or_file(ENV_ROOT_CERT)?,
        ) {
            (Some(app_cert), Some(alipay_cert), Some(root_cert)) => Some(Certificates {
                app_cert,
                alipay_cert,
                root_cert,
            }),
            (None, None, None) => None,
            _ => {
                return Err(Error::config(format!(
                    "certificate mode needs all of {ENV_APP_CERT}, {ENV_ALIPAY_CERT} and {ENV_ROOT_CERT}"
                )));
            }
        };
        Ok(Self {
            app_id,
            private_key: Secret::from(private_key),
            alipay_public_key: value_or_file(ENV_PUBLIC_KEY)?,
            encrypt_key: secret_from_env(ENV_ENCRYPT_KEY),
            app_auth_token: None,
            certificates,
            base_url: var_from_env(ENV_BASE_URL).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
        })
    }
}

/// Builds a [`Client`]. Keys are parsed and checked here, not at the first call.
pub struct ClientBuilder {
    config: Option<Config>,
    settings: ClientSettings,
    verify_responses: bool,
    freshness: Option<Duration>,
    reading_checks: bool,
}

/// How far an answer's `alipay-timestamp` may be from this machine's clock, either way,
/// before the answer is refused (see [`ClientBuilder::response_time_window`]).
pub const DEFAULT_RESPONSE_TIME_WINDOW: Duration = Duration::from_secs(15 * 60);

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("settings", &self.settings)
            .field("verify_responses", &self.verify_responses)
            .field("response_time_window", &self.freshness)
            .field("reading_checks", &self.reading_checks)
            .finish()
    }
}

cred_core::impl_settings_setters!(ClientBuilder, "ALIPAY");

impl ClientBuilder {
    /// Uses `config`.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    fn config_mut(&mut self) -> &mut Config {
        self.config.get_or_insert_with(|| Config {
            alipay_public_key: None,
            ..Config::new("", "", "")
        })
    }

    /// Sets the app id.
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.config_mut().app_id = app_id.into();
        self
    }

    /// Sets the app private key (PKCS#8 or PKCS#1, PEM or bare base64).
    pub fn private_key(mut self, key: impl Into<String>) -> Self {
        self.config_mut().private_key = Secret::from(key.into());
        self
    }

    /// Sets the Alipay public key (public-key mode).
    pub fn alipay_public_key(mut self, key: impl Into<String>) -> Self {
        self.config_mut().alipay_public_key = Some(key.into());
        self
    }

    /// Turns on content encryption with the console's `encrypt_key` (base64).
    pub fn encrypt_key(mut self, key: impl Into<String>) -> Self {
        self.config_mut().encrypt_key = Some(Secret::from(key.into()));
        self
    }

    /// Calls on behalf of a merchant with its app authorisation token.
    pub fn app_auth_token(mut self, token: impl Into<String>) -> Self {
        self.config_mut().app_auth_token = Some(Secret::from(token.into()));
        self
    }

    /// Certificate mode: the app certificate, the Alipay certificate and the root
    /// bundle (PEM text). The Alipay public key then comes from its certificate.
    pub fn certificates(mut self, certificates: Certificates) -> Self {
        self.config_mut().certificates = Some(certificates);
        self
    }

    /// Overrides the base URL (a sandbox, a proxy, a test server).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.config_mut().base_url = base_url.into();
        self
    }

    /// Whether the checks that are credkit's reading of the jobworth document run before a
    /// request is sent (default `true`): a `once_token`, and one of `user_id`, `open_id`
    /// or `cert_no` ([`crate::check_reading`], which quotes the words read). The document
    /// itself marks every parameter optional: `false` sends what the gateway may accept
    /// that credkit would refuse. Checks that follow from a rule (a GB 11643 check
    /// character) run either way.
    pub fn reading_checks(mut self, on: bool) -> Self {
        self.reading_checks = on;
        self
    }

    /// **Accepts answers without checking Alipay's signature.** Anyone able to alter
    /// traffic between you and Alipay (a proxy, a compromised network) can then feed
    /// the client forged identity results. Only for tests against servers that cannot
    /// sign; never in production.
    pub fn dangerously_accept_unverified_responses(mut self) -> Self {
        self.verify_responses = false;
        self
    }

    /// How far a signed answer's `alipay-timestamp` may be from this machine's clock,
    /// either way (default [`DEFAULT_RESPONSE_TIME_WINDOW`], 15 minutes, the window the
    /// gateway applies to requests). An answer outside it is refused as an
    /// [`Error::Signature`] stating the skew: a correctly signed but old answer is a
    /// replay, or this machine's clock is wrong. `None` turns the check off (signatures
    /// are still verified).
    pub fn response_time_window(mut self, window: Option<Duration>) -> Self {
        self.freshness = window;
        self
    }

    /// Parses and checks every key and certificate, then builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let config = self.config.ok_or_else(|| {
            Error::config(format!("{ENV_APP_ID} and {ENV_PRIVATE_KEY} are not set"))
        })?;
        let app_id = config.app_id.trim().to_owned();
        if app_id.is_empty() {
            return Err(Error::config(format!(
                "the app id is not set ({ENV_APP_ID})"
            )));
        }
        if config.private_key.expose().trim().is_empty() {
            return Err(Error::config(format!(
                "the app private key is not set ({ENV_PRIVATE_KEY})"
            )));
        }
        let key = AppKey::parse(config.private_key.expose())?;
        let (alipay_key, certs) = match &config.certificates {
            Some(c) => {
                if config.alipay_public_key.is_some() {
                    return Err(Error::config(format!(
                        "both {ENV_PUBLIC_KEY} and certificates are set: use one mode"
                    )));
                }
                let app_public = AlipayPublicKey::from_der(&cert::public_key_der(
                    &c.app_cert,
                    "app certificate",
                )?)?;
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
                None if !self.verify_responses => (None, None),
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
        let alipay_key = if self.verify_responses {
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
            freshness: self.freshness,
        };
        let debug = format!("{auth:?}");
        let core = self
            .settings
            .build_core(Arc::new(auth), &config.base_url, crate::ENDPOINTS)?;
        Ok(Client {
            core,
            debug: debug.into(),
            reading_checks: self.reading_checks,
        })
    }
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
    /// A builder with default settings (response verification on).
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            config: None,
            settings: ClientSettings::new(
                concat!("credkit-zhima-api/", env!("CARGO_PKG_VERSION")),
                NonZeroU32::new(DEFAULT_RATE_PER_SECOND).unwrap_or(NonZeroU32::MIN),
            ),
            verify_responses: true,
            freshness: Some(DEFAULT_RESPONSE_TIME_WINDOW),
            reading_checks: true,
        }
    }

    /// A client for `config` with default settings.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::builder().config(config).build()
    }

    /// A client configured from `ALIPAY_*` environment variables, with the
    /// transport variables `_CA_FILE` (extra root CAs, PEM) and `_PROXY` (a proxy URL).
    pub fn from_env() -> Result<Self, Error> {
        Self::builder()
            .config(Config::from_env()?)
            .transport_from_env()?
            .build()
    }

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
}
