//! What a caller records about one provider call ([`Entry`]), and whom it was about
//! ([`Subject`]): plain values in memory only, turned into keyed HMACs before anything
//! is written.

use std::fmt;
use std::time::{Duration, SystemTime};

/// What a subject's value identifies. The name is also the label `cred audit find`
/// and the stored record use (`idcard:<hmac>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubjectKind {
    /// A resident ID number (居民身份证号码); compared upper-cased (`x` = `X`).
    IdNumber,
    /// A person's name.
    Name,
    /// A certificate number (证书编号).
    CertificateNo,
    /// An electronic licence's identifier or number (证照标识, 证照编号).
    LicenceId,
    /// A unified social credit code (统一社会信用代码); compared upper-cased.
    CreditCode,
    /// A company's name.
    CompanyName,
}

impl SubjectKind {
    /// Every kind.
    pub const ALL: [SubjectKind; 6] = [
        SubjectKind::IdNumber,
        SubjectKind::Name,
        SubjectKind::CertificateNo,
        SubjectKind::LicenceId,
        SubjectKind::CreditCode,
        SubjectKind::CompanyName,
    ];

    /// The label in stored records.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::IdNumber => "idcard",
            SubjectKind::Name => "name",
            SubjectKind::CertificateNo => "certificate-no",
            SubjectKind::LicenceId => "licence-id",
            SubjectKind::CreditCode => "credit-code",
            SubjectKind::CompanyName => "company-name",
        }
    }

    /// The kind a label names.
    pub fn parse(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == label)
    }

    /// The value as it is compared: trimmed, and upper-cased where case means nothing.
    pub fn normalize(self, value: &str) -> String {
        let v = value.trim();
        match self {
            SubjectKind::IdNumber | SubjectKind::CreditCode => v.to_ascii_uppercase(),
            _ => v.to_owned(),
        }
    }
}

/// Whom a call was about: one identifier of a person, a licence or a company. Its value
/// never leaves memory: the ledger stores its keyed HMAC. `Debug` shows the kind only.
#[derive(Clone, PartialEq, Eq)]
pub struct Subject {
    kind: SubjectKind,
    value: String,
}

impl Subject {
    /// A subject of `kind` with `value` (normalised as [`SubjectKind::normalize`] says).
    pub fn new(kind: SubjectKind, value: &str) -> Self {
        Self {
            kind,
            value: kind.normalize(value),
        }
    }

    /// What the value identifies.
    pub fn kind(&self) -> SubjectKind {
        self.kind
    }

    pub(crate) fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subject({}: [redacted])", self.kind.as_str())
    }
}

/// How the call ended, as the caller saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// An answer with a record.
    Found,
    /// An answer without a record ("no record").
    NotFound,
    /// An error (its kind in [`Entry::error_kind`]).
    Error,
}

impl Outcome {
    /// The label in stored records.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Found => "found",
            Outcome::NotFound => "not-found",
            Outcome::Error => "error",
        }
    }

    pub(crate) fn parse(label: &str) -> Option<Self> {
        [Outcome::Found, Outcome::NotFound, Outcome::Error]
            .into_iter()
            .find(|o| o.as_str() == label)
    }
}

/// One provider call to record. Built with [`Entry::new`] and its setters; the time is
/// taken when it is built.
#[derive(Debug, Clone)]
pub struct Entry {
    pub(crate) at: SystemTime,
    pub(crate) caller: String,
    pub(crate) purpose: Option<String>,
    pub(crate) provider: String,
    pub(crate) operation: String,
    pub(crate) outcome: Outcome,
    pub(crate) error_kind: Option<String>,
    pub(crate) charged: cred_core::Charged,
    pub(crate) request_id: Option<String>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) latency: Duration,
    pub(crate) subjects: Vec<Subject>,
}

