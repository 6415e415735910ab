//! Every share interface against a fresh mock platform: the exact JSON each receives,
//! both answer shapes, the status table, failure texts, audit context, downloads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use common::*;
use cred_core::{Error, ErrorKind};
use httpmock::prelude::*;
use serde_json::{Value, json};
use zz_license_api::*;

const API: &str = "/license-api-release/m/v/license/external/api";

/// Expects exactly `fields` (plus the token) in the JSON body of `path`; answers `body`.
async fn expect_json<'a>(
    server: &'a MockServer,
    path: &str,
    fields: Vec<(&'static str, String)>,
    body: Value,
) -> httpmock::Mock<'a> {
    let mut expected: serde_json::Map<String, Value> = fields
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    expected.insert("access_token".into(), Value::String(TOKEN_1.into()));
    let expected = Value::Object(expected);
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{API}/{path}"))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {TOKEN_1}"))
                .is_true(move |req| body_json(req) == expected);
            then.status(200).json_body(body);
        })
        .await
}

fn with_audit(mut fields: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
    fields.extend(audit_wire().into_iter().map(|(k, v)| (k, v.to_owned())));
    fields
}

#[tokio::test]
async fn download_url_sends_id_expiry_and_audit_and_decodes_the_province_shape() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let mock = expect_json(
        &server,
        "ShareDownloadUrl",
        with_audit(vec![
            ("certificateID", CERT_ID.into()),
            ("expiryTime", "2021-08-26".into()),
        ]),
        json!({
            "head": {"message": "接口调用成功！", "type": "1", "status": "0"},
            "data": {"total": 1, "dataList": [{
                "certIdentifier": CERT_ID,
                "contentType": "http",
                "content": "http://ip:port/CertShare/zzgxp/download?id=fe7d0b138e6848bc88268a950aa6d005"
            }]}
        }),
    )
    .await;
    let client = client_with(&server, |b| b);
    let answer = client
        .share_download_url(&ShareDownloadUrl::new(CERT_ID).expiry_time("2021-08-26"))
        .await
        .unwrap();
    mock.assert_async().await;
    let links = answer.result().unwrap();
    assert_eq!(links.shape(), InterfaceType::Province);
    assert_eq!(
        links.first_url(),
        Some("http://ip:port/CertShare/zzgxp/download?id=fe7d0b138e6848bc88268a950aa6d005")
    );
    assert_eq!(answer.meta().attribute("head.type"), Some("1"));
    assert_eq!(answer.charged(), cred_core::Charged::No);
}

#[tokio::test]
async fn download_url_city_shape() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    share(
        &server,
        "ShareDownloadUrl",
        json!({"head": {"message": "接口调用成功", "status": "0"}, "data": {"total": 1, "dataList": [{
            "issueDept": "证照颁发机构", "certificateNumber": "证照编号",
            "fileUrl": "http://ip:port/license-api-release/elssp/v1/download_national?fileId=emZ2&fileFormat=OFD",
            "issueDate": "2013 年 09 月 24 日", "fileFormat": "OFD", "certificateType": "证照类型名称"
        }]}}),
    )
    .await;
    let answer = client_with(&server, |b| b)
        .share_download_url(&ShareDownloadUrl::new(CERT_ID))
        .await
        .unwrap();
    let DownloadLinks::City { items, total } = answer.result().unwrap() else {
        panic!("{answer:?}")
    };
    assert_eq!(*total, Some(1));
    assert_eq!(items[0].file_format.as_deref(), Some("OFD"));
    assert_eq!(
        items[0].issue_date.as_ref().unwrap().to_string(),
        "2013-09-24"
    );
}

#[tokio::test]
async fn query_by_identifier_both_levels() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let province = expect_json(
        &server,
        "ShareQueryCertInfo",
        with_audit(vec![("certificateID", CERT_ID.into())]),
        province_licences(),
    )
    .await;
    let client = client_with(&server, |b| b);
    let answer = client
        .share_query_cert_info(&ShareQueryCertInfo::new(CERT_ID))
        .await
        .unwrap();
    province.assert_async().await;
    let Licences::Province { items, .. } = answer.result().unwrap() else {
        panic!()
    };
    assert_eq!(items[0].cert_identifier.as_deref(), Some(CERT_ID));
    assert_eq!(items[0].gmsfhm.as_deref(), Some("37082619880XXXXXX"));

    let city = expect_json(
        &server,
        "ShareQueryCertInfo",
        with_audit(vec![
            ("certificateID", CERT_ID.into()),
            ("interfaceType", "1".into()),
        ]),
        city_licences(),
    )
    .await;
    let answer = client
        .share_query_cert_info(
            &ShareQueryCertInfo::new(CERT_ID).interface_type(InterfaceType::City),
        )
        .await
        .unwrap();
    city.assert_async().await;
    let Licences::City { items, .. } = answer.result().unwrap() else {
        panic!()
    };
    assert_eq!(items[0].issue_dept.as_deref(), Some("XX 市无线电管理处"));
    assert_eq!(items[0].certificate_holder_type.as_deref(), Some("111"));
    assert_eq!(
        items[0].valid_from.as_ref().unwrap().to_string(),
        "2013-09-23"
    );
}

