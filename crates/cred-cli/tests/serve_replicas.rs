//! Three `cred serve` replicas on one real `redis-server`, the sandbox as the provider:
//! they share the provider's rate, the licence platform's token, idempotency keys and
//! callers' daily budgets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

#[path = "../../cred-redis/tests/common/mod.rs"]
mod redis_server;
mod serve_common;

use std::time::Duration;

use cred_sandbox::{Sandbox, SandboxConfig};
use redis_server::{RedisServer, max_per_second, sandbox_arrivals};
use serde_json::{Value, json};
use serve_common::*;

const FOUND: &str = "321083197812162119";

/// Three replicas with one config (caller `tester`, `extra` settings) on `redis`.
fn replicas(
    name: &str,
    sandbox: &Sandbox,
    redis: &RedisServer,
    extra: &str,
    rate: &str,
) -> Vec<Served> {
    let (dir, config, key) = caller_config(name, extra);
    let env = sandbox_env(sandbox);
    (0..3)
        .map(|i| {
            let url = redis.url();
            let mut served = Served::start_in(
                dir.join(format!("replica-{i}")),
                &[
                    "--redis",
                    &url,
                    "--redis-namespace",
                    name,
                    "--rate-limit",
                    rate,
                    "serve",
                    "--no-audit",
                    "--config",
                    config.to_str().unwrap(),
                ],
                &env,
            );
            served.key = key.clone();
            served
        })
        .collect()
}

