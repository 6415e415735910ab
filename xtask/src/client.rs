//! The `[client]` table of an `api.toml` and the client shape rendered from it: the
//! `ENV_*` and default constants, `Config` (named `with_*` setters, accessors without a
//! `get_` prefix, `from_env`, a `Debug` that shows no secret), `ClientBuilder` (one
//! named setter per field, the transport and retry setters, `build`) and
//! `Client::{builder, new, from_env}`.
//!
//! Invariant: setter order never matters. The builder keeps what `config()` gave and
//! what the named setters gave apart; a named setter wins over the same field of
//! `config()` whatever the order, and the defaults fill what neither set. The
//! provider's own code receives the result as `Settled` (required and defaulted fields
//! unwrapped) in `crate::client::assemble`, with the hand-written builder options of
//! `crate::client::Extra`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde::Deserialize;

use crate::render::docs;

/// `[client]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// Prefix of the transport variables (`<PREFIX>_CA_FILE`, `<PREFIX>_PROXY`, ...).
    pub env_prefix: String,
    /// The `User-Agent` product (`credkit-jumdata-api`); the crate version is appended.
    pub user_agent: String,
    /// Default client-side rate limit, requests per second.
    pub rate_per_second: u32,
    /// Why that rate (rendered into the constant's doc).
    #[serde(default)]
    pub rate_doc: String,
    /// What the provider calls the client, in messages (`Jumdata`).
    pub title: String,
    /// Credentials and endpoint, in order.
    pub field: Vec<ClientField>,
}

/// `[[client.field]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientField {
    /// snake_case name: the setter, the accessor and `with_<name>`.
    pub name: String,
    /// `text` (`String`), `secret` (`cred_core::Secret`) or `typed` (`ty`, read from
    /// the environment with `FromStr` or `from_env`).
    pub kind: String,
    /// The Rust type of a `typed` field.
    #[serde(default)]
    pub ty: Option<String>,
    /// What it is (doc comments).
    pub doc: String,
    /// In messages: `the app id`.
    pub label: String,
    /// The environment variable holding it.
    #[serde(default)]
    pub env: Option<String>,
    /// The name of the constant naming `env` (default `ENV_<NAME>`).
    #[serde(default)]
    pub env_const: Option<String>,
    /// A `typed` field read from the environment by this function (`fn() ->
    /// Result<T, Error>`) instead of one variable.
    #[serde(default)]
    pub from_env: Option<String>,
    /// `@path` in the variable reads the file at `path` (keys, certificates).
    #[serde(default)]
    pub file: bool,
    /// Refused when unset or blank, naming `env`.
    #[serde(default)]
    pub required: bool,
    /// Added to the "not set" message (`the platform has no public default`).
    #[serde(default)]
    pub missing_hint: Option<String>,
    /// The default value of a `text` field (`DEFAULT_<NAME>` is generated).
    #[serde(default)]
    pub default: Option<String>,
    /// Leading and trailing whitespace is dropped (identifiers, keys).
    #[serde(default)]
    pub trim: bool,
}

impl ClientSpec {
    /// Every problem of the table, one per entry.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for f in &self.field {
            let at = format!("client.field `{}`", f.name);
            if !names.insert(f.name.as_str()) {
                p.push(format!("{at}: defined twice"));
            }
            match f.kind.as_str() {
                "text" | "secret" => {
                    if f.ty.is_some() || f.from_env.is_some() {
                        p.push(format!("{at}: `ty` and `from_env` are for typed fields"));
                    }
                }
                "typed" => {
                    if f.ty.is_none() {
                        p.push(format!("{at}: a typed field needs `ty`"));
                    }
                    if f.required || f.default.is_some() || f.file || f.trim {
                        p.push(format!(
                            "{at}: a typed field has its type's Default; no required/default/file/trim"
                        ));
                    }
                }
                other => p.push(format!("{at}: kind `{other}` is not text, secret or typed")),
            }
            if f.required && f.default.is_some() {
                p.push(format!("{at}: required and defaulted"));
            }
            if f.default.is_some() && f.kind != "text" {
                p.push(format!("{at}: only text fields have a default"));
            }
            if f.env.is_some() && f.from_env.is_some() {
                p.push(format!("{at}: `env` or `from_env`, not both"));
            }
            if f.env.is_none() && f.env_const.is_some() {
                p.push(format!("{at}: `env_const` without `env`"));
            }
        }
        if self.rate_per_second == 0 {
            p.push("client.rate_per_second must be at least 1".to_owned());
        }
        p
    }
}

impl ClientField {
    fn ident(&self) -> proc_macro2::Ident {
        format_ident!("{}", self.name)
    }

