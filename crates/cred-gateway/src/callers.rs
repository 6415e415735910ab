//! Who may call: API keys kept only as SHA-256 digests, compared in constant time, and
//! what each caller may do (operations, rate, daily budget of charged calls).

use std::sync::Arc;

use cred_core::Error;
use subtle::ConstantTimeEq;

use crate::catalogue::Operation;

/// The prefix of every key `cred serve keygen` makes (`ck_`, then 43 base64url
/// characters: 256 random bits).
pub const KEY_PREFIX: &str = "ck_";

/// A new API key and the digest the configuration stores for it.
pub struct NewKey {
    /// The key itself: shown once, to be given to the caller.
    pub key: cred_core::Secret,
    /// `sha256:<64 hex digits>`: what goes into the configuration.
    pub digest: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

/// Makes a new random API key.
pub fn generate_key() -> Result<NewKey, Error> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    cred_core::seal::random_bytes(&mut bytes)?;
    let key = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let digest = key_digest(&key);
    Ok(NewKey {
        key: cred_core::Secret::from(key),
        digest,
    })
}

/// `sha256:<hex>` of `key`. Keys are 256 random bits, so an unsalted digest cannot be
/// reversed by guessing; a configuration file that leaks gives no key away.
pub fn key_digest(key: &str) -> String {
    format!("sha256:{}", cred_core::digest::sha256_hex(key.as_bytes()))
}

fn parse_digest(text: &str) -> Result<[u8; 32], String> {
    let hex = text
        .trim()
        .strip_prefix("sha256:")
        .ok_or("must start with `sha256:` (the line `cred serve keygen` prints)")?;
    if hex.len() != 64 {
        return Err("must hold 64 hex digits after `sha256:`".to_owned());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .map_err(|_| "must hold 64 hex digits after `sha256:`".to_owned())?;
    }
    Ok(out)
}

/// One caller, as configured.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Caller {
    /// Its name: in the audit ledger, the access log and the metrics.
    pub name: String,
    digest: [u8; 32],
    /// `provider/operation`, `provider/*` or `*`.
    pub operations: Vec<String>,
    /// Calls a second this caller may make (bursts of as many; across replicas when
    /// they share a Redis store).
    pub rate_limit: Option<u32>,
    /// Charged calls a day (UTC) this caller may make.
    pub daily_budget: Option<u64>,
}

impl Caller {
    /// A caller whose key has `digest` (`sha256:<hex>`), allowed `operations`.
    pub fn new(
        name: impl Into<String>,
        digest: &str,
        operations: Vec<String>,
    ) -> Result<Caller, String> {
        let name = name.into();
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(format!(
                "caller name {name:?} must be 1 to 64 ASCII letters, digits, `-`, `_` or `.` (it is a metrics label)"
            ));
        }
        let digest = parse_digest(digest).map_err(|e| format!("caller {name}: key_sha256 {e}"))?;
        for pattern in &operations {
            let known = pattern == "*"
                || crate::catalogue::OPERATIONS
                    .iter()
                    .any(|o| o.id() == *pattern || format!("{}/*", o.provider) == *pattern);
            if !known {
                return Err(format!(
                    "caller {name}: operation {pattern:?} is not one the gateway offers (use provider/operation, provider/* or *)"
                ));
            }
        }
        Ok(Caller {
            name,
            digest,
            operations,
            rate_limit: None,
            daily_budget: None,
        })
    }

    /// Sets the rate limit.
    pub fn rate_limit(mut self, per_second: Option<u32>) -> Self {
        self.rate_limit = per_second;
        self
    }

    /// Sets the daily budget of charged calls.
    pub fn daily_budget(mut self, calls: Option<u64>) -> Self {
        self.daily_budget = calls;
        self
    }

    /// Whether this caller may call `op`.
    pub fn may(&self, op: &Operation) -> bool {
        let id = op.id();
        let all = format!("{}/*", op.provider);
        self.operations
            .iter()
            .any(|p| p == "*" || *p == id || *p == all)
    }
}

/// The configured callers.
#[derive(Debug, Clone, Default)]
pub struct Callers {
    callers: Vec<Arc<Caller>>,
}

impl Callers {
    /// These callers; two with one name or one key are refused.
    pub fn new(callers: Vec<Caller>) -> Result<Callers, String> {
        for (i, a) in callers.iter().enumerate() {
            for b in &callers[i + 1..] {
                if a.name == b.name {
                    return Err(format!("two callers are named {}", a.name));
                }
                if a.digest == b.digest {
                    return Err(format!(
                        "callers {} and {} have the same key",
                        a.name, b.name
                    ));
                }
            }
        }
        Ok(Callers {
            callers: callers.into_iter().map(Arc::new).collect(),
        })
    }

    /// The callers, in order.
    pub fn list(&self) -> Vec<Caller> {
        self.callers.iter().map(|c| Caller::clone(c)).collect()
    }

    /// How many callers there are.
    pub fn len(&self) -> usize {
        self.callers.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.callers.is_empty()
    }

    /// The caller whose key is `presented`. Every configured digest is compared, in
    /// constant time, whatever matches: the time taken says nothing about which.
    pub fn authenticate(&self, presented: &str) -> Option<Arc<Caller>> {
        let digest = sha256(presented.as_bytes());
        let mut found: Option<&Arc<Caller>> = None;
        for caller in &self.callers {
            let equal: bool = caller.digest.ct_eq(&digest).into();
            if equal {
                found = Some(caller);
            }
        }
        found.cloned()
    }
}

fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_authenticates_its_caller_and_no_other() {
        let a = generate_key().unwrap_or_else(|e| unreachable!("{e}"));
        let b = generate_key().unwrap_or_else(|e| unreachable!("{e}"));
        assert!(a.key.expose().starts_with(KEY_PREFIX));
        assert_eq!(a.key.expose().len(), 3 + 43);
        assert!(!format!("{a:?}").contains(a.key.expose()));
        let callers = Callers::new(vec![
            Caller::new("one", &a.digest, vec!["*".into()]).unwrap_or_else(|e| unreachable!("{e}")),
            Caller::new("two", &b.digest, vec!["jumdata/*".into()])
                .unwrap_or_else(|e| unreachable!("{e}")),
        ])
        .unwrap_or_else(|e| unreachable!("{e}"));
        let name = |k: &str| callers.authenticate(k).map(|c| c.name.clone());
        assert_eq!(name(a.key.expose()).as_deref(), Some("one"));
        assert_eq!(name(b.key.expose()).as_deref(), Some("two"));
        assert_eq!(name("ck_wrong"), None);
        assert_eq!(name(&a.digest), None);
    }

    #[test]
    fn permissions_and_bad_configuration() {
        let k = generate_key().unwrap_or_else(|e| unreachable!("{e}"));
        let c = Caller::new(
            "hr",
            &k.digest,
            vec!["juhe/*".into(), "jumdata/idcard".into()],
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let op = |p, n| crate::catalogue::find(p, n).unwrap_or_else(|| unreachable!());
        assert!(c.may(op("juhe", "qualification")));
        assert!(c.may(op("jumdata", "idcard")));
        assert!(!c.may(op("jumdata", "credential")));
        assert!(Caller::new("hr", "abc", vec![]).is_err());
        assert!(Caller::new("h r", &k.digest, vec![]).is_err());
        assert!(Caller::new("hr", &k.digest, vec!["jumdata/nope".into()]).is_err());
        let dup = Callers::new(vec![c.clone(), c]);
        assert!(dup.is_err());
    }
}
