//! The OpenAPI 3.1 document and the `/docs` page, both made from the operation table
//! ([`crate::catalogue::OPERATIONS`]), each field documented by its provider's spec
//! (`api.toml`, through the table `cargo xtask codegen` generates). The document is also
//! committed as `crates/cred-gateway/openapi.json`; a test fails when the two differ.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::catalogue::{FieldKind, OPERATIONS, Operation};

/// The statuses an operation can answer with, besides 200.
const ERRORS: &[(&str, &str)] = &[
    (
        "400",
        "Invalid input or body: refused before sending, or by the provider",
    ),
    ("401", "No API key, or an unknown one"),
    ("402", "The provider account's balance is too low"),
    ("403", "This caller may not call this operation"),
    ("408", "The body did not arrive in time; nothing was sent"),
    (
        "409",
        "A request with this Idempotency-Key is still in flight",
    ),
    ("413", "The body is over the limit; nothing was sent"),
    ("415", "The body is not application/json; nothing was sent"),
    ("422", "This Idempotency-Key was used with another body"),
    (
        "429",
        "Throttled, over a quota, or over the caller's rate or daily budget",
    ),
    ("500", "The call failed inside the gateway"),
    (
        "502",
        "The provider failed, or its answer could not be verified",
    ),
    (
        "503",
        "Shared state or the audit ledger unavailable, provider not configured, or overloaded",
    ),
    (
        "504",
        "No answer in time; the request may have reached the provider",
    ),
];

fn field_schema(kind: FieldKind, description: &str) -> Value {
    match kind {
        FieldKind::String => json!({"type": "string", "description": description}),
        FieldKind::Base64 => {
            json!({"type": "string", "contentEncoding": "base64", "description": description})
        }
        FieldKind::Integer => json!({
            "oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^-?[0-9]+$"}],
            "description": description
        }),
        FieldKind::Boolean => json!({"type": "boolean", "description": description}),
    }
}

fn operation(op: &Operation) -> Value {
    let mut properties = Map::new();
    for f in op.fields {
        properties.insert(f.name.to_owned(), field_schema(f.kind, &f.description(op)));
    }
    let required: Vec<&str> = op
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    let mut responses = Map::new();
    let mut ok = json!({
        "description": "The provider answered (found or not): the `cred --json` shape",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Answer"}}},
    });
    if op.file {
        ok["description"] =
            json!("The licence file (when found), or the answer without a file as JSON");
        for media in [
            "application/pdf",
            "application/ofd",
            "application/octet-stream",
        ] {
            ok["content"][media] = json!({"schema": {"type": "string", "contentMediaType": media}});
        }
    }
    responses.insert("200".to_owned(), ok);
    for (status, description) in ERRORS {
        responses.insert(
            (*status).to_owned(),
            json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }),
        );
    }
    json!({
        "post": {
            "operationId": format!("{}_{}", op.provider, op.name).replace('-', "_"),
            "summary": op.summary,
            "tags": [op.provider],
            "parameters": [
                {"name": "X-Credkit-Purpose", "in": "header", "required": true,
                 "description": "Why you look this up (UTF-8): recorded in the audit ledger; for the licence platform also its 用证事由",
                 "schema": {"type": "string", "minLength": 1, "maxLength": 200}},
                {"name": "Idempotency-Key", "in": "header", "required": false,
                 "description": "Sends the request once: a repeat with the same key and body gets the stored answer",
                 "schema": {"type": "string", "minLength": 1, "maxLength": 255}},
            ],
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": false,
                }}},
            },
            "responses": responses,
        }
    })
}

fn document() -> Value {
    let mut paths = Map::new();
    for op in OPERATIONS {
        paths.insert(op.path(), operation(op));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "credkit gateway",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every credkit query operation over HTTP: validated before any paid call, never sent twice, recorded in an audit ledger. Answers use the `cred --json` shapes.",
        },
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Answer": {
                    "type": "object",
                    "required": ["provider", "operation", "found", "charged", "request_id", "result"],
                    "properties": {
                        "provider": {"type": "string"},
                        "operation": {"type": "string"},
                        "found": {"type": "boolean"},
                        "licence_status": {"type": "string", "enum": ["revoked", "expired", "restricted"]},
                        "charged": {"type": ["boolean", "null"], "description": "null: unknown"},
                        "request_id": {"type": ["string", "null"]},
                        "result": {"description": "The typed result, null when nothing was found"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["kind", "message", "retryable", "charged"],
                        "properties": {
                            "provider": {"type": ["string", "null"]},
                            "kind": {"type": "string"},
                            "code": {"type": ["string", "null"]},
                            "message": {"type": "string"},
                            "retryable": {"type": "boolean"},
                            "charged": {"type": ["boolean", "null"], "description": "null: unknown"},
                            "request_id": {"type": ["string", "null"]},
                        },
                    }},
                },
            },
        },
    })
}

/// The OpenAPI 3.1 document (`/openapi.json`).
pub static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
});

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The `/docs` page: plain HTML made here, nothing fetched from elsewhere.
pub static DOCS_PAGE: LazyLock<String> = LazyLock::new(|| {
    let mut html = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>credkit gateway</title>\n<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}</style></head><body>\n<h1>credkit gateway</h1>\n<p>Every operation is <code>POST</code> with a JSON body, <code>Authorization: Bearer &lt;key&gt;</code> and <code>X-Credkit-Purpose</code>. The machine-readable description is <a href=\"/openapi.json\">/openapi.json</a>.</p>\n",
    );
    for op in OPERATIONS {
        html.push_str(&format!(
            "<section class=\"operation\" id=\"{}\">\n<h2><code>POST {}</code></h2>\n<p>{}</p>\n<table><tr><th>field</th><th>type</th><th>required</th><th>meaning</th></tr>\n",
            escape(&op.id()),
            escape(&op.path()),
            escape(op.summary)
        ));
        for f in op.fields {
            html.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(f.name),
                escape(f.kind.expected()),
                if f.required { "yes" } else { "no" },
                escape(&f.description(op))
            ));
        }
        html.push_str("</table>\n</section>\n");
    }
    html.push_str("</body></html>\n");
    html
});

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_document_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        if std::env::var_os("CRED_UPDATE_OPENAPI").is_some() {
            let _ = std::fs::write(path, super::DOCUMENT.as_str());
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == *super::DOCUMENT,
            "crates/cred-gateway/openapi.json is stale: run CRED_UPDATE_OPENAPI=1 cargo test -p cred-gateway openapi"
        );
    }

    #[test]
    fn the_docs_page_lists_every_operation() {
        for op in super::OPERATIONS {
            assert!(super::DOCS_PAGE.contains(&format!("POST {}", op.path())));
        }
    }
}