#[tokio::test]
async fn data_check_sends_its_own_purpose_and_only_district_fields() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let data = r#"{"xm":"张三","zjhm":"321083197812162119"}"#;
    let mock = expect_json(
        &server,
        "ShareVerifyCertInfo",
        vec![
            ("certTypeCode", "11100000000013127D".into()),
            ("certificateData", data.into()),
            ("useFor", "窗口核验".into()),
            ("certificateHolderCode", ID.into()),
            ("callDistrict", "薛城区".into()),
        ],
        json!({"head": {"message": "接口调用成功！", "type": "1", "status": 0},
               "data": {"total": 1, "dataList": [{"result": 0, "message": "信息正确且有效"}]}}),
    )
    .await;
    let client = client_with(&server, |b| b.audit(audit().district("薛城区")));
    let answer = client
        .share_verify_cert_info(&ShareVerifyCertInfo::new(
            "11100000000013127D",
            data,
            "窗口核验",
            ID,
        ))
        .await
        .unwrap();
    mock.assert_async().await;
    let v = answer.result().unwrap();
    assert_eq!(v.outcome(), DataCheck::Valid);
    assert_eq!(v.message(), Some("信息正确且有效"));
}

#[tokio::test]
async fn data_check_city_shape_and_result_codes() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    share(
        &server,
        "ShareVerifyCertInfo",
        json!({"head": {"message": "接口调用成功", "status": "0"}, "data": {"verifyResult": "true"}}),
    )
    .await;
    let answer = client_with(&server, |b| b)
        .share_verify_cert_info(
            &ShareVerifyCertInfo::new("T", "{}", "核验", ID).interface_type(InterfaceType::City),
        )
        .await
        .unwrap();
    let v = answer.result().unwrap();
    assert_eq!(v.shape(), InterfaceType::City);
    assert!(v.outcome().is_valid());
}

#[tokio::test]
async fn data_that_is_not_a_json_object_is_refused_locally() {
    let server = MockServer::start_async().await;
    let token = password_grant(&server, TOKEN_1, 43199).await;
    let err = client_with(&server, |b| b)
        .share_verify_cert_info(&ShareVerifyCertInfo::new("T", "name=张三", "核验", ID))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "certificate_data",
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.to_string().contains("张三"));
    token.assert_calls_async(0).await;
}

#[tokio::test]
async fn file_check_sends_base64_of_the_bytes_and_reads_both_answers() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let file = b"%PDF-1.7\n%licence\n";
    let mock = expect_json(
        &server,
        "ShareVerifyCertInfo",
        vec![
            ("certTypeCode", "T01".into()),
            ("contentType", "base64".into()),
            // printf '%%PDF-1.7\n%%licence\n' | base64
            ("content", "JVBERi0xLjcKJWxpY2VuY2UK".into()),
            ("useCause", "材料核验".into()),
        ],
        json!({"head": {"status": 0, "message": "接口调用成功"}, "data": {"result": "1", "message": "签章校验失败"}}),
    )
    .await;
    let client = client_with(&server, |b| b);
    let answer = client
        .share_verify_cert_file(&ShareVerifyCertFile::from_bytes("T01", file, "材料核验"))
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(
        answer.result().unwrap().outcome(),
        Some(FileCheck::SealInvalid)
    );

    // The standard's example answers `data` as an opaque string.
    let path = std::env::temp_dir().join(format!("zz-file-{}.pdf", std::process::id()));
    std::fs::write(&path, file).unwrap();
    let server2 = MockServer::start_async().await;
    password_grant(&server2, TOKEN_1, 43199).await;
    share(
        &server2,
        "ShareVerifyCertInfo",
        json!({"head": {"status": 0, "message": "接口调用成功"}, "data": "04D4FB95943B9E0419390A37B48A6F2805F9091"}),
    )
    .await;
    let request = ShareVerifyCertFile::from_path("T01", &path, "材料核验").unwrap();
    let answer = client_with(&server2, |b| b)
        .share_verify_cert_file(&request)
        .await
        .unwrap();
    std::fs::remove_file(&path).ok();
    let v = answer.result().unwrap();
    assert_eq!(v.outcome(), None);
    assert_eq!(
        v.text.as_deref(),
        Some("04D4FB95943B9E0419390A37B48A6F2805F9091")
    );
    let missing = ShareVerifyCertFile::from_path("T01", "/nonexistent/licence.pdf", "x");
    assert!(matches!(
        missing,
        Err(Error::InvalidInput { field: "file", .. })
    ));
}

