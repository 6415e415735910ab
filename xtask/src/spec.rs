//! The `api.toml` spec format: endpoints, params, response models and the code table.
//!
//! ```toml
//! [provider]
//! name = "jumdata"                      # provider id in errors and logs
//! title = "Jumdata (聚美智数)"
//!
//! [[endpoint]]
//! name = "credential_query"             # method name on the client, operation id
//! title = "职业资格证书查询"
//! doc = "..."
//! method = "POST"                       # GET | POST
//! path = "/credential/query"
//! encoding = "form"                     # form | query | json
//! billing = "paid"                      # paid | free
//! deprecated = "why"                    # optional
//! request = "CredentialQuery"           # generated request type
//! response = "CredentialQueryResult"    # a [[model]] below
//! check = "checks::credential_query"    # optional: crate::checks::credential_query(&req)
//!
//!   [[endpoint.param]]
//!   name = "idcard"                     # Rust name
//!   wire = "idcard"                     # name on the wire
//!   type = "string"                     # string | int | bool
//!   required = true
//!   doc = "身份证号"
//!   validator = "resident_id"           # see VALIDATORS
//!   pii = "id_number"                   # see PII_CLASSES
//!   subject = "company"                 # optional, see SUBJECTS (default: from pii)
//!   max_len = 64                        # optional, characters
//!   # type may also name a type of the provider crate (CamelCase) implementing
//!   # cred_core::WireValue; `value = "base64"` makes a constant param (always sent,
//!   # not settable).
//!
//! [[model]]
//! name = "CredentialQueryResult"
//! doc = "..."
//!   [[model.field]]
//!   name = "count"
//!   wire = "count"
//!   type = "int"                        # string | int | float | bool | date |
//!                                       # string_list | json | extra | <Model> |
//!                                       # list<Model>  (extra: every field not named
//!                                       # by the others, flattened into a map)
//!   doc = "..."
//!   pii = "certificate_no"              # optional
//!   aliases = ["CertificateType"]       # optional other wire names
//!
//! [[model]]                             # a hand-written type of the crate, used as a
//! name = "Licences"                     # response: `external = true`, no fields
//! doc = "..."
//! external = true
//!
//! [[code]]
//! code = "603"
//! outcome = "error"                     # ok | no_record | error
//! kind = "insufficient-balance"         # with outcome = "error"
//! charged = "no"                        # yes | no | unknown
//! message = "余额不足请充值"
//! ```

use std::collections::BTreeSet;

use serde::Deserialize;

/// Validators a param may name, and what they check.
pub const VALIDATORS: &[&str] = &[
    "person_name",    // cred_core::validate::person_name
    "resident_id",    // cred_core::validate::resident_id (GB 11643)
    "uscc",           // cred_core::validate::uscc (GB 32100)
    "uscc_if_shaped", // uscc check only when the value looks like one
    "non_empty",      // not blank
    "iso_date",       // a YYYY-MM-DD calendar date
    "license_id",     // GB/T 36904 licence identifier structure (check character: warning)
    "certificate_id", // a GB/T 36904 identifier (checked) or another platform form (non-blank)
];

/// PII classes a param or field may carry (cred_core::mask::Pii).
pub const PII_CLASSES: &[&str] = &[
    "name",
    "id_number",
    "phone",
    "certificate_no",
    "licence_identifier",
    "other",
];

/// What a param's value may identify for an audit record (cred_core::AuditSubject).
pub const SUBJECTS: &[&str] = &[
    "name",
    "id_number",
    "certificate_no",
    "licence_id",
    "company",
];

/// Error kinds a code may map to (cred_core::ErrorKind).
pub const KINDS: &[&str] = &[
    "auth",
    "permission",
    "invalid-argument",
    "not-found",
    "throttled",
    "quota-exhausted",
    "insufficient-balance",
    "unavailable",
    "internal",
    "config",
    "unknown",
];