    fn env_const(&self) -> Option<proc_macro2::Ident> {
        self.env.as_ref().map(|_| {
            format_ident!(
                "{}",
                self.env_const
                    .clone()
                    .unwrap_or_else(|| format!("ENV_{}", self.name.to_uppercase()))
            )
        })
    }

    fn default_const(&self) -> Option<proc_macro2::Ident> {
        self.default
            .as_ref()
            .map(|_| format_ident!("DEFAULT_{}", self.name.to_uppercase()))
    }

    /// The stored type (`String`, `Secret`, the typed field's type).
    fn ty(&self) -> TokenStream {
        match self.kind.as_str() {
            "secret" => quote!(::cred_core::Secret),
            "typed" => self
                .ty
                .as_deref()
                .unwrap_or("()")
                .parse()
                .unwrap_or_else(|_| quote!(())),
            _ => quote!(String),
        }
    }

    /// `value.into()`, or `value` for a typed field (it takes its own type).
    fn convert(&self) -> TokenStream {
        if self.kind == "typed" {
            quote!(value)
        } else {
            quote!(value.into())
        }
    }

    /// What a setter takes.
    fn arg(&self) -> TokenStream {
        match self.kind.as_str() {
            "secret" => quote!(impl Into<::cred_core::Secret>),
            "typed" => self.ty(),
            _ => quote!(impl Into<String>),
        }
    }

    /// Whether `Settled` holds the value itself (required, defaulted or typed).
    fn settled(&self) -> bool {
        self.required || self.default.is_some() || self.kind == "typed"
    }

    /// Where to set it: `JUMDATA_APP_ID or ClientBuilder::app_id`.
    fn where_to_set(&self) -> String {
        match &self.env {
            Some(env) => format!("{env}, or ClientBuilder::{}", self.name),
            None => format!("ClientBuilder::{}", self.name),
        }
    }
}