#[tokio::test]
async fn qr_code_query_both_levels() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let city = expect_json(
        &server,
        "ShareQueryCertInfoByQRcode",
        with_audit(vec![
            ("qrValue", "https://zz.example/qr?c=5cgedf2j6".into()),
            ("interfaceType", "1".into()),
            ("clientInfo_operName", "李四".into()),
            ("whose", "0".into()),
            ("category", "1".into()),
        ]),
        json!({"head": {"sign": "", "time": 0, "message": "查询成功", "status": 0}, "data": {
            "img_sign_fileid": "5b301b493d456b397cf87187", "license_name": "中国 XXXX 操作证书",
            "fileNumber": "02-12370400F49201558F-51-370481198304040037-00-A000102935",
            "issue_unitname": "XX 市 XXX 局", "valid_time_begin": "2017-11-15", "holder": "张 XX",
            "license_state": "正常有效", "valid_time_end": "2020-11-14",
            "licenseId": "46b820f3ed3140da864b9850d4953389", "abstractCode": "5cgedf2j6",
            "license_number": "37082619880430XXXX"}}),
    )
    .await;
    let client = client_with(&server, |b| b);
    let request = ShareQueryCertInfoByQrcode::new("https://zz.example/qr?c=5cgedf2j6")
        .interface_type(InterfaceType::City)
        .client_oper_name("李四")
        .whose(Whose::Person)
        .category(LicenceCategory::Licence);
    assert!(!format!("{request:?}").contains("李四"));
    let answer = client
        .share_query_cert_info_by_qrcode(&request)
        .await
        .unwrap();
    city.assert_async().await;
    let QrLicence::City { licence } = answer.result().unwrap() else {
        panic!()
    };
    assert_eq!(licence.state.as_deref(), Some("正常有效"));
    assert_eq!(
        licence.valid_until.as_ref().unwrap().to_string(),
        "2020-11-14"
    );
    assert_eq!(
        answer.result().unwrap().identifiers(),
        vec!["02-12370400F49201558F-51-370481198304040037-00-A000102935"]
    );
    let debug = format!("{answer:?}");
    assert!(
        !debug.contains("张 XX") && !debug.contains("37082619880430XXXX"),
        "{debug}"
    );
}

#[tokio::test]
async fn holder_query_sends_type_and_paging_as_strings() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let mock = expect_json(
        &server,
        "ShareQueryCertInfoByHolderCode",
        with_audit(vec![
            ("certificateHolderCode", ID.into()),
            ("certificateHolderCodeType", "111".into()),
            ("certTypeCode", "11100000000013127D".into()),
            ("Page", "1".into()),
            ("Size", "20".into()),
        ]),
        province_licences(),
    )
    .await;
    let request = ShareQueryCertInfoByHolderCode::new(ID, "11100000000013127D")
        .holder_code_type(HolderCodeType::ResidentId)
        .page(1)
        .size(20);
    let answer = client_with(&server, |b| b)
        .share_query_cert_info_by_holder_code(&request)
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(answer.result().unwrap().identifiers(), vec![CERT_ID]);
    let debug = format!("{request:?}");
    assert!(
        !debug.contains(ID) && debug.contains("3210**********2119"),
        "{debug}"
    );
}