/// A whole `api.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Provider identity.
    pub provider: Provider,
    /// Endpoints, in order.
    #[serde(default)]
    pub endpoint: Vec<EndpointSpec>,
    /// Response models.
    #[serde(default)]
    pub model: Vec<ModelSpec>,
    /// The provider's code table.
    #[serde(default)]
    pub code: Vec<CodeSpec>,
    /// The client's credentials, variables and defaults (see `crate::client`).
    #[serde(default)]
    pub client: Option<crate::client::ClientSpec>,
}

/// `[provider]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Provider id (snake_case).
    pub name: String,
    /// Human name.
    pub title: String,
}

/// `[[endpoint]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// Operation id and client method name (snake_case).
    pub name: String,
    /// Provider's title.
    pub title: String,
    /// Documentation.
    pub doc: String,
    /// `GET` or `POST`.
    pub method: String,
    /// Path below the base URL.
    pub path: String,
    /// `form`, `query` or `json`.
    pub encoding: String,
    /// `paid` or `free`.
    pub billing: String,
    /// Why the provider discontinued it, if it did.
    #[serde(default)]
    pub deprecated: Option<String>,
    /// Request type name.
    pub request: String,
    /// Response model name.
    pub response: String,
    /// A hand-written check across parameters, `crate::<check>(&request)`, run after the
    /// per-parameter ones.
    #[serde(default)]
    pub check: Option<String>,
    /// Parameters, in wire order.
    #[serde(default)]
    pub param: Vec<ParamSpec>,
}

/// `[[endpoint.param]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Rust name (snake_case).
    pub name: String,
    /// Wire name.
    pub wire: String,
    /// `string`, `int` or `bool`.
    #[serde(rename = "type")]
    pub ty: String,
    /// Whether it must be given.
    #[serde(default)]
    pub required: bool,
    /// Documentation.
    pub doc: String,
    /// A validator from [`VALIDATORS`].
    #[serde(default)]
    pub validator: Option<String>,
    /// A class from [`PII_CLASSES`].
    #[serde(default)]
    pub pii: Option<String>,
    /// What the value identifies for an audit record, from [`SUBJECTS`] (default: from
    /// `pii`: a name, an ID number, a certificate number or a licence identifier).
    #[serde(default)]
    pub subject: Option<String>,
    /// Maximum length in characters.
    #[serde(default)]
    pub max_len: Option<usize>,
    /// A constant value: the param is always sent with it and cannot be set.
    #[serde(default)]
    pub value: Option<String>,
}

impl ParamSpec {
    /// What the value identifies for an audit record, if anything.
    pub fn audit_subject(&self) -> Option<&str> {
        if let Some(subject) = &self.subject {
            return Some(subject);
        }
        match self.pii.as_deref()? {
            "name" => Some("name"),
            "id_number" => Some("id_number"),
            "certificate_no" => Some("certificate_no"),
            "licence_identifier" => Some("licence_id"),
            _ => None,
        }
    }

    /// Whether `type` names a type of the provider crate (implementing `WireValue`).
    pub fn is_custom(&self) -> bool {
        is_camel(&self.ty)
    }

    /// Whether the param is a constant (`value = ...`).
    pub fn is_const(&self) -> bool {
        self.value.is_some()
    }
}

/// `[[model]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Type name (CamelCase).
    pub name: String,
    /// Documentation.
    pub doc: String,
    /// Defined by hand in the provider crate (re-exported at its root); not rendered.
    #[serde(default)]
    pub external: bool,
    /// Fields.
    #[serde(default)]
    pub field: Vec<FieldSpec>,
}

/// `[[model.field]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Rust name (snake_case).
    pub name: String,
    /// Wire name.
    pub wire: String,
    /// Field type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Documentation.
    pub doc: String,
    /// A class from [`PII_CLASSES`].
    #[serde(default)]
    pub pii: Option<String>,
    /// Other wire names accepted when decoding.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// `[[code]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeSpec {
    /// The code as text.
    pub code: String,
    /// `ok`, `no_record` or `error`.
    pub outcome: String,
    /// Error kind, with `outcome = "error"`.
    #[serde(default)]
    pub kind: Option<String>,
    /// `yes`, `no` or `unknown`.
    pub charged: String,
    /// Provider's message.
    pub message: String,
}