/// `n` calls of `path` with `body` at once, spread over `gateways`: their responses.
async fn burst(
    gateways: &[Served],
    http: &reqwest::Client,
    path: &str,
    body: &Value,
    n: usize,
) -> Vec<reqwest::Response> {
    let mut calls = Vec::new();
    for i in 0..n {
        calls.push(tokio::spawn(
            gateways[i % gateways.len()].post(http, path, body).send(),
        ));
    }
    let mut out = Vec::new();
    for c in calls {
        out.push(c.await.unwrap().unwrap());
    }
    out
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_the_rate_and_one_token() {
    let Some(redis) = RedisServer::start("gw-rate") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let gateways = replicas("gwrate", &sandbox, &redis, "", "4");
    let http = client();
    let mut calls = Vec::new();
    for i in 0..12 {
        let g = &gateways[i % 3];
        calls.push(tokio::spawn(
            g.post(
                &http,
                "/v1/jumdata/idcard",
                &json!({"name": "王小明", "idcard": FOUND}),
            )
            .send(),
        ));
        calls.push(tokio::spawn(
            g.post(
                &http,
                "/v1/zz-license/by-holder",
                &json!({"holder-code": FOUND, "cert-type": "T01"}),
            )
            .send(),
        ));
    }
    for c in calls {
        let r = c.await.unwrap().unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let times = sandbox_arrivals(sandbox.base_url(), "/idcard/check").await;
    assert_eq!(times.len(), 12);
    let worst = max_per_second(&times);
    eprintln!("12 calls through 3 replicas at 4/s: max one-second window {worst}");
    // Permits are 250 ms apart; arrival jitter after a permit can put a fifth arrival
    // just inside a window (see shared_limit.rs). Alone, three replicas would send 12
    // at once.
    assert!(worst <= 5, "{worst} calls in one second");
    let span = times[times.len() - 1] - times[0];
    assert!(span >= 2000, "12 calls at 4/s took only {span} ms");
    assert_eq!(
        sandbox.zz_license_token_requests(),
        1,
        "one token for three replicas"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_sent_to_two_replicas_at_once_reaches_the_provider_once() {
    let Some(redis) = RedisServer::start("gw-idem") else {
        return;
    };
    let sandbox = Sandbox::start_with(SandboxConfig {
        slow_delay: Duration::from_millis(700),
        ..Default::default()
    })
    .await
    .unwrap();
    let gateways = replicas("gwidem", &sandbox, &redis, "", "100");
    let http = client();
    for (round, id) in [FOUND, "110101199003070126"].into_iter().enumerate() {
        let body = json!({"name": "王小明", "idcard": id});
        let key = format!("hire-{round}");
        let send = |g: &Served| {
            g.post(&http, "/v1/jumdata/credential", &body)
                .header("Idempotency-Key", key.as_str())
                .send()
        };
        let (a, b) = tokio::join!(send(&gateways[0]), send(&gateways[1]));
        let statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
        assert!(statuses.contains(&200), "{statuses:?}");
        assert!(
            statuses.iter().all(|s| [200, 409].contains(s)),
            "{statuses:?}"
        );
        // The third replica replays the stored answer once it is there.
        let mut replayed = None;
        for _ in 0..100 {
            let r = send(&gateways[2]).await.unwrap();
            if r.status() == 200 {
                replayed = Some(r.headers()["idempotent-replayed"].clone());
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(replayed.unwrap(), "true");
    }
    assert_eq!(
        sandbox_arrivals(sandbox.base_url(), "/credential/query")
            .await
            .len(),
        2,
        "each key reached the provider once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_budget_holds_across_replicas() {
    let Some(redis) = RedisServer::start("gw-budget") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let gateways = replicas("gwbudget", &sandbox, &redis, "daily_budget = 4\n", "100");
    let http = client();
    let person = json!({"name": "王小明", "idcard": FOUND});
    let mut ok = 0;
    for r in burst(&gateways, &http, "/v1/jumdata/credential", &person, 12).await {
        match r.status().as_u16() {
            200 => ok += 1,
            429 => {
                let v: Value = r.json().await.unwrap();
                assert_eq!(v["error"]["kind"], "quota-exhausted");
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!(ok, 4);
    assert_eq!(
        sandbox_arrivals(sandbox.base_url(), "/credential/query")
            .await
            .len(),
        4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_the_gateway_fails_closed() {
    let Some(mut redis) = RedisServer::start("gw-closed") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let gateways = replicas("gwclosed", &sandbox, &redis, "daily_budget = 10\n", "100");
    let http = client();
    let call = || {
        gateways[0]
            .post(
                &http,
                "/v1/jumdata/credential",
                &json!({"name": "王小明", "idcard": FOUND}),
            )
            .header("Idempotency-Key", "k-1")
    };
    let (s, _) = answer(call()).await;
    assert_eq!(s, 200);
    redis.stop();
    let (s, v) = answer(call().header("Idempotency-Key", "k-2")).await;
    assert_eq!(s, 503, "{v}");
    assert_eq!(v["error"]["charged"], false, "{v}");
    let ready = http
        .get(format!("{}/readyz", gateways[0].url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(
        sandbox_arrivals(sandbox.base_url(), "/credential/query")
            .await
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_rate_holds_across_replicas() {
    let Some(redis) = RedisServer::start("gw-caller-rate") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let gateways = replicas("gwcrate", &sandbox, &redis, "rate_limit = 2\n", "100");
    let http = client();
    let started = std::time::Instant::now();
    let person = json!({"name": "王小明", "idcard": FOUND});
    let mut admitted = 0;
    for r in burst(&gateways, &http, "/v1/jumdata/idcard", &person, 12).await {
        match r.status().as_u16() {
            200 => admitted += 1,
            429 => assert!(r.headers().contains_key("retry-after")),
            other => panic!("{other}"),
        }
    }
    // Bursts of 2, then 2 a second, for all replicas together (alone, each would admit
    // its own burst: 6).
    let elapsed = started.elapsed().as_secs_f64();
    let most = 2 + (elapsed * 2.0).ceil() as usize;
    assert!(
        (2..=most).contains(&admitted),
        "{admitted} admitted in {elapsed:.2} s"
    );
    assert!(
        admitted < 6,
        "{admitted}: the replicas did not share the rate"
    );
    assert_eq!(
        sandbox_arrivals(sandbox.base_url(), "/idcard/check")
            .await
            .len(),
        admitted
    );
}