#[tokio::test]
async fn holder_path_is_overridable() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let mock = share(&server, "ShareQueryCertInfoByHolder", province_licences()).await;
    let client = client_with(&server, |b| {
        b.path(
            &SHARE_QUERY_CERT_INFO_BY_HOLDER_CODE,
            "/m/v/license/external/api/ShareQueryCertInfoByHolder",
        )
    });
    client
        .share_query_cert_info_by_holder_code(
            &ShareQueryCertInfoByHolderCode::new(ID, "T")
                .holder_code_type(HolderCodeType::ResidentId),
        )
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn a_mistyped_holder_id_is_refused_before_anything_is_sent() {
    let server = MockServer::start_async().await;
    let token = password_grant(&server, TOKEN_1, 43199).await;
    let err = client_with(&server, |b| b)
        .share_query_cert_info_by_holder_code(
            &ShareQueryCertInfoByHolderCode::new("321083197812162118", "T")
                .holder_code_type(HolderCodeType::ResidentId),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(!err.to_string().contains("321083197812162118"));
    token.assert_calls_async(0).await;
}

#[tokio::test]
async fn failure_text_in_data_and_status_table() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let client = client_with(&server, |b| b);
    let cases = [
        (
            json!({"head": {"message": "接口调用失败！", "status": "2"}, "data": "证照源未提供此服务接口"}),
            ErrorKind::NotFound,
            "2",
            "接口调用失败！ 证照源未提供此服务接口",
        ),
        (
            json!({"head": {"message": "", "status": 102}, "data": ""}),
            ErrorKind::InvalidArgument,
            "102",
            "参数值错误",
        ),
        (
            json!({"head": {"message": "奇怪的错误", "status": "777"}, "data": "细节"}),
            ErrorKind::Unknown,
            "777",
            "奇怪的错误 细节",
        ),
    ];
    for (body, kind, code, message) in cases {
        let mock = share(&server, "ShareQueryCertInfo", body).await;
        let err = client
            .share_query_cert_info(&ShareQueryCertInfo::new(CERT_ID))
            .await
            .unwrap_err();
        mock.delete_async().await;
        let p = err.as_provider().unwrap_or_else(|| panic!("{err:?}"));
        assert_eq!(
            (p.kind, p.code.as_str(), p.message.as_str()),
            (kind, code, message)
        );
        assert_eq!(err.charged(), cred_core::Charged::No);
    }
}

#[tokio::test]
async fn no_matching_licence_is_an_empty_answer() {
    for body in [
        json!({"head": {"message": "没有符合条件的证照", "status": 10}, "data": null}),
        json!({"head": {"message": "获取成功", "status": 0}, "data": {"total": 0, "data": []}}),
    ] {
        let server = MockServer::start_async().await;
        password_grant(&server, TOKEN_1, 43199).await;
        share(&server, "ShareQueryCertInfo", body).await;
        let answer = client_with(&server, |b| b)
            .share_query_cert_info(&ShareQueryCertInfo::new(CERT_ID))
            .await
            .unwrap();
        assert!(!answer.found());
    }
}

/// Revoked, expired and restricted are answers about the licence (the call worked): no
/// licence comes back, even when the platform sends one beside the status, and
/// `LicenceStatus::of` names the status. By holder and by identifier alike.
#[tokio::test]
async fn revoked_expired_and_restricted_are_answers_without_a_licence() {
    let licence = json!({"total": 1, "dataList": [{"certIdentifier": CERT_ID, "name": "张三"}]});
    let cases = [
        (
            json!({"message": "证照已注销", "status": 21}),
            Value::Null,
            LicenceStatus::Revoked,
        ),
        (
            json!({"message": "证照已过期", "status": "22"}),
            licence.clone(),
            LicenceStatus::Expired,
        ),
        (
            json!({"message": "", "status": 23}),
            licence,
            LicenceStatus::Restricted,
        ),
    ];
    for (head, data, status) in cases {
        let server = MockServer::start_async().await;
        password_grant(&server, TOKEN_1, 43199).await;
        let client = client_with(&server, |b| b);
        let body = json!({"head": head, "data": data});
        let mock = share(&server, "ShareQueryCertInfo", body.clone()).await;
        let answer = client
            .share_query_cert_info(&ShareQueryCertInfo::new(CERT_ID))
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        mock.assert_calls_async(1).await;
        mock.delete_async().await;
        assert!(
            !answer.found(),
            "{status}: a licence in data must not be decoded"
        );
        assert_eq!(LicenceStatus::of(&answer), Some(status));
        assert_eq!(answer.meta().code, status.code());
        assert_eq!(answer.charged(), cred_core::Charged::No);
        // The message is the platform's, or the code table's when it sends none.
        assert_eq!(answer.meta().message, status.description());

        share(&server, "ShareQueryCertInfoByHolderCode", body).await;
        let answer = client
            .share_query_cert_info_by_holder_code(&ShareQueryCertInfoByHolderCode::new(
                "321083197812162119",
                "T01",
            ))
            .await
            .unwrap();
        assert!(!answer.found());
        assert_eq!(LicenceStatus::of(&answer), Some(status));
    }
    // Found and "no matching licence" carry no status.
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    share(
        &server,
        "ShareQueryCertInfo",
        json!({"head": {"message": "没有符合条件的证照", "status": 10}, "data": null}),
    )
    .await;
    let answer = client_with(&server, |b| b)
        .share_query_cert_info(&ShareQueryCertInfo::new(CERT_ID))
        .await
        .unwrap();
    assert_eq!(LicenceStatus::of(&answer), None);
}

