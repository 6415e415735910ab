//! Juhe authorises every call with the `key` parameter.

use std::fmt;

use async_trait::async_trait;
use cred_core::{Authorizer, Error, OutgoingRequest, Redactor, Secret};

/// Prepends `key` to every request's parameters; registers it for redaction.
pub(crate) struct KeyAuth {
    pub(crate) key: Secret,
}

impl fmt::Debug for KeyAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyAuth { key: \"[redacted]\" }")
    }
}

#[async_trait]
impl Authorizer for KeyAuth {
    async fn authorize(&self, request: &mut OutgoingRequest) -> Result<(), Error> {
        request
            .params
            .insert(0, ("key", self.key.expose().to_owned()));
        Ok(())
    }

    fn authorize_now(&self, request: &mut OutgoingRequest) -> Option<Result<(), Error>> {
        request
            .params
            .insert(0, ("key", self.key.expose().to_owned()));
        Some(Ok(()))
    }

    fn secret_fields(&self) -> &'static [&'static str] {
        &["key"]
    }

    fn register_secrets<'a>(&'a self, redactor: &mut Redactor<'a>) {
        redactor.secret(self.key.expose());
    }
}
