//! Juhe (聚合数据) emulation: `/enterprise/App/ConLicByName/query` (企业工程资质资格查询,
//! also under `query.php`).
//!
//! Checks the `key` (10001 when missing or wrong), then `name` (260201 when missing,
//! 260202 when it is shaped like a credit code with a wrong check character). Answers in
//! the envelope `{reason, result, error_code, sign}`; "no result" is `260204`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::Shared;
pub use crate::common::Behaviour;
use crate::common::{html_bad_gateway, json_response, params};
use crate::credentials::JUHE_KEY;

/// A documented magic input: a company name that triggers one behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Magic {
    /// The `name` value.
    pub name: &'static str,
    /// What happens.
    pub behaviour: Behaviour,
    /// One-line description.
    pub description: &'static str,
}

/// Every magic input. Any other name answers with the fixture qualifications.
pub static MAGIC: &[Magic] = &[
    Magic {
        name: "查无结果有限公司",
        behaviour: Behaviour::NoRecord,
        description: "no result (260204)",
    },
    Magic {
        name: "网络超时有限公司",
        behaviour: Behaviour::Code(260200, "网络超时,请稍后再试"),
        description: "service timeout (260200, retryable)",
    },
    Magic {
        name: "限流测试有限公司",
        behaviour: Behaviour::Code(10011, "当前IP请求超过限制"),
        description: "IP over limit (10011)",
    },
    Magic {
        name: "超限测试有限公司",
        behaviour: Behaviour::Code(10012, "请求超过次数限制"),
        description: "over the request quota (10012)",
    },
    Magic {
        name: "测试额度有限公司",
        behaviour: Behaviour::Code(10013, "测试KEY超过请求限制"),
        description: "the test key's allowance used up (10013)",
    },
    Magic {
        name: "维护测试有限公司",
        behaviour: Behaviour::Code(10020, "接口维护"),
        description: "maintenance (10020)",
    },
    Magic {
        name: "停用测试有限公司",
        behaviour: Behaviour::Code(10021, "接口停用"),
        description: "API disabled (10021)",
    },
    Magic {
        name: "异常测试有限公司",
        behaviour: Behaviour::Code(10014, "系统内部异常"),
        description: "internal error, outcome unknown (10014)",
    },
    Magic {
        name: "截断测试有限公司",
        behaviour: Behaviour::Truncated,
        description: "malformed body: truncated JSON",
    },
    Magic {
        name: "网关错误有限公司",
        behaviour: Behaviour::HtmlBadGateway,
        description: "HTTP 502 with an nginx HTML page",
    },
    Magic {
        name: "缓慢测试有限公司",
        behaviour: Behaviour::Slow,
        description: "slow response (waits the slow delay)",
    },
];

pub(crate) fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/enterprise/App/ConLicByName/query", any(con_lic_by_name))
        .route(
            "/enterprise/App/ConLicByName/query.php",
            any(con_lic_by_name),
        )
        .route(
            "/enterprise/App/AdministrativeLicenseListByName/query.php",
            any(administrative_licences),
        )
        .with_state(shared)
}

/// An opaque 32-hex `sign`, as Juhe sends one (its algorithm is not public).
fn opaque_sign() -> String {
    (0..32)
        .map(|_| char::from(b"0123456789abcdef"[fastrand::usize(0..16)]))
        .collect()
}

fn failure(code: u32, reason: &str) -> Response {
    json_response(
        StatusCode::OK,
        json!({"reason": reason, "result": null, "error_code": code}).to_string(),
    )
}

fn success(result: Value) -> Response {
    json_response(
        StatusCode::OK,
        json!({"result": result, "reason": "success", "sign": opaque_sign(), "error_code": 0})
            .to_string(),
    )
}

/// The GB 32100 check, as the provider validates a credit-code-shaped `name`.
fn bad_credit_code(name: &str) -> bool {
    const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let v: Vec<usize> = name
        .to_ascii_uppercase()
        .chars()
        .filter_map(|c| ALPHABET.find(c))
        .collect();
    if name.chars().count() != 18 || v.len() != 18 {
        return false; // not shaped like a credit code: a company name
    }
    let sum: usize = v[..17].iter().zip(W).map(|(a, w)| a * w).sum();
    (31 - sum % 31) % 31 != v[17]
}