impl Entry {
    /// A call by `caller` (a gateway key's name, or `cli:<user>`, `batch:<user>`) of
    /// `provider`'s `operation`, which ended with `outcome` and `charged`.
    pub fn new(
        caller: &str,
        provider: &str,
        operation: &str,
        outcome: Outcome,
        charged: cred_core::Charged,
    ) -> Self {
        Self {
            at: SystemTime::now(),
            caller: caller.to_owned(),
            purpose: None,
            provider: provider.to_owned(),
            operation: operation.to_owned(),
            outcome,
            error_kind: None,
            charged,
            request_id: None,
            idempotency_key: None,
            latency: Duration::ZERO,
            subjects: Vec::new(),
        }
    }

    /// The entry of a call's result: found or not, charged or not, its request id, or
    /// its error's kind.
    pub fn of_result<T>(
        caller: &str,
        provider: &str,
        operation: &str,
        result: &Result<cred_core::Answer<T>, cred_core::Error>,
    ) -> Self {
        match result {
            Ok(answer) => {
                let outcome = if answer.found() {
                    Outcome::Found
                } else {
                    Outcome::NotFound
                };
                let mut entry = Self::new(caller, provider, operation, outcome, answer.charged());
                entry.request_id = answer.request_id().map(str::to_owned);
                entry.latency = answer.meta().elapsed;
                entry
            }
            Err(e) => {
                let mut entry = Self::new(caller, provider, operation, Outcome::Error, e.charged());
                entry.error_kind = Some(e.kind().as_str().to_owned());
                entry.request_id = e.request_id().map(str::to_owned);
                entry
            }
        }
    }

    /// Why the call was made (the purpose of processing, PIPL Art. 17).
    pub fn purpose(mut self, purpose: Option<&str>) -> Self {
        self.purpose = purpose
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        self
    }

    /// The error's kind, for an [`Outcome::Error`].
    pub fn error_kind(mut self, kind: &str) -> Self {
        self.error_kind = Some(kind.to_owned());
        self
    }

    /// The provider's request id.
    pub fn request_id(mut self, id: Option<&str>) -> Self {
        self.request_id = id.map(str::to_owned);
        self
    }

    /// The caller's idempotency key (stored as its keyed HMAC).
    pub fn idempotency_key(mut self, key: Option<&str>) -> Self {
        self.idempotency_key = key.map(str::to_owned);
        self
    }

    /// How long the call took.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// When the call ended (the time [`Entry::new`] was called, by default).
    pub fn at(mut self, at: SystemTime) -> Self {
        self.at = at;
        self
    }

    /// Adds whom `request` is about ([`cred_core::ApiRequest::subjects`], generated from
    /// the provider's spec): names, resident ID numbers, certificate and licence numbers,
    /// companies. A holder code that is a unified social credit code, and a company
    /// given by its credit code, are recorded as [`SubjectKind::CreditCode`].
    pub fn about<R: cred_core::ApiRequest>(mut self, request: &R) -> Self {
        use cred_core::AuditSubject as A;
        use cred_core::validate;
        for (subject, value) in request.subjects() {
            let kind = match subject {
                A::Name => SubjectKind::Name,
                A::IdNumber
                    if validate::resident_id(value).is_err()
                        && validate::looks_like_uscc(value) =>
                {
                    SubjectKind::CreditCode
                }
                A::IdNumber => SubjectKind::IdNumber,
                A::CertificateNo => SubjectKind::CertificateNo,
                A::LicenceId => SubjectKind::LicenceId,
                A::Company if validate::looks_like_uscc(value) => SubjectKind::CreditCode,
                _ => SubjectKind::CompanyName,
            };
            self = self.subject(kind, value);
        }
        self
    }

    /// Adds a subject the call was about (blank values are skipped).
    pub fn subject(mut self, kind: SubjectKind, value: &str) -> Self {
        let subject = Subject::new(kind, value);
        if !subject.value.is_empty() && !self.subjects.contains(&subject) {
            self.subjects.push(subject);
        }
        self
    }
}
