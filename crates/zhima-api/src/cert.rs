//! Certificate mode (公钥证书模式): the app certificate's serial number sent as
//! `app_cert_sn`, the root bundle's as `alipay-root-cert-sn`, and the Alipay
//! certificate's checked against the response `alipay-sn`.
//!
//! A certificate's SN is `md5_hex(issuer + serial)`, the issuer written as RFC 2253 (the
//! RDNs in reverse order, `CN=…,OU=…,O=…,C=…`) and the serial in decimal, as Alipay's
//! SDKs compute it. The root SN joins the SNs of the bundle's RSA-signed certificates
//! with `_` (Alipay's bundle also holds an ECC root, which does not count).

use md5::{Digest as _, Md5};
use x509_cert::Certificate;
use x509_cert::der::{Decode as _, Encode as _};

use cred_core::Error;

/// `sha1WithRSAEncryption`, `sha256WithRSAEncryption`, ... all start with this OID.
const RSA_SIGNATURE_OIDS: &str = "1.2.840.113549.1.1";

/// A big-endian unsigned integer in decimal.
fn decimal(be: &[u8]) -> String {
    let mut digits: Vec<u8> = vec![0]; // little-endian base-10 digits
    for &byte in be {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

fn sn_of(cert: &Certificate) -> String {
    let issuer = cert.tbs_certificate.issuer.to_string();
    let serial = decimal(cert.tbs_certificate.serial_number.as_bytes());
    let digest = Md5::digest(format!("{issuer}{serial}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_one(pem: &str, what: &str) -> Result<Certificate, Error> {
    let der = crate::keys::der_from_text(pem)
        .map_err(|why| Error::config(format!("the {what} is unreadable: {why}")))?;
    Certificate::from_der(&der)
        .map_err(|e| Error::config(format!("the {what} is not an X.509 certificate: {e}")))
}

/// The SN of the certificate in `pem` (the first one, if it holds several).
pub fn cert_sn(pem: &str) -> Result<String, Error> {
    Ok(sn_of(&parse_one(pem, "certificate")?))
}

/// The root SN of a bundle: the SNs of its RSA-signed certificates joined by `_`.
pub fn root_cert_sn(bundle_pem: &str) -> Result<String, Error> {
    let certs = Certificate::load_pem_chain(bundle_pem.as_bytes()).map_err(|e| {
        Error::config(format!(
            "the Alipay root certificate bundle is unreadable: {e}"
        ))
    })?;
    let sns: Vec<String> = certs
        .iter()
        .filter(|c| {
            c.signature_algorithm
                .oid
                .to_string()
                .starts_with(RSA_SIGNATURE_OIDS)
        })
        .map(sn_of)
        .collect();
    if sns.is_empty() {
        return Err(Error::config(
            "the Alipay root certificate bundle holds no RSA-signed certificate",
        ));
    }
    Ok(sns.join("_"))
}

/// The SubjectPublicKeyInfo (DER) of the certificate in `pem`.
pub fn public_key_der(pem: &str, what: &str) -> Result<Vec<u8>, Error> {
    parse_one(pem, what)?
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| Error::config(format!("the {what}'s public key is unreadable: {e}")))
}

/// The three serial numbers of certificate mode, computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertSns {
    /// `app_cert_sn` (in the auth string).
    pub app: String,
    /// `alipay-root-cert-sn` (request header).
    pub root: String,
    /// The Alipay certificate's SN, which responses must name in `alipay-sn`.
    pub alipay: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(name: &str) -> String {
        include_str!("../tests/fixtures/expected_sn.txt")
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    }

    #[test]
    fn serial_numbers_match_the_independent_computation() {
        let app = cert_sn(include_str!("../tests/fixtures/app_cert.pem")).unwrap();
        assert_eq!(app, expected("app_cert"));
        let alipay = cert_sn(include_str!("../tests/fixtures/alipay_cert.pem")).unwrap();
        assert_eq!(alipay, expected("alipay_cert"));
        let root = root_cert_sn(include_str!("../tests/fixtures/root_bundle.pem")).unwrap();
        assert_eq!(root, expected("root_cert_sn"));
        assert_eq!(root.split('_').count(), 2, "the EC root is left out");
    }

    #[test]
    fn decimal_serials() {
        assert_eq!(decimal(&[0]), "0");
        assert_eq!(
            decimal(&[0x1A, 0x2B, 0x3C, 0x4D, 0x5E, 0x6F, 0x70, 0x81, 0x92]),
            "482730796026673791378"
        );
        assert_eq!(decimal(&[0x01, 0x00]), "256");
    }

    #[test]
    fn bad_input_is_a_config_error() {
        assert!(cert_sn("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").is_err());
        assert!(root_cert_sn(include_str!("../tests/fixtures/root_ec.pem")).is_err());
    }
}