fn fixtures() -> Value {
    json!([
        {
            "created_time": "2020-08-10",
            "updated_time": "2021-04-15",
            "issue_org": "河南省住房和城乡建设厅",
            "validity_start": "2015-08-26",
            "lic_scope": "工程勘察岩土工程专业（岩土工程物探测试检测监测）乙级",
            "lic_no": "B241001611",
            "category": "建筑-勘察资质",
            "validity_end": "2021-12-31",
            "url": "http://jzsc.mohurd.gov.cn/data/company/detail?id=050504030502070705050002070d06020006",
            "lic_name": ["工程勘察岩土工程专业（岩土工程物探测试检测监测）乙级"]
        },
        {
            "created_time": "2021-03-02",
            "updated_time": "2024-01-09",
            "issue_org": "中华人民共和国住房和城乡建设部",
            "validity_start": "2020-12-31",
            "lic_scope": "可承担建筑工程设计相应范围的设计业务",
            "lic_no": "A141001613",
            "category": "建筑-设计资质",
            "validity_end": "长期",
            "url": "",
            "lic_name": ["建筑行业（建筑工程）甲级"]
        }
    ])
}

/// What both endpoints check first (key, name, credit-code shape, magic names): the
/// name to answer for, or the answer already decided.
async fn checked_name(
    shared: &Shared,
    method: &Method,
    query: Option<String>,
    body: &Bytes,
    no_result: u32,
) -> Result<(String, std::collections::HashMap<String, String>), Response> {
    let p = params(method, query, body);
    if p.get("key").map(String::as_str) != Some(JUHE_KEY) {
        return Err(failure(10001, "错误的请求KEY"));
    }
    let name = match p.get("name").map(|n| n.trim()) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => return Err(failure(260201, "参数缺失")),
    };
    if bad_credit_code(&name) {
        return Err(failure(260202, "参数不合法"));
    }
    if let Some(m) = MAGIC.iter().find(|m| m.name == name) {
        match m.behaviour {
            Behaviour::Code(code, reason) => return Err(failure(code, reason)),
            Behaviour::NoRecord => return Err(failure(no_result, "查询无结果")),
            Behaviour::Truncated => {
                return Err(json_response(
                    StatusCode::OK,
                    r#"{"result": {"total": 2, "items": [{"created_time": "2020-08-10", "issue_org": "河南"#.to_owned(),
                ));
            }
            Behaviour::HtmlBadGateway => return Err(html_bad_gateway()),
            Behaviour::Slow => tokio::time::sleep(shared.config.slow_delay).await,
        }
    }
    Ok((name, p))
}

async fn con_lic_by_name(
    State(shared): State<Arc<Shared>>,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if let Err(answer) = checked_name(&shared, &method, query, &body, 260204).await {
        return answer;
    }
    let items = fixtures();
    success(json!({"total": items.as_array().map_or(0, Vec::len), "items": items}))
}

/// 企业行政许可 (`AdministrativeLicenseListByName`): the same key, magic names and
/// envelope; its "no result" is a guess (`266004`: data id 660, code 04, by the pattern
/// of the documented 260204); `skip` pages through the fixture licences.
async fn administrative_licences(
    State(shared): State<Arc<Shared>>,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let p = match checked_name(&shared, &method, query, &body, 266004).await {
        Ok((_, p)) => p,
        Err(answer) => return answer,
    };
    let skip = match p.get("skip").map(|s| s.trim().parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return failure(266002, "参数不合法"),
    };
    let all = administrative_fixtures();
    let items: Vec<Value> = all.iter().skip(skip).cloned().collect();
    success(json!({"total": all.len(), "num": items.len(), "items": items}))
}

fn administrative_fixtures() -> Vec<Value> {
    vec![
        json!({
            "itemId": 1,
            "number": "D241001611",
            "name": "建筑业企业资质证书",
            "department": "河南省住房和城乡建设厅",
            "startDate": "2021-04-15",
            "endDate": "2026-04-14",
            "content": "建筑工程施工总承包贰级",
            "disabled": "0"
        }),
        json!({
            "itemId": 2,
            "number": "(豫)JZ安许证字[2019]000123",
            "name": "安全生产许可证",
            "department": "河南省住房和城乡建设厅",
            "startDate": "2019-06-01",
            "endDate": "2022-05-31",
            "content": "建筑施工",
            "disabled": "1"
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_code_shape_and_check() {
        assert!(!bad_credit_code("91310110666007217T"));
        assert!(bad_credit_code("91310110666007217A"));
        assert!(!bad_credit_code("河南省建筑科学研究院有限公司"));
    }
}
