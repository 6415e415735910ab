//! Fetching the licence file behind a download link: streamed to a writer, with a size
//! cap, and the format (PDF or OFD) recognised from the file itself.

use std::fmt;

use cred_core::{Answer, Billing, CallSite, Encoding, Endpoint, Error, Method, Redactor};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::Serialize;

use crate::client::Client;
use crate::generated::ShareDownloadUrl;

/// Default cap on a downloaded file (20 MiB).
pub const DEFAULT_MAX_DOWNLOAD_BYTES: usize = 20 * 1024 * 1024;

/// Descriptor of file downloads (for errors and rate limiting).
pub static DOWNLOAD: Endpoint = Endpoint::new(
    CallSite::new("zz_license", "download"),
    "证照文件下载",
    Method::Get,
    "/",
    Encoding::Query,
    Billing::Free,
);

/// The format of a licence file (GB/T 36905 allows PDF and OFD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FileFormat {
    /// PDF (`%PDF-`).
    Pdf,
    /// OFD (a ZIP container, GB/T 33190).
    Ofd,
    /// Neither signature matched; see [`Download::content_type`].
    Unknown,
}

impl FileFormat {
    /// The usual file extension (`pdf`, `ofd`, `bin`).
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Pdf => "pdf",
            FileFormat::Ofd => "ofd",
            FileFormat::Unknown => "bin",
        }
    }

    /// Recognises a format from the first bytes of a file, then from the content type
    /// and the `fileFormat` the link names.
    pub fn detect(prefix: &[u8], content_type: Option<&str>, url: &str) -> FileFormat {
        if prefix.starts_with(b"%PDF-") {
            return FileFormat::Pdf;
        }
        if prefix.starts_with(b"PK\x03\x04") {
            return FileFormat::Ofd;
        }
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        let url = url.to_ascii_lowercase();
        if ct.contains("pdf") || url.contains("fileformat=pdf") {
            FileFormat::Pdf
        } else if ct.contains("ofd") || url.contains("fileformat=ofd") {
            FileFormat::Ofd
        } else {
            FileFormat::Unknown
        }
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileFormat::Pdf => "PDF",
            FileFormat::Ofd => "OFD",
            FileFormat::Unknown => "unknown",
        })
    }
}

/// What a download wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Download {
    /// The file's format.
    pub format: FileFormat,
    /// Bytes written.
    pub bytes: u64,
    /// The `Content-Type` the server sent.
    pub content_type: Option<String>,
}

impl Client {
    /// Streams the file behind `url` (a link from [`Client::share_download_url`]) into
    /// `sink`, at most the client's download cap (default 20 MiB). The access token is
    /// sent only when the link points at the platform itself (same scheme, host and
    /// port as the base URL), never to another host.
    ///
    /// An HTML or JSON answer (an expired link, usually) is an error and nothing is
    /// written; a file over the cap fails with [`Error::ResponseTooLarge`] after part of
    /// it was written, so write to a temporary file and keep it only on success.
    pub async fn download(
        &self,
        url: &str,
        sink: &mut (dyn std::io::Write + Send),
    ) -> Result<Download, Error> {
        let parsed = check_link(url).map_err(|reason| Error::invalid("url", reason))?;
        self.fetch(parsed, sink).await
    }

    async fn fetch(
        &self,
        parsed: reqwest::Url,
        sink: &mut (dyn std::io::Write + Send),
    ) -> Result<Download, Error> {
        let mut headers = HeaderMap::new();
        let base = reqwest::Url::parse(self.base_url())
            .map_err(|e| Error::config(format!("base URL: {e}")))?;
        // The permit first, then the token: it is checked for expiry when the request
        // leaves.
        self.core.transport().acquire(DOWNLOAD.site).await?;
        if parsed.origin() == base.origin() {
            let token = self.tokens.token().await?;
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.access.expose()))
                .map_err(|_| Error::config("the access token is not valid header text"))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let mut redactor = Redactor::new();
        self.tokens.register(&mut redactor);
        let streamed = self
            .core
            .transport()
            .download(
                DOWNLOAD.site,
                parsed.clone(),
                headers,
                self.max_download_bytes,
                sink,
                &redactor,
            )
            .await?;
        let content_type = streamed
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Download {
            format: FileFormat::detect(&streamed.prefix, content_type.as_deref(), parsed.as_str()),
            bytes: streamed.bytes,
            content_type,
        })
    }

    /// Asks a download link for `request`'s licence (4.3.2) and streams the file into
    /// `sink`. The answer carries the link request's metadata (request id, billing); its
    /// result is `None` when the platform has no link for the licence.
    pub async fn download_licence(
        &self,
        request: &ShareDownloadUrl,
        sink: &mut (dyn std::io::Write + Send),
    ) -> Result<Answer<Download>, Error> {
        let (links, meta) = self.share_download_url(request).await?.into_parts();
        let Some(url) = links.as_ref().and_then(|l| l.first_url()) else {
            return Ok(Answer::new(None, meta));
        };
        // The link request was sent: a link that cannot be followed is the platform's
        // answer being unusable, not the caller's input.
        let parsed = check_link(url).map_err(|reason| Error::decode(DOWNLOAD.site, format!(
                "the platform's download link {reason}; it was not followed (the link request itself was sent)"
            ), String::new()))?;
        let download = self.fetch(parsed, sink).await?;
        Ok(Answer::new(Some(download), meta))
    }
}

/// A download link that may be followed: an absolute `http(s)` URL.
fn check_link(url: &str) -> Result<reqwest::Url, &'static str> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| "is not a URL")?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be http:// or https://");
    }
    Ok(parsed)
}
