//! Pieces every provider emulation shares: magic behaviours, parameter parsing, canned
//! failure bodies.

use std::collections::HashMap;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// What a magic input makes the sandbox do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Answer with this provider code and message (not billed).
    Code(u32, &'static str),
    /// The provider's "no record" answer.
    NoRecord,
    /// A JSON body cut off in the middle (HTTP 200).
    Truncated,
    /// An nginx "502 Bad Gateway" HTML page.
    HtmlBadGateway,
    /// Wait the configured slow delay, then answer normally.
    Slow,
}

/// A JSON body with the providers' usual content type.
pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    r
}

/// An nginx "502 Bad Gateway" page, as a gateway in front of a provider sends it.
pub(crate) fn html_bad_gateway() -> Response {
    let mut r = (
        StatusCode::BAD_GATEWAY,
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
    )
        .into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    r
}

/// Form parameters from the query string (GET) or the urlencoded body (POST).
pub(crate) fn params(
    method: &Method,
    query: Option<String>,
    body: &Bytes,
) -> HashMap<String, String> {
    let source: &[u8] = if method == Method::POST {
        body
    } else {
        query.as_deref().unwrap_or("").as_bytes()
    };
    form_urlencoded::parse(source).into_owned().collect()
}
