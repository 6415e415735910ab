//! Jumdata (聚美智数) emulation: `/credential/query` (职业资格证书查询) and `/idcard/check`.
//!
//! Checks, in the order a provider would: required parameters, `appId`, `timestamp`
//! (milliseconds, within the configured window), `sign = sha256_hex(appId + appSecret +
//! timestamp)`, then the query parameters. Answers in the envelope `{code, msg, taskNo,
//! charge, data}`, with `data: []` and `charge: false` for "no record" (701).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use bytes::Bytes;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Shared;
pub use crate::common::Behaviour;
use crate::common::{html_bad_gateway, json_response, params};
use crate::credentials::{JUMDATA_APP_ID, JUMDATA_APP_SECRET};

/// A documented magic input: an ID number (valid, with a correct check character, so the
/// SDK sends it) that triggers one behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Magic {
    /// The `idcard` value.
    pub idcard: &'static str,
    /// What happens.
    pub behaviour: Behaviour,
    /// One-line description (for tables and help).
    pub description: &'static str,
}

/// Every magic input. Any other well-formed ID number answers with fixture certificates.
pub static MAGIC: &[Magic] = &[
    Magic {
        idcard: "110101199003070011",
        behaviour: Behaviour::NoRecord,
        description: "no record: 701, data [], not charged",
    },
    Magic {
        idcard: "11010119900307002X",
        behaviour: Behaviour::Code(603, "余额不足请充值"),
        description: "insufficient balance (603)",
    },
    Magic {
        idcard: "110101199003070038",
        behaviour: Behaviour::Code(609, "请求过于频繁,请稍候再试"),
        description: "throttled (609)",
    },
    Magic {
        idcard: "110101199003070046",
        behaviour: Behaviour::Code(606, "调用超限,请稍候再试"),
        description: "over the call limit, try again later (606)",
    },
    Magic {
        idcard: "110101199003070054",
        behaviour: Behaviour::Code(500, "系统维护,请稍候再试"),
        description: "maintenance (500)",
    },
    Magic {
        idcard: "110101199003070062",
        behaviour: Behaviour::Code(602, "账号停用"),
        description: "account disabled (602)",
    },
    Magic {
        idcard: "110101199003070070",
        behaviour: Behaviour::Code(607, "ip不在白名单"),
        description: "IP not whitelisted (607)",
    },
    Magic {
        idcard: "110101199003070089",
        behaviour: Behaviour::Code(601, "接口未开通"),
        description: "API not enabled (601)",
    },
    Magic {
        idcard: "110101199003070097",
        behaviour: Behaviour::Code(610, "请求超时"),
        description: "provider-side timeout (610, no charge flag: billing open)",
    },
    Magic {
        idcard: "11010119900307010X",
        behaviour: Behaviour::Truncated,
        description: "malformed body: truncated JSON",
    },
    Magic {
        idcard: "110101199003070118",
        behaviour: Behaviour::HtmlBadGateway,
        description: "HTTP 502 with an nginx HTML page",
    },
    Magic {
        idcard: "110101199003070126",
        behaviour: Behaviour::Slow,
        description: "slow response (waits the slow delay, 3 s by default)",
    },
    Magic {
        idcard: "110101199003070134",
        behaviour: Behaviour::Code(999, "其他错误"),
        description: "other error (999, no charge flag: billing open)",
    },
    Magic {
        idcard: "110101199003070142",
        behaviour: Behaviour::Code(404, "接口地址不正确"),
        description: "wrong API address (404)",
    },
    Magic {
        idcard: "110101199003070150",
        behaviour: Behaviour::Code(604, "接口停用"),
        description: "API disabled (604)",
    },
];

/// A certificate the sandbox holds for every (non-magic) person: full number, then the
/// item as the provider returns it (number masked).
fn fixtures() -> [(&'static str, Value); 2] {
    [
        (
            "1370001234565448",
            json!({
                "occupation": "电器计量工",
                "quaType": 1,
                "quaLevel": "三级/高级技能",
                "certificateNo": "137000********5448",
                "mechanismName": "质量技术监督行业职业技能鉴定指导中心",
                "reportingUnit": "质量技术监督行业职业技能鉴定指导中心",
                "reportingTime": "",
                "issuingTime": "2013年07月08日",
                "educationLevel": "",
                "scores": "",
                "theoryScores": "",
                "operationScores": ""
            }),
        ),
        (
            "1631003009400321",
            json!({
                "occupation": "育婴员",
                "quaType": 1,
                "quaLevel": "四级/中级技能",
                "certificateNo": "163100********0321",
                "mechanismName": "北京市职业技能鉴定管理中心",
                "reportingUnit": "北京市人力资源和社会保障局",
                "reportingTime": "2019-05-20",
                "issuingTime": "2019年05月18日",
                "educationLevel": "大专",
                "scores": "合格",
                "theoryScores": "78",
                "operationScores": "85"
            }),
        ),
    ]
}

pub(crate) fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/credential/query", any(credential_query))
        .route("/idcard/check", any(idcard_check))
        .with_state(shared)
}

fn task_no() -> String {
    let mut s = String::with_capacity(20);
    s.push(char::from(b'1' + fastrand::u8(0..9)));
    for _ in 0..19 {
        s.push(char::from(b'0' + fastrand::u8(0..10)));
    }
    s
}

/// The billing of a failure code as the document leaves it: 610 (请求超时) and 999 (其他) say
/// nothing about billing, so their answers carry no `charge` flag (the SDK then treats
/// the call as possibly charged and never retries it on its own); every other failure
/// code is not charged.
fn failure_charge(code: u32) -> Option<bool> {
    match code {
        610 | 999 => None,
        _ => Some(false),
    }
}

