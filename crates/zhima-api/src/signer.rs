//! Alipay OpenAPI v3 request signing (DESIGN.md §3.4):
//!
//! ```text
//! authString   = app_id=<id>[,app_cert_sn=<sn>],nonce=<unique>,timestamp=<ms>
//! content      = authString \n METHOD \n path?query \n body \n [app_auth_token \n]
//! authorization: ALIPAY-SHA256withRSA <authString>,sign=<base64 RSA-SHA256(content)>
//! ```
//!
//! The path and query signed are the bytes sent: [`encode_query`] builds the query
//! once and the request goes out with exactly that string.

use cred_core::Error;

use crate::keys::AppKey;

/// The authorization scheme.
pub const SCHEME: &str = "ALIPAY-SHA256withRSA";

/// `app_id=…[,app_cert_sn=…],nonce=…,timestamp=…`.
pub fn auth_string(
    app_id: &str,
    app_cert_sn: Option<&str>,
    nonce: &str,
    timestamp_ms: u64,
) -> String {
    match app_cert_sn {
        Some(sn) => {
            format!("app_id={app_id},app_cert_sn={sn},nonce={nonce},timestamp={timestamp_ms}")
        }
        None => format!("app_id={app_id},nonce={nonce},timestamp={timestamp_ms}"),
    }
}

/// The content to sign: `authString\nMETHOD\npath_and_query\nbody\n`, plus
/// `app_auth_token\n` when one is used.
pub fn sign_content(
    auth_string: &str,
    method: &str,
    path_and_query: &str,
    body: &str,
    app_auth_token: Option<&str>,
) -> String {
    let mut content = String::with_capacity(
        auth_string.len() + method.len() + path_and_query.len() + body.len() + 8,
    );
    for part in [auth_string, method, path_and_query, body] {
        content.push_str(part);
        content.push('\n');
    }
    if let Some(token) = app_auth_token {
        content.push_str(token);
        content.push('\n');
    }
    content
}

/// The `authorization` header value.
pub fn authorization(auth_string: &str, signature_b64: &str) -> String {
    format!("{SCHEME} {auth_string},sign={signature_b64}")
}

/// Signs a request: the `authorization` header value for `content`'s parts.
pub fn sign_request(
    key: &AppKey,
    auth_string: &str,
    method: &str,
    path_and_query: &str,
    body: &str,
    app_auth_token: Option<&str>,
) -> Result<String, Error> {
    let content = sign_content(auth_string, method, path_and_query, body, app_auth_token);
    Ok(authorization(auth_string, &key.sign(content.as_bytes())?))
}

/// Percent-encodes a query component: unreserved characters (`A-Z a-z 0-9 - _ . ~`)
/// stay, every other byte of the UTF-8 becomes `%XX` (upper case); a space is `%20`.
pub fn encode_component(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// `k=v&k=v`, each part encoded with [`encode_component`], in the given order.
pub fn encode_query(params: &[(&str, String)]) -> String {
    let mut out =
        String::with_capacity(params.iter().map(|(k, v)| k.len() + v.len() * 3 + 2).sum());
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_component(k, &mut out);
        out.push('=');
        encode_component(v, &mut out);
    }
    out
}

/// A fresh 32-hex-digit nonce (also used as `alipay-request-id`).
pub fn nonce() -> String {
    let a = fastrand::u128(..);
    format!("{a:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encoding_is_strict_and_utf8() {
        let q = encode_query(&[
            ("conn_key", "教师 认证 001".to_owned()),
            ("x", "a+b=c&d/~".to_owned()),
        ]);
        assert_eq!(
            q,
            "conn_key=%E6%95%99%E5%B8%88%20%E8%AE%A4%E8%AF%81%20001&x=a%2Bb%3Dc%26d%2F~"
        );
    }

    #[test]
    fn content_layout() {
        let a = auth_string("2021", Some("sn"), "n", 7);
        assert_eq!(a, "app_id=2021,app_cert_sn=sn,nonce=n,timestamp=7");
        assert_eq!(
            sign_content(&a, "POST", "/v3/x?y=1", "{}", Some("tok")),
            "app_id=2021,app_cert_sn=sn,nonce=n,timestamp=7\nPOST\n/v3/x?y=1\n{}\ntok\n"
        );
        assert_ne!(nonce(), nonce());
        assert_eq!(nonce().len(), 32);
    }
}