#[tokio::test]
async fn bad_bodies_are_clear_errors() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let client = client_with(&server, |b| b);
    let cases: [(u16, &str, &str); 4] = [
        (502, "<html><body>502 Bad Gateway</body></html>", "HTTP 502"),
        (
            200,
            r#"{"head":{"status":"0"},"data":{"total":1,"dataList":[{"certNo"#,
            "malformed JSON",
        ),
        (
            200,
            r#"{"head":{"status":0},"data":"查询成功但无数据 321083197812162119"}"#,
            "is text instead of a result",
        ),
        (200, r#"{"data":{}}"#, "no `head`"),
    ];
    for (status, body, expected) in cases {
        let mock = server
            .mock_async(|when, then| {
                when.path_includes("ShareQueryCertInfo");
                then.status(status).body(body);
            })
            .await;
        let err = client
            .share_query_cert_info(&ShareQueryCertInfo::new(CERT_ID))
            .await
            .unwrap_err();
        mock.delete_async().await;
        let text = err.to_string();
        assert!(text.contains(expected), "{text}");
        assert!(!text.contains("321083197812162119"), "{text}");
    }
}

#[tokio::test]
async fn a_missing_audit_field_is_refused_before_the_token_request() {
    let server = MockServer::start_async().await;
    let token = password_grant(&server, TOKEN_1, 43199).await;
    let client = client_with(&server, |b| {
        b.audit(AuditContext::new().system_name("平台"))
    });
    let err = client
        .share_query_cert_info(&ShareQueryCertInfo::new(CERT_ID))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "certificateCallCategory",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("ZZ_LICENSE_CALL_CATEGORY"),
        "{err}"
    );
    token.assert_calls_async(0).await;
    // The verification interfaces do not need it.
    share(
        &server,
        "ShareVerifyCertInfo",
        json!({"head": {"status": "0"}, "data": {"verifyResult": "true"}}),
    )
    .await;
    client
        .share_verify_cert_info(&ShareVerifyCertInfo::new("T", "{}", "核验", ID))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_audit_context_is_overridable_per_call_and_checked() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let mut fields = with_audit(vec![("certificateID", CERT_ID.into())]);
    for f in &mut fields {
        if f.0 == "certificateCopyCause" {
            f.1 = "不动产登记窗口核验".into();
        }
    }
    let mock = expect_json(&server, "ShareQueryCertInfo", fields, city_licences()).await;
    let client = client_with(&server, |b| b);
    client
        .with_audit(&AuditContext::new().copy_cause("不动产登记窗口核验"))
        .share_query_cert_info(&ShareQueryCertInfo::new(CERT_ID))
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(
        client.audit().get_copy_cause(),
        Some("个人参保缴费证明查询打印，需要用到身份证数据")
    );

    let long = "因".repeat(201);
    let err = client
        .with_audit(&AuditContext::new().copy_cause(long.clone()))
        .share_query_cert_info(&ShareQueryCertInfo::new(CERT_ID))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most 200 characters"), "{err}");
    let err = Client::builder()
        .base_url("http://127.0.0.1:9/license-api-release")
        .username(USERNAME)
        .password(PASSWORD)
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .audit(audit().copy_cause(long))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn downloads_stream_with_format_cap_and_token_only_for_the_platform() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec();
    let own = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{ROOT}/elssp/v1/download_national"))
                .header("authorization", format!("Bearer {TOKEN_1}"));
            then.status(200)
                .header("content-type", "application/octet-stream")
                .body(pdf.clone());
        })
        .await;
    let other = MockServer::start_async().await;
    let foreign = other
        .mock_async(|when, then| {
            when.method(GET)
                .path("/CertShare/zzgxp/download")
                .header_missing("authorization");
            then.status(200).body(b"PK\x03\x04ofd-container");
        })
        .await;
    let client = client_with(&server, |b| b.max_download_bytes(1024));

    let mut out = Vec::new();
    let url = format!(
        "{}{ROOT}/elssp/v1/download_national?fileId=emZ2&fileFormat=PDF",
        server.base_url()
    );
    let d = client.download(&url, &mut out).await.unwrap();
    own.assert_async().await;
    assert_eq!(d.format, FileFormat::Pdf);
    assert_eq!(d.bytes, pdf.len() as u64);
    assert_eq!(out, pdf);

    let mut out = Vec::new();
    let d = client
        .download(
            &format!("{}/CertShare/zzgxp/download?id=fe7d", other.base_url()),
            &mut out,
        )
        .await
        .unwrap();
    foreign.assert_async().await;
    assert_eq!(d.format, FileFormat::Ofd);

    other
        .mock_async(|when, then| {
            when.path("/big");
            then.status(200).body(vec![b'x'; 4096]);
        })
        .await;
    let err = client
        .download(&format!("{}/big", other.base_url()), &mut Vec::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 1024, .. }),
        "{err}"
    );

    other
        .mock_async(|when, then| {
            when.path("/expired");
            then.status(200)
                .header("content-type", "text/html;charset=utf-8")
                .body("<html>链接已失效</html>");
        })
        .await;
    let mut out = Vec::new();
    let err = client
        .download(&format!("{}/expired", other.base_url()), &mut out)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("expired or invalid download link"),
        "{err}"
    );
    assert!(out.is_empty());
    assert!(matches!(
        client.download("ftp://x/y", &mut Vec::new()).await,
        Err(Error::InvalidInput { field: "url", .. })
    ));
}