/// A field type, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// `Option<String>`.
    String,
    /// `Option<i64>`.
    Int,
    /// `Option<f64>`.
    Float,
    /// `Option<bool>`.
    Bool,
    /// `Option<DateText>`.
    Date,
    /// `Vec<String>`.
    StringList,
    /// `Option<serde_json::Value>`: any JSON, kept as it came.
    Json,
    /// `BTreeMap<String, serde_json::Value>`, flattened: every field not named otherwise.
    Extra,
    /// `Option<Model>`.
    Model(String),
    /// `Vec<Model>`.
    List(String),
}

impl FieldType {
    /// Parses a `type = "..."` value.
    pub fn parse(s: &str) -> FieldType {
        match s {
            "string" => FieldType::String,
            "int" => FieldType::Int,
            "float" => FieldType::Float,
            "bool" => FieldType::Bool,
            "date" => FieldType::Date,
            "string_list" => FieldType::StringList,
            "json" => FieldType::Json,
            "extra" => FieldType::Extra,
            _ => match s.strip_prefix("list<").and_then(|r| r.strip_suffix('>')) {
                Some(inner) => FieldType::List(inner.to_owned()),
                None => FieldType::Model(s.to_owned()),
            },
        }
    }
}

fn is_snake(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_camel(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars().all(|c| c.is_ascii_alphanumeric())
}

impl Spec {
    /// Parses and checks a spec; every problem is reported, one per line.
    pub fn parse(text: &str) -> Result<Spec, String> {
        let spec: Spec = toml::from_str(text).map_err(|e| e.to_string())?;
        let problems = spec.problems();
        if problems.is_empty() {
            Ok(spec)
        } else {
            Err(problems.join("\n"))
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if let Some(client) = &self.client {
            p.extend(client.problems());
        }
        if !is_snake(&self.provider.name) {
            p.push(format!(
                "provider.name `{}` must be snake_case",
                self.provider.name
            ));
        }
        let models: BTreeSet<&str> = self.model.iter().map(|m| m.name.as_str()).collect();
        if models.len() != self.model.len() {
            p.push("two models have the same name".to_owned());
        }
        let mut names = BTreeSet::new();
        let mut types = BTreeSet::new();
        for e in &self.endpoint {
            let at = format!("endpoint `{}`", e.name);
            if !is_snake(&e.name) {
                p.push(format!("{at}: name must be snake_case"));
            }
            if !names.insert(e.name.as_str()) {
                p.push(format!("{at}: defined twice"));
            }
            if !matches!(e.method.as_str(), "GET" | "POST") {
                p.push(format!("{at}: method `{}` is not GET or POST", e.method));
            }
            if !e.path.starts_with('/') || e.path.contains(['?', '#', ' ']) {
                p.push(format!(
                    "{at}: path `{}` must start with / and hold no query",
                    e.path
                ));
            }
            if !matches!(e.encoding.as_str(), "form" | "query" | "json") {
                p.push(format!(
                    "{at}: encoding `{}` is not form, query or json",
                    e.encoding
                ));
            }
            if !matches!(e.billing.as_str(), "paid" | "free") {
                p.push(format!("{at}: billing `{}` is not paid or free", e.billing));
            }
            if !is_camel(&e.request) || !types.insert(e.request.as_str()) {
                p.push(format!(
                    "{at}: request `{}` must be a new CamelCase name",
                    e.request
                ));
            }
            if models.contains(e.request.as_str()) {
                p.push(format!(
                    "{at}: request `{}` collides with a model",
                    e.request
                ));
            }
            if let Some(c) = &e.check
                && !c.split("::").all(is_snake)
            {
                p.push(format!("{at}: check `{c}` must be a snake_case path"));
            }
            if !models.contains(e.response.as_str()) {
                p.push(format!(
                    "{at}: response `{}` is not a [[model]]",
                    e.response
                ));
            }
            let mut wires = BTreeSet::new();
            let mut pnames = BTreeSet::new();
            for param in &e.param {
                let at = format!("{at} param `{}`", param.name);
                if !is_snake(&param.name) || !pnames.insert(param.name.as_str()) {
                    p.push(format!("{at}: name must be a new snake_case name"));
                }
                if param.wire.is_empty() || !wires.insert(param.wire.as_str()) {
                    p.push(format!(
                        "{at}: wire name `{}` is empty or repeated",
                        param.wire
                    ));
                }
                if !matches!(param.ty.as_str(), "string" | "int" | "bool") && !param.is_custom() {
                    p.push(format!(
                        "{at}: type `{}` is not string, int, bool or a CamelCase type of the crate",
                        param.ty
                    ));
                }
                if param.is_custom() && param.pii.is_some() {
                    p.push(format!("{at}: a typed (CamelCase) param cannot carry pii"));
                }
                if param.is_const()
                    && (param.ty != "string" || param.validator.is_some() || param.pii.is_some())
                {
                    p.push(format!(
                        "{at}: a constant (`value`) must be a plain string param"
                    ));
                }
                if let Some(v) = &param.validator {
                    if !VALIDATORS.contains(&v.as_str()) {
                        p.push(format!(
                            "{at}: unknown validator `{v}` (known: {})",
                            VALIDATORS.join(", ")
                        ));
                    } else if param.ty != "string" {
                        p.push(format!("{at}: validator `{v}` needs type string"));
                    }
                }
                if let Some(c) = &param.pii
                    && !PII_CLASSES.contains(&c.as_str())
                {
                    p.push(format!(
                        "{at}: unknown pii class `{c}` (known: {})",
                        PII_CLASSES.join(", ")
                    ));
                }
                if let Some(c) = &param.subject {
                    if !SUBJECTS.contains(&c.as_str()) {
                        p.push(format!(
                            "{at}: unknown subject `{c}` (known: {})",
                            SUBJECTS.join(", ")
                        ));
                    } else if param.ty != "string" {
                        p.push(format!("{at}: subject `{c}` needs type string"));
                    }
                }
            }
        }
        for m in &self.model {
            let at = format!("model `{}`", m.name);
            if !is_camel(&m.name) {
                p.push(format!("{at}: name must be CamelCase"));
            }
            if m.external && !m.field.is_empty() {
                p.push(format!("{at}: an external model has no fields"));
            }
            let extras = m
                .field
                .iter()
                .filter(|f| FieldType::parse(&f.ty) == FieldType::Extra)
                .count();
            if extras > 1 {
                p.push(format!("{at}: at most one field of type extra"));
            }
            let mut fnames = BTreeSet::new();
            for f in &m.field {
                let at = format!("{at} field `{}`", f.name);
                if !is_snake(&f.name) || !fnames.insert(f.name.as_str()) {
                    p.push(format!("{at}: name must be a new snake_case name"));
                }
                match FieldType::parse(&f.ty) {
                    FieldType::Model(t) | FieldType::List(t) if !models.contains(t.as_str()) => {
                        p.push(format!(
                            "{at}: type `{}` is neither a scalar nor a [[model]]",
                            f.ty
                        ));
                    }
                    _ => {}
                }
                if let Some(c) = &f.pii
                    && !PII_CLASSES.contains(&c.as_str())
                {
                    p.push(format!("{at}: unknown pii class `{c}`"));
                }
            }
        }
        let mut codes = BTreeSet::new();
        for c in &self.code {
            let at = format!("code `{}`", c.code);
            if !codes.insert(c.code.as_str()) {
                p.push(format!("{at}: defined twice"));
            }
            match (c.outcome.as_str(), &c.kind) {
                ("ok" | "no_record", None) => {}
                ("ok" | "no_record", Some(_)) => p.push(format!("{at}: only errors take a kind")),
                ("error", Some(k)) if KINDS.contains(&k.as_str()) => {}
                ("error", Some(k)) => p.push(format!(
                    "{at}: unknown kind `{k}` (known: {})",
                    KINDS.join(", ")
                )),
                ("error", None) => p.push(format!("{at}: an error needs a kind")),
                (o, _) => p.push(format!("{at}: outcome `{o}` is not ok, no_record or error")),
            }
            if !matches!(c.charged.as_str(), "yes" | "no" | "unknown") {
                p.push(format!(
                    "{at}: charged `{}` is not yes, no or unknown",
                    c.charged
                ));
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[provider]
name = "demo"
title = "Demo"

[[endpoint]]
name = "lookup"
title = "查询"
doc = "Looks up."
method = "POST"
path = "/lookup"
encoding = "form"
billing = "paid"
request = "Lookup"
response = "LookupResult"
  [[endpoint.param]]
  name = "idcard"
  wire = "idcard"
  type = "string"
  required = true
  doc = "ID"
  validator = "resident_id"
  pii = "id_number"

[[model]]
name = "LookupResult"
doc = "Result."
  [[model.field]]
  name = "items"
  wire = "items"
  type = "list<Item>"
  doc = "Items."

[[model]]
name = "Item"
doc = "Item."
  [[model.field]]
  name = "when"
  wire = "when"
  type = "date"
  doc = "When."

[[code]]
code = "0"
outcome = "ok"
charged = "yes"
message = "ok"
"#;

    #[test]
    fn a_good_spec_parses() {
        let spec = Spec::parse(GOOD);
        assert!(spec.is_ok(), "{spec:?}");
    }

    fn problems_of(edit: impl Fn(&str) -> String) -> String {
        match Spec::parse(&edit(GOOD)) {
            Ok(_) => String::new(),
            Err(e) => e,
        }
    }

    #[test]
    fn each_mistake_is_named() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "validator = \"resident_id\"",
                "validator = \"shoe_size\"",
                "unknown validator `shoe_size`",
            ),
            (
                "pii = \"id_number\"",
                "pii = \"blood\"",
                "unknown pii class `blood`",
            ),
            (
                "pii = \"id_number\"",
                "pii = \"id_number\"\nsubject = \"pet\"",
                "unknown subject `pet`",
            ),
            (
                "type = \"list<Item>\"",
                "type = \"list<Nope>\"",
                "`list<Nope>` is neither",
            ),
            (
                "response = \"LookupResult\"",
                "response = \"Missing\"",
                "`Missing` is not a [[model]]",
            ),
            ("method = \"POST\"", "method = \"PUT\"", "method `PUT`"),
            (
                "outcome = \"ok\"",
                "outcome = \"error\"",
                "an error needs a kind",
            ),
            (
                "charged = \"yes\"",
                "charged = \"maybe\"",
                "charged `maybe`",
            ),
            (
                "path = \"/lookup\"",
                "path = \"lookup?x=1\"",
                "must start with /",
            ),
            (
                "billing = \"paid\"",
                "billing = \"cheap\"",
                "billing `cheap`",
            ),
            (
                "type = \"string\"",
                "type = \"HolderType\"",
                "typed (CamelCase) param cannot carry pii",
            ),
            (
                "type = \"string\"",
                "type = \"strnig\"",
                "type `strnig` is not string, int, bool",
            ),
            (
                "required = true",
                "required = true\nvalue = \"x\"",
                "a constant (`value`) must be a plain string param",
            ),
            (
                "doc = \"Result.\"",
                "doc = \"Result.\"\nexternal = true",
                "an external model has no fields",
            ),
        ];
        for (from, to, expected) in cases {
            let problems = problems_of(|s| s.replacen(from, to, 1));
            assert!(problems.contains(expected), "{to}: got {problems:?}");
        }
        let unknown_key =
            problems_of(|s| s.replacen("doc = \"Looks up.\"", "doc = \"x\"\ncolour = \"red\"", 1));
        assert!(unknown_key.contains("colour"), "{unknown_key}");
    }
}