/// The client shape of one provider.
pub fn render(c: &ClientSpec, krate: &str) -> TokenStream {
    let title = &c.title;
    let mut consts = Vec::new();
    for f in &c.field {
        if let (Some(id), Some(env)) = (f.env_const(), &f.env) {
            let doc = docs(&format!(
                "Environment variable: {}{}",
                f.doc.trim().trim_end_matches('.'),
                if f.file {
                    " (the value, or `@path` of a file holding it)."
                } else {
                    "."
                }
            ));
            consts.push(quote!(#doc pub const #id: &str = #env;));
        }
        if let (Some(id), Some(value)) = (f.default_const(), &f.default) {
            let doc = docs(&format!("Default {}.", f.label.trim_start_matches("the ")));
            consts.push(quote!(#doc pub const #id: &str = #value;));
        }
    }
    let rate = c.rate_per_second;
    let rate_doc = docs(&format!(
        "Default client-side rate limit (requests per second, same burst). {}\nChange it with [`ClientBuilder::rate_limit`].",
        c.rate_doc.trim()
    ));

    let config_fields = c.field.iter().map(|f| {
        let id = f.ident();
        let ty = f.ty();
        quote!(#id: Option<#ty>)
    });
    let with_setters = c.field.iter().map(|f| {
        let id = f.ident();
        let with = format_ident!("with_{}", f.name);
        let arg = f.arg();
        let convert = f.convert();
        let doc = docs(&format!("Sets {}: {}", f.label, f.doc.trim()));
        quote! {
            #doc
            pub fn #with(mut self, value: #arg) -> Self {
                self.#id = Some(#convert);
                self
            }
        }
    });
    let accessors = c.field.iter().map(|f| {
        let id = f.ident();
        let doc = docs(&format!("{} (`None` while unset).", f.doc.trim()));
        match f.kind.as_str() {
            "text" => quote!(#doc pub fn #id(&self) -> Option<&str> { self.#id.as_deref() }),
            "secret" => {
                quote!(#doc pub fn #id(&self) -> Option<&::cred_core::Secret> { self.#id.as_ref() })
            }
            _ => {
                let ty = f.ty();
                quote!(#doc pub fn #id(&self) -> Option<&#ty> { self.#id.as_ref() })
            }
        }
    });
    let merge = c.field.iter().map(|f| {
        let id = f.ident();
        quote!(#id: self.#id.or(under.#id))
    });
    let debug_fields = c.field.iter().map(|f| {
        let id = f.ident();
        let name = &f.name;
        if f.kind == "secret" {
            quote!(.field(#name, &self.#id.as_ref().map(|_| "[redacted]")))
        } else {
            quote!(.field(#name, &self.#id))
        }
    });
    let env_reads = c.field.iter().map(|f| {
        let id = f.ident();
        let read = match (&f.env_const(), &f.from_env) {
            (_, Some(path)) => {
                let path: TokenStream = path.parse().unwrap_or_else(|_| quote!(()));
                quote!(Some(#path()?))
            }
            (Some(env), None) => {
                let raw = if f.file {
                    quote!(::cred_core::secret::value_or_file(#env)?)
                } else {
                    quote!(::cred_core::secret::var_from_env(#env))
                };
                match f.kind.as_str() {
                    "secret" => quote!(#raw.map(::cred_core::Secret::from)),
                    "typed" => quote! {
                        match #raw {
                            Some(v) => Some(v.parse().map_err(|e| ::cred_core::Error::config(format!("{} {e}", #env)))?),
                            None => None,
                        }
                    },
                    _ => raw,
                }
            }
            (None, None) => quote!(None),
        };
        let check = if f.required {
            let env = f.env_const();
            let hint = match &f.missing_hint {
                Some(h) => format!(" ({h})"),
                None => String::new(),
            };
            match env {
                Some(env) if f.missing_hint.is_none() => quote! {
                    if config.#id.is_none() {
                        return Err(::cred_core::secret::missing_var(#env));
                    }
                },
                Some(env) => quote! {
                    if config.#id.is_none() {
                        return Err(::cred_core::Error::config(format!("{} is not set{}", #env, #hint)));
                    }
                },
                None => quote!(),
            }
        } else {
            quote!()
        };
        quote! {
            config.#id = #read;
            #check
        }
    });
    let env_list: Vec<String> = c
        .field
        .iter()
        .filter_map(|f| {
            f.env
                .as_ref()
                .map(|e| format!("`{e}`{}", if f.required { " (required)" } else { "" }))
        })
        .collect();
    let from_env_doc = docs(&format!(
        "Reads {}{}. A required variable that is unset or blank is an\n[`Error::Config`](::cred_core::Error::Config) naming it.",
        env_list.join(", "),
        if c.field.iter().any(|f| f.from_env.is_some()) {
            ", and what the typed fields read themselves"
        } else {
            ""
        }
    ));

    let settled_fields = c.field.iter().map(|f| {
        let id = f.ident();
        let ty = f.ty();
        let doc = docs(&f.doc);
        if f.settled() {
            quote!(#doc pub(crate) #id: #ty)
        } else {
            quote!(#doc pub(crate) #id: Option<#ty>)
        }
    });
    let settle = c.field.iter().map(|f| {
        let id = f.ident();
        let trim = match f.kind.as_str() {
            "text" if f.trim => quote!(.map(|v| v.trim().to_owned())),
            "secret" if f.trim => quote!(.map(|v| ::cred_core::Secret::new(v.expose().trim()))),
            _ => quote!(),
        };
        let blank = match f.kind.as_str() {
            "text" => quote!(.filter(|v| !v.trim().is_empty())),
            "secret" => quote!(.filter(|v| !v.is_blank())),
            _ => quote!(),
        };
        if f.required {
            let message = format!(
                "{} {} is not set ({}){}",
                title,
                f.label.trim_start_matches("the "),
                f.where_to_set(),
                f.missing_hint
                    .as_ref()
                    .map(|h| format!("; {h}"))
                    .unwrap_or_default()
            );
            quote! {
                #id: config.#id #blank #trim .ok_or_else(|| ::cred_core::Error::config(#message))?
            }
        } else if let Some(d) = f.default_const() {
            quote!(#id: config.#id #blank #trim .unwrap_or_else(|| #d.to_owned()))
        } else if f.kind == "typed" {
            quote!(#id: config.#id.unwrap_or_default())
        } else {
            quote!(#id: config.#id #blank #trim)
        }
    });

    let builder_setters = c.field.iter().map(|f| {
        let id = f.ident();
        let arg = f.arg();
        let convert = f.convert();
        let doc = docs(&format!(
            "Sets {}: {}\n\nWins over the same field of [`ClientBuilder::config`], whatever the order.",
            f.label,
            f.doc.trim()
        ));
        quote! {
            #doc
            pub fn #id(mut self, value: #arg) -> Self {
                self.named.#id = Some(#convert);
                self
            }
        }
    });

    let prefix = &c.env_prefix;
    let user_agent = format!("{}/", c.user_agent);
    let builder_doc = docs(&format!(
        "Builds a [`Client`]: credentials from named setters or a [`Config`], transport and\nretry settings, each with a default. Setter order never matters: a named setter wins\nover the same field of [`ClientBuilder::config`], and the last call of a setter wins\nover its earlier calls.\n\nThe transport variables `{prefix}_CA_FILE` and `{prefix}_PROXY` are read by\n[`ClientBuilder::transport_from_env`] (and [`Client::from_env`])."
    ));
    let config_doc = docs(&format!(
        "The {title} credentials and endpoint, as plain data: build it with the `with_*`\nsetters or [`Config::from_env`], read it with the accessors. `Debug` never shows a\nsecret. Hand it to [`ClientBuilder::config`] or [`Client::new`].\n\nIts fields are private and it may grow in a compatible release, so it is never built\nwith a literal:\n\n```compile_fail,E0639\nlet config = {krate}::Config {{ ..Default::default() }};\n```\n\n```\nlet config = {krate}::Config::new().with_base_url(\"http://127.0.0.1:1\");\nassert_eq!(config.base_url(), Some(\"http://127.0.0.1:1\"));\n```",
        krate = krate
    ));
    let from_env_client_doc = docs(&format!(
        "A client configured from the environment: [`Config::from_env`] and the transport\nvariables `{prefix}_CA_FILE` (extra root CAs, PEM) and `{prefix}_PROXY` (a proxy URL)."
    ));

    quote! {
        use crate::client::Client;

        #(#consts)*

        #rate_doc
        pub const DEFAULT_RATE_PER_SECOND: u32 = #rate;

        #config_doc
        #[derive(Clone, Default)]
        #[non_exhaustive]
        pub struct Config {
            #(#config_fields,)*
        }

        impl Config {
            /// An empty configuration: every field unset (required ones must be set
            /// before a client is built; the others have defaults).
            pub fn new() -> Self {
                Self::default()
            }

            #from_env_doc
            #[allow(clippy::field_reassign_with_default)] // each read may return early
            pub fn from_env() -> Result<Self, ::cred_core::Error> {
                let mut config = Self::default();
                #(#env_reads)*
                Ok(config)
            }

            #(#with_setters)*

            #(#accessors)*

            /// `self`'s fields, and `under`'s where `self` has none.
            fn over(self, under: Config) -> Config {
                Config { #(#merge,)* }
            }
        }

        impl ::std::fmt::Debug for Config {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct("Config") #(#debug_fields)* .finish()
            }
        }

        /// A [`Config`] checked and completed by [`ClientBuilder::build`]: required
        /// fields set, defaults filled in.
        pub(crate) struct Settled {
            #(#settled_fields,)*
        }

        impl Settled {
            fn from_config(config: Config) -> Result<Settled, ::cred_core::Error> {
                Ok(Settled { #(#settle,)* })
            }
        }

        #builder_doc
        pub struct ClientBuilder {
            config: Config,
            named: Config,
            pub(crate) settings: ::cred_core::ClientSettings,
            pub(crate) extra: crate::client::Extra,
        }

        impl ::std::fmt::Debug for ClientBuilder {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct("ClientBuilder")
                    .field("config", &self.named.clone().over(self.config.clone()))
                    .field("settings", &self.settings)
                    .field("extra", &self.extra)
                    .finish()
            }
        }

        ::cred_core::impl_settings_setters!(ClientBuilder, #prefix);

        impl ClientBuilder {
            /// Uses `config`'s fields, below any named setter's, whatever the order.
            /// A second call replaces the first.
            pub fn config(mut self, config: Config) -> Self {
                self.config = config;
                self
            }

            #(#builder_setters)*

            /// Checks the configuration (a required field that is unset or blank is an
            /// [`Error::Config`](::cred_core::Error::Config) naming its variable and setter)
            /// and builds the client.
            pub fn build(self) -> Result<Client, ::cred_core::Error> {
                let settled = Settled::from_config(self.named.over(self.config))?;
                crate::client::assemble(settled, self.settings, self.extra)
            }
        }

        impl Client {
            /// A builder with default settings.
            pub fn builder() -> ClientBuilder {
                ClientBuilder {
                    config: Config::default(),
                    named: Config::default(),
                    settings: ::cred_core::ClientSettings::new(
                        concat!(#user_agent, env!("CARGO_PKG_VERSION")),
                        ::std::num::NonZeroU32::new(DEFAULT_RATE_PER_SECOND)
                            .unwrap_or(::std::num::NonZeroU32::MIN),
                    ),
                    extra: crate::client::Extra::default(),
                }
            }

            /// A client for `config` with default settings.
            pub fn new(config: Config) -> Result<Self, ::cred_core::Error> {
                Self::builder().config(config).build()
            }

            #from_env_client_doc
            pub fn from_env() -> Result<Self, ::cred_core::Error> {
                Self::builder()
                    .config(Config::from_env()?)
                    .transport_from_env()?
                    .build()
            }
        }
    }
}
