//! The metrics every call emits, captured with `metrics-util`'s debugging recorder on a
//! current-thread runtime (the recorder is thread-local, so tests do not mix): a
//! success, a no-record answer, a throttled call retried, an insufficient balance, an ID
//! number refused locally, a token request and a rate-limit wait. No label may carry any
//! of the inputs' personal data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::HashMap;

use cred_core::RetryPolicy;
use cred_sandbox::Sandbox;
use cred_sandbox::credentials::*;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

const NAME: &str = "王小明";
const ID: &str = "321083197812162119";
const NO_RECORD: &str = "110101199003070011";
const BALANCE: &str = "11010119900307002X";
const THROTTLED: &str = "110101199003070038";

/// `name{label=value,...}` → counter value or histogram sample count.
type Series = HashMap<String, u64>;

fn run_recorded(f: impl AsyncFnOnce()) -> Series {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f());
    });
    let mut out = Series::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let mut labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        let n = match value {
            DebugValue::Counter(c) => c,
            DebugValue::Histogram(h) => h.len() as u64,
            DebugValue::Gauge(_) => 1,
        };
        out.insert(name, n);
    }
    out
}

fn jumdata(sandbox: &Sandbox, retry: RetryPolicy, rate: u32) -> jumdata_api::Client {
    jumdata_api::Client::builder()
        .app_id(JUMDATA_APP_ID)
        .app_secret(JUMDATA_APP_SECRET)
        .base_url(sandbox.base_url())
        .retry(retry)
        .rate_limit(rate)
        .build()
        .unwrap()
}

#[test]
fn every_outcome_leaves_its_series_and_no_personal_data() {
    let series = run_recorded(async || {
        let sandbox = Sandbox::start().await.unwrap();
        let client = jumdata(&sandbox, RetryPolicy::default(), 0);
        let q = |id: &str| jumdata_api::CredentialQuery::new(NAME, id);
        assert!(client.credential_query(&q(ID)).await.unwrap().found());
        assert!(
            !client
                .credential_query(&q(NO_RECORD))
                .await
                .unwrap()
                .found()
        );
        assert!(client.credential_query(&q(BALANCE)).await.is_err());
        assert!(client.credential_query(&q(THROTTLED)).await.is_err());
        assert!(
            client
                .credential_query(&q("32108319781216211X"))
                .await
                .is_err()
        );
        // Rate-limit waits: three calls at 20/s.
        let slow = jumdata(&sandbox, RetryPolicy::none(), 20);
        for _ in 0..3 {
            slow.credential_query(&q(ID)).await.unwrap();
        }
        // A token request (the licence platform's password grant) and a call with it.
        let zz = zz_license_api::Client::builder()
            .base_url(sandbox.zz_license_base_url())
            .username(ZZ_LICENSE_USERNAME)
            .password(ZZ_LICENSE_PASSWORD)
            .client_id(ZZ_LICENSE_CLIENT_ID)
            .client_secret(ZZ_LICENSE_CLIENT_SECRET)
            .audit(
                zz_license_api::AuditContext::new()
                    .system_name("credkit 测试平台")
                    .call_category(zz_license_api::CallCategory::NonMatter)
                    .matter_name("证照核验")
                    .event_code("1137000000450258552372014020002")
                    .copy_cause("自动化测试"),
            )
            .build()
            .unwrap();
        let info =
            zz_license_api::ShareQueryCertInfo::new(cred_sandbox::zz_license::FIXTURE_IDS[0]);
        assert!(zz.share_query_cert_info(&info).await.unwrap().found());
    });
    let get = |k: &str| series.get(k).copied().unwrap_or(0);
    let calls = |outcome: &str, kind: &str, charged: &str| {
        get(&format!(
            "credkit_calls_total{{charged={charged},kind={kind},operation=credential_query,outcome={outcome},provider=jumdata}}"
        ))
    };
    assert_eq!(calls("answered", "none", "yes"), 4, "{series:#?}"); // 1 + 3 rate-limited
    assert_eq!(calls("not_found", "none", "no"), 1, "{series:#?}");
    assert_eq!(
        calls("error", "insufficient-balance", "no"),
        1,
        "{series:#?}"
    );
    assert_eq!(calls("error", "throttled", "no"), 1, "{series:#?}");
    let attempts = |reason: &str| {
        get(&format!(
            "credkit_attempts_total{{operation=credential_query,provider=jumdata,reason={reason}}}"
        ))
    };
    assert_eq!(attempts("first"), 7, "{series:#?}");
    let retries = u64::from(RetryPolicy::default().max_attempts()) - 1;
    assert_eq!(attempts("retry_after_throttled"), retries, "{series:#?}");
    assert_eq!(
        get(
            "credkit_invalid_input_total{operation=credential_query,param=idcard,provider=jumdata}"
        ),
        1,
        "{series:#?}"
    );
    assert_eq!(
        get(
            "credkit_call_duration_seconds{operation=credential_query,outcome=answered,provider=jumdata}"
        ),
        4
    );
    assert_eq!(
        get("credkit_http_duration_seconds{provider=jumdata,status=200}"),
        7 + retries,
        "{series:#?}"
    );
    assert!(
        get("credkit_ratelimit_wait_seconds{provider=jumdata}") >= 2,
        "{series:#?}"
    );
    assert_eq!(
        get("credkit_token_requests_total{grant=password,outcome=ok,provider=zz_license}"),
        1,
        "{series:#?}"
    );
    assert_eq!(
        get(
            "credkit_calls_total{charged=unknown,kind=none,operation=share_query_cert_info,outcome=answered,provider=zz_license}"
        ) + get(
            "credkit_calls_total{charged=no,kind=none,operation=share_query_cert_info,outcome=answered,provider=zz_license}"
        ) + get(
            "credkit_calls_total{charged=yes,kind=none,operation=share_query_cert_info,outcome=answered,provider=zz_license}"
        ),
        1,
        "{series:#?}"
    );
    // No label carries the inputs: names, ID numbers, licence ids, credentials.
    let all = format!("{series:?}");
    for secret in [
        NAME,
        ID,
        NO_RECORD,
        BALANCE,
        THROTTLED,
        "32108319781216211X",
        cred_sandbox::zz_license::FIXTURE_IDS[0],
        JUMDATA_APP_ID,
        JUMDATA_APP_SECRET,
        ZZ_LICENSE_USERNAME,
        ZZ_LICENSE_PASSWORD,
        "127.0.0.1",
    ] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
}