#[tokio::test]
async fn download_licence_asks_the_link_then_fetches_the_file() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let file_url = format!(
        "{}{ROOT}/elssp/v1/download_national?fileId=a&fileFormat=OFD",
        server.base_url()
    );
    share(
        &server,
        "ShareDownloadUrl",
        json!({"head": {"status": "0"}, "data": {"total": 1, "dataList": [{"fileUrl": file_url, "fileFormat": "OFD"}]}}),
    )
    .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{ROOT}/elssp/v1/download_national"));
            then.status(200).body(b"PK\x03\x04OFD");
        })
        .await;
    let mut out = Vec::new();
    let d = client_with(&server, |b| b)
        .download_licence(&ShareDownloadUrl::new(CERT_ID), &mut out)
        .await
        .unwrap()
        .into_parts()
        .0
        .unwrap();
    assert_eq!((d.format, d.bytes), (FileFormat::Ofd, 7));
}

#[test]
fn build_names_what_is_missing_and_debug_hides_credentials() {
    let err = Client::builder().build().unwrap_err();
    assert!(err.to_string().contains("ZZ_LICENSE_BASE_URL"), "{err}");
    let err = Client::builder()
        .base_url("http://127.0.0.1:9/license-api-release")
        .username(USERNAME)
        .password(PASSWORD)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("ZZ_LICENSE_CLIENT_ID"), "{err}");
    let err = Client::builder()
        .base_url("not a url")
        .username(USERNAME)
        .password(PASSWORD)
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let config = Config::new()
        .with_base_url("http://127.0.0.1:9/license-api-release")
        .with_username(USERNAME)
        .with_password(PASSWORD)
        .with_client_id(CLIENT_ID)
        .with_client_secret(CLIENT_SECRET);
    let debug = format!("{config:?} {:?}", Client::new(config.clone()).unwrap());
    for secret in [USERNAME, PASSWORD, CLIENT_SECRET] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

#[tokio::test]
async fn the_holder_code_type_is_required_by_the_city_interface_only() {
    let server = MockServer::start_async().await;
    let token = password_grant(&server, TOKEN_1, 43199).await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!(
                    "{ROOT}/m/v/license/external/api/ShareQueryCertInfoByHolderCode"
                ))
                .is_true(|req| body_json(req).get("certificateHolderCodeType").is_none());
            then.status(200).json_body(province_licences());
        })
        .await;
    let client = client_with(&server, |b| b);
    // Province (the default): optional, and not sent when not set.
    let request = ShareQueryCertInfoByHolderCode::new(ID, "T01");
    assert!(
        client
            .share_query_cert_info_by_holder_code(&request)
            .await
            .unwrap()
            .found()
    );
    mock.assert_async().await;
    // City: refused before anything (the token request included) is sent.
    let server = MockServer::start_async().await;
    let token_city = password_grant(&server, TOKEN_1, 43199).await;
    let err = client_with(&server, |b| b)
        .share_query_cert_info_by_holder_code(
            &ShareQueryCertInfoByHolderCode::new(ID, "T01").interface_type(InterfaceType::City),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidInput {
                field: "holder_code_type",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("市库数据必填"), "{err}");
    token_city.assert_calls_async(0).await;
    token.assert_calls_async(1).await;
}

