//! A record as stored: an [`Entry`](crate::Entry) with its subjects and idempotency key
//! replaced by keyed HMACs, its place in the chain and its MAC.
//!
//! Architecture Invariant: a record's MAC covers every stored field and the previous
//! record's MAC (`HMAC(chain key, "credkit-ledger-record v1", ledger id, previous MAC,
//! seq, fields…)`, each part length-prefixed), so that editing, deleting, inserting or
//! moving a record breaks the chain at that record.

use serde::Serialize;

use crate::entry::Entry;
use crate::key::Keys;

/// One stored record. Holds no personal value: subjects are `kind:<hex HMAC>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Record {
    /// Its place in the chain, from 1.
    pub seq: i64,
    /// When the call ended, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Who called: a gateway key's name, or `cli:<user>`, `batch:<user>`.
    pub caller: String,
    /// Why.
    pub purpose: Option<String>,
    /// The provider (`jumdata`, `juhe`, `zhima`, `zz-license`).
    pub provider: String,
    /// The operation, as on the command line.
    pub operation: String,
    /// `found`, `not-found` or `error`.
    pub outcome: String,
    /// The error's kind, for an error.
    pub error_kind: Option<String>,
    /// `yes`, `no` or `unknown`.
    pub charged: String,
    /// The provider's request id.
    pub request_id: Option<String>,
    /// The keyed HMAC of the caller's idempotency key (hex).
    pub idempotency_key_hmac: Option<String>,
    /// How long the call took, in microseconds.
    pub latency_us: i64,
    /// Whom it was about: `kind:<hex HMAC>` items, space-separated, sorted.
    pub subjects: String,
    /// The record's MAC (hex).
    pub mac: String,
}

/// The MAC the chain starts from.
pub(crate) fn genesis(keys: &Keys) -> [u8; 32] {
    keys.chain
        .tag(&[b"credkit-ledger-genesis v1", keys.ledger_id.as_bytes()])
}

/// The keyed HMAC of a subject's value (hex).
pub(crate) fn subject_tag(keys: &Keys, kind: &str, value: &str) -> String {
    cred_core::digest::hex_lower(&keys.subject.tag(&[kind.as_bytes(), value.as_bytes()]))
}

impl Record {
    /// `entry` as the record after the one whose MAC is `prev`.
    pub(crate) fn seal(
        entry: &Entry,
        keys: &Keys,
        seq: i64,
        prev: &[u8; 32],
    ) -> (Record, [u8; 32]) {
        let at_ms = entry
            .at
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let mut subjects: Vec<String> = entry
            .subjects
            .iter()
            .map(|s| {
                let kind = s.kind().as_str();
                format!("{kind}:{}", subject_tag(keys, kind, s.value()))
            })
            .collect();
        subjects.sort();
        subjects.dedup();
        let idempotency_key_hmac = entry.idempotency_key.as_deref().map(|k| {
            cred_core::digest::hex_lower(&keys.subject.tag(&[b"idempotency-key", k.as_bytes()]))
        });
        let mut record = Record {
            seq,
            at_ms,
            caller: entry.caller.clone(),
            purpose: entry.purpose.clone(),
            provider: entry.provider.clone(),
            operation: entry.operation.clone(),
            outcome: entry.outcome.as_str().to_owned(),
            error_kind: entry.error_kind.clone(),
            charged: entry.charged.as_str().to_owned(),
            request_id: entry.request_id.clone(),
            idempotency_key_hmac,
            latency_us: i64::try_from(entry.latency.as_micros()).unwrap_or(i64::MAX),
            subjects: subjects.join(" "),
            mac: String::new(),
        };
        let mac = record.compute_mac(keys, prev);
        record.mac = cred_core::digest::hex_lower(&mac);
        (record, mac)
    }

    /// The MAC this record's fields and `prev` give under `keys`.
    pub(crate) fn compute_mac(&self, keys: &Keys, prev: &[u8; 32]) -> [u8; 32] {
        fn opt(v: &Option<String>) -> Vec<u8> {
            match v {
                None => vec![0],
                Some(s) => {
                    let mut out = Vec::with_capacity(s.len() + 1);
                    out.push(1);
                    out.extend_from_slice(s.as_bytes());
                    out
                }
            }
        }
        keys.chain.tag(&[
            b"credkit-ledger-record v1",
            keys.ledger_id.as_bytes(),
            prev,
            &self.seq.to_be_bytes(),
            &self.at_ms.to_be_bytes(),
            self.caller.as_bytes(),
            &opt(&self.purpose),
            self.provider.as_bytes(),
            self.operation.as_bytes(),
            self.outcome.as_bytes(),
            &opt(&self.error_kind),
            self.charged.as_bytes(),
            &opt(&self.request_id),
            &opt(&self.idempotency_key_hmac),
            &self.latency_us.to_be_bytes(),
            self.subjects.as_bytes(),
        ])
    }
}
