//! `cred check idcard|uscc|license-id VALUE`: local validation, no network.

use cred_core::{Error, validate};
use serde_json::json;

use crate::cli::{CheckArgs, CheckKind};
use crate::output::{Block, Failure, Output};

/// Runs `cred check`.
pub fn run(args: &CheckArgs) -> Result<Output, Failure> {
    let invalid = |field: &'static str, e: validate::ValidationError| {
        Failure::local(Error::invalid(field, e.reason))
    };
    let value = args.value.as_str();
    match args.kind {
        CheckKind::Idcard => {
            let id = validate::resident_id(value).map_err(|e| invalid("idcard", e))?;
            let sex = if id.is_male() { "male" } else { "female" };
            let mut b = Block::titled("resident ID number (GB 11643-1999): valid");
            b.row("value", id.to_string())
                .row("region code", id.region_code())
                .row("birth date", id.birth_date().to_string())
                .row("sex", sex);
            Ok(Output::Plain {
                json: json!({
                    "check": "idcard",
                    "valid": true,
                    "value": id.to_string(),
                    "region_code": id.region_code(),
                    "birth_date": id.birth_date().to_string(),
                    "sex": sex,
                }),
                human: vec![b],
            })
        }
        CheckKind::Uscc => {
            let code = validate::uscc(value).map_err(|e| invalid("uscc", e))?;
            let mut b = Block::titled("unified social credit code (GB 32100-2015): valid");
            b.row("value", code.as_str())
                .row("registration authority", code.authority().to_string())
                .row("organization code", code.organization_code());
            Ok(Output::Plain {
                json: json!({
                    "check": "uscc",
                    "valid": true,
                    "value": code.as_str(),
                    "registration_authority": code.authority().to_string(),
                    "organization_code": code.organization_code(),
                }),
                human: vec![b],
            })
        }
        CheckKind::LicenseId => {
            let id = validate::license_id(value).map_err(|e| invalid("license_id", e))?;
            let warning = id.warning();
            if let Some(w) = &warning {
                crate::output::err(&format!("warning: {w}\n"));
            }
            let mut b = Block::titled("electronic-licence identifier (GB/T 36904-2018): valid");
            b.row("value", id.to_string())
                .row("type code", id.type_code())
                .row("issuer", id.issuer())
                .row("serial", id.serial())
                .row("version", id.version())
                .row(
                    "check character",
                    if id.check_ok() {
                        format!("{} (matches)", id.check())
                    } else {
                        format!(
                            "{} (expected {}: non-standard)",
                            id.check(),
                            id.expected_check()
                        )
                    },
                );
            Ok(Output::Plain {
                json: json!({
                    "check": "license-id",
                    "valid": true,
                    "value": id.to_string(),
                    "type_code": id.type_code(),
                    "issuer": id.issuer(),
                    "serial": id.serial(),
                    "version": id.version(),
                    "check_character": id.check().to_string(),
                    "check_ok": id.check_ok(),
                    "warning": warning,
                }),
                human: vec![b],
            })
        }
    }
}