#[tokio::test]
async fn licence_identifiers_are_checked_before_any_call_that_takes_one() {
    let server = MockServer::start_async().await;
    let token = password_grant(&server, TOKEN_1, 43199).await;
    let client = client_with(&server, |b| b);
    // Identifiers with the GB/T 36904 prefix keep their structure check; a blank one is
    // refused. (Other forms are the platform's city identifiers: see the next test.)
    for bad in [
        "1.2.156.3005.2.X.Y.Z",
        "1.2.156.3005.2.A.B.C.01.8",
        "1.2.156.3005.2.证.照.X.001.8",
        "   ",
    ] {
        let err = client
            .share_query_cert_info(&ShareQueryCertInfo::new(bad))
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                Error::InvalidInput {
                    field: "certificate_id",
                    ..
                }
            ),
            "{bad}: {err:?}"
        );
        let err = client
            .share_download_url(&ShareDownloadUrl::new(bad))
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                Error::InvalidInput {
                    field: "certificate_id",
                    ..
                }
            ),
            "{bad}: {err:?}"
        );
    }
    token.assert_calls_async(0).await;
    // A check character that differs from GB/T 36904's is sent (a warning only).
    let mock = share(&server, "ShareQueryCertInfo", city_licences()).await;
    let variant = CERT_ID.replace(".001.8", ".001.9");
    client
        .share_query_cert_info(&ShareQueryCertInfo::new(variant))
        .await
        .unwrap();
    mock.assert_async().await;
}

/// The city QR-code answer of the document (4.3.6): "此接口返回 fileNumber (证照标识),可以凭此参数调用
/// 《证照标识获取下载地址接口》", and 4.3.2/4.3.3 take `certificateID` "（证照持有主体代码获取证照信息接口/
/// 二维码获取证照信息接口有返回此值）".
const CITY_FILE_NUMBER: &str = "02-12370400F49201558F-51-370481198304040037-00-A000102935";
/// The holder's ID number the city file number embeds.
const EMBEDDED_ID: &str = "370481198304040037";

#[tokio::test]
async fn a_city_file_number_is_an_identifier_and_personal_data() {
    let server = MockServer::start_async().await;
    let token = password_grant(&server, TOKEN_1, 43199).await;
    let link = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{ROOT}/m/v/license/external/api/ShareDownloadUrl"))
                .is_true(|req| body_json(req)["certificateID"] == CITY_FILE_NUMBER);
            then.status(200).json_body(json!({
                "head": {"message": "接口调用成功！", "type": "1", "status": "0"},
                "data": {"total": 1, "dataList": [{
                    "certIdentifier": CITY_FILE_NUMBER,
                    "contentType": "http",
                    "content": "http://h/CertShare/zzgxp/download?id=fe7d"
                }]}
            }));
        })
        .await;
    let info = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!(
                    "{ROOT}/m/v/license/external/api/ShareQueryCertInfo"
                ))
                .is_true(|req| {
                    body_json(req)["certificateID"] == CITY_FILE_NUMBER
                        && body_json(req)["interfaceType"] == "1"
                });
            then.status(200).json_body(city_licences());
        })
        .await;
    let client = client_with(&server, |b| b);
    let links = client
        .share_download_url(&ShareDownloadUrl::new(CITY_FILE_NUMBER))
        .await
        .unwrap();
    assert!(links.found());
    let licences = client
        .share_query_cert_info(
            &ShareQueryCertInfo::new(CITY_FILE_NUMBER).interface_type(InterfaceType::City),
        )
        .await
        .unwrap();
    assert!(licences.found());
    link.assert_async().await;
    info.assert_async().await;
    token.assert_calls_async(1).await;
    // It embeds the holder's ID number: masked in Debug (a GB/T 36904 identifier is not).
    let shown = format!("{:?}", ShareDownloadUrl::new(CITY_FILE_NUMBER));
    assert!(!shown.contains(EMBEDDED_ID), "{shown}");
    let shown = format!("{:?}", ShareDownloadUrl::new(CERT_ID));
    assert!(shown.contains(CERT_ID), "{shown}");
    // ... and scrubbed from an error that echoes it.
    let echo = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{ROOT}/m/v/license/external/api/ShareQueryCertInfo"));
            then.status(200).json_body(json!({
                "head": {"status": "102", "message": format!("参数值错误: certificateID {CITY_FILE_NUMBER}")},
                "data": format!("证照 {CITY_FILE_NUMBER} 不存在")
            }));
        })
        .await;
    let err = client
        .share_query_cert_info(&ShareQueryCertInfo::new(CITY_FILE_NUMBER))
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(EMBEDDED_ID), "{text}");
    assert!(!text.contains(CITY_FILE_NUMBER), "{text}");
    echo.assert_async().await;
}