fn envelope(code: u32, msg: &str, charge: Option<bool>, data: Option<Value>) -> Response {
    let mut body = json!({"code": code, "msg": msg, "taskNo": task_no()});
    if let Some(charge) = charge {
        body["charge"] = json!(charge);
    }
    if let Some(d) = data {
        body["data"] = d;
    }
    json_response(StatusCode::OK, body.to_string())
}

/// The failure sample shape of Jumdata's document: `{"msg": ..., "code": 400}`.
fn bad_request(msg: &str) -> Response {
    json_response(StatusCode::OK, json!({"msg": msg, "code": 400}).to_string())
}

fn sign(app_id: &str, secret: &str, timestamp: &str) -> String {
    Sha256::digest(format!("{app_id}{secret}{timestamp}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The provider's own format check of an ID number (18 characters, 17 digits then a
/// digit or X); it does not verify the check character.
fn idcard_well_formed(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
}

/// Authentication and common parameter checks; `Err` is the provider's refusal message.
fn authenticate(shared: &Shared, p: &HashMap<String, String>) -> Result<(), String> {
    for required in ["appId", "timestamp", "sign"] {
        if p.get(required).is_none_or(|v| v.is_empty()) {
            return Err(format!("缺少参数{required}"));
        }
    }
    let (app_id, ts, given) = (&p["appId"], &p["timestamp"], &p["sign"]);
    if app_id != JUMDATA_APP_ID {
        return Err("appId不存在".to_owned());
    }
    let Ok(ts_ms) = ts.parse::<u64>() else {
        return Err("timestamp格式错误,应为毫秒数".to_owned());
    };
    let window = shared.config.timestamp_window.as_millis() as u64;
    if crate::now_millis().abs_diff(ts_ms) > window {
        return Err("timestamp已过期,请校准时间".to_owned());
    }
    if *given != sign(app_id, JUMDATA_APP_SECRET, ts) {
        return Err("签名错误".to_owned());
    }
    match p.get("name") {
        Some(n) if !n.trim().is_empty() => {}
        _ => return Err("姓名不能为空".to_owned()),
    }
    match p.get("idcard") {
        Some(id) if idcard_well_formed(id) => Ok(()),
        _ => Err("身份证格式不正确".to_owned()),
    }
}

/// Applies a magic input; `None` means "answer normally".
async fn magic(shared: &Shared, idcard: &str) -> Option<Response> {
    let m = MAGIC
        .iter()
        .find(|m| m.idcard.eq_ignore_ascii_case(idcard))?;
    Some(match m.behaviour {
        Behaviour::Code(code, msg) => envelope(code, msg, failure_charge(code), None),
        Behaviour::NoRecord => envelope(701, "无记录", Some(false), Some(json!([]))),
        Behaviour::Truncated => json_response(
            StatusCode::OK,
            r#"{"code": 200, "msg": "成功", "taskNo": "10000000000000000001", "charge": true, "data": {"count": 2, "items": [{"occupation": "电器"#.to_owned(),
        ),
        Behaviour::HtmlBadGateway => html_bad_gateway(),
        Behaviour::Slow => {
            tokio::time::sleep(shared.config.slow_delay).await;
            return None;
        }
    })
}

async fn credential_query(
    State(shared): State<Arc<Shared>>,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let p = params(&method, query, &body);
    if let Err(refusal) = authenticate(&shared, &p) {
        return bad_request(&refusal);
    }
    if let Some(r) = magic(&shared, &p["idcard"]).await {
        return r;
    }
    let wanted = p
        .get("certificateNo")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let items: Vec<Value> = fixtures()
        .into_iter()
        .filter(|(full, _)| wanted.is_none_or(|w| w == *full))
        .map(|(_, item)| item)
        .collect();
    if items.is_empty() {
        return envelope(701, "无记录", Some(false), Some(json!([])));
    }
    envelope(
        200,
        "成功",
        Some(true),
        Some(json!({"count": items.len(), "items": items})),
    )
}

async fn idcard_check(
    State(shared): State<Arc<Shared>>,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let p = params(&method, query, &body);
    if let Err(refusal) = authenticate(&shared, &p) {
        return bad_request(&refusal);
    }
    let id = p["idcard"].to_ascii_uppercase();
    if let Some(r) = magic(&shared, &id).await {
        return r;
    }
    let male = id.as_bytes()[16] % 2 == 1;
    envelope(
        200,
        "成功",
        Some(true),
        Some(json!({
            "result": 0,
            "desc": "一致",
            "sex": if male { "男" } else { "女" },
            "birthday": &id[6..14],
            "address": ""
        })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_matches_the_documents_example() {
        // The example values of Jumdata's document; expected value from Python's hashlib.
        assert_eq!(
            sign(
                "xyzxy2121zxyz",
                "efcefcef1121cefcefc1212121",
                "1555378976238"
            ),
            "6ddcdc405743c576cb6d34b17b47ed56e2b9b6670fae1fe85ed01244fd31558b"
        );
    }

    #[test]
    fn magic_ids_are_valid_resident_ids_and_unique() {
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        const C: &[u8; 11] = b"10X98765432";
        let mut seen = std::collections::HashSet::new();
        for m in MAGIC {
            let b = m.idcard.as_bytes();
            let sum: u32 = b[..17]
                .iter()
                .zip(W)
                .map(|(d, w)| u32::from(d - b'0') * w)
                .sum();
            assert_eq!(b[17], C[(sum % 11) as usize], "{}", m.idcard);
            assert!(seen.insert(m.idcard), "{} twice", m.idcard);
            assert!(
                !m.idcard.starts_with("320102"),
                "clashes with test_resident_id"
            );
        }
    }
}