#[tokio::test]
async fn only_the_documents_lengths_are_enforced() {
    // The document sets one length: "申请事由，不超过 200 字" (certificateCopyCause, useFor,
    // useCause). Other values have none: a long one is sent as it is; only an absurd one
    // (over 65,536 characters) is stopped, by a bound that says it is credkit's own.
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    let qr = share(&server, "ShareQueryCertInfoByQRcode", province_licences()).await;
    let verify = share(
        &server,
        "ShareVerifyCertInfo",
        json!({"head": {"status": "0", "message": "ok", "type": "1"}, "data": {"total": 1, "dataList": [{"result": 0, "message": "信息正确且有效"}]}}),
    )
    .await;
    let long_system = "系".repeat(300);
    let client = client_with(&server, |b| {
        b.audit(audit().system_name(long_system.as_str()))
    });
    client
        .share_query_cert_info_by_qrcode(&ShareQueryCertInfoByQrcode::new("Q".repeat(5000)))
        .await
        .unwrap();
    qr.assert_async().await;
    client
        .share_verify_cert_info(&ShareVerifyCertInfo::new(
            "C".repeat(100),
            format!("{{\"note\":\"{}\"}}", "x".repeat(25_000)),
            "核验",
            ID,
        ))
        .await
        .unwrap();
    verify.assert_async().await;
    // The documented limit stays (the audit context is checked when the client is built).
    let build = |audit: AuditContext| {
        Client::builder()
            .base_url(format!("{}{ROOT}", server.base_url()))
            .username(USERNAME)
            .password(PASSWORD)
            .client_id(CLIENT_ID)
            .client_secret(CLIENT_SECRET)
            .audit(audit)
            .build()
    };
    let err = build(audit().copy_cause("因".repeat(201))).unwrap_err();
    assert!(err.to_string().contains("at most 200"), "{err}");
    // The sanity bound says whose it is.
    let err = build(audit().system_name("系".repeat(70_000))).unwrap_err();
    assert!(err.to_string().contains("credkit's own bound"), "{err}");
    let err = client
        .share_query_cert_info_by_qrcode(&ShareQueryCertInfoByQrcode::new("Q".repeat(70_000)))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("credkit's own bound"), "{err}");
}

#[tokio::test]
async fn the_city_heads_sign_and_time_are_kept_and_status_2_says_no_more_than_the_table() {
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    // The document's city answer of 4.3.6: `"head": {"sign": "", "time": 0, ...}`.
    share(
        &server,
        "ShareQueryCertInfoByQRcode",
        json!({"head": {"sign": "", "time": 0, "message": "查询成功", "status": 0}, "data": {
            "license_name": "中国 XXXX 操作证书",
            "fileNumber": CITY_FILE_NUMBER,
            "holder": "张 XX"
        }}),
    )
    .await;
    let client = client_with(&server, |b| b);
    let answer = client
        .share_query_cert_info_by_qrcode(
            &ShareQueryCertInfoByQrcode::new("Q").interface_type(InterfaceType::City),
        )
        .await
        .unwrap();
    assert_eq!(answer.meta().attribute("head.sign"), Some(""));
    assert_eq!(answer.meta().attribute("head.time"), Some("0"));
    assert_eq!(
        answer.result().unwrap().identifiers(),
        vec![CITY_FILE_NUMBER]
    );
    // Status 2 with no message of its own: the table's words, no invented hint.
    let server = MockServer::start_async().await;
    password_grant(&server, TOKEN_1, 43199).await;
    share(
        &server,
        "ShareQueryCertInfo",
        json!({"head": {"status": "2", "message": ""}, "data": null}),
    )
    .await;
    let err = client_with(&server, |b| b)
        .share_query_cert_info(&ShareQueryCertInfo::new(CERT_ID))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("证照源未提供此服务接口"), "{text}");
    assert!(!text.contains("interfaceType"), "{text}");
}
