//! The shared token store against a real `redis-server` the tests start and the
//! licence platform's sandbox: the store's own guarantees, tokens at rest, several
//! clients (each with its own store and connection, as separate processes would have)
//! sharing one token, `invalid_token` dropped once, Redis stopped in both failure
//! modes. The multi-process versions are in `processes.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use cred_core::{Charged, Error, ErrorKind, Lease, NewToken, Secret, TokenStore};
use cred_redis::{RedisRateLimiter, RedisTokenStore, TokenKey};
use cred_sandbox::Sandbox;
use cred_sandbox::credentials::{ZZ_LICENSE_CLIENT_ID, ZZ_LICENSE_USERNAME};

fn store(url: &str) -> RedisTokenStore {
    RedisTokenStore::builder(url).build().unwrap()
}

/// `n` licence-platform clients, each with its own store and connection on `url`: as
/// `n` processes would have.
fn clients_sharing(zz_base_url: &str, url: &str, n: usize) -> Vec<zz_license_api::Client> {
    (0..n)
        .map(|_| {
            zz_builder(zz_base_url)
                .token_store(Arc::new(store(url)))
                .build()
                .unwrap()
        })
        .collect()
}

fn new_token(value: &str, lifetime: Duration) -> NewToken {
    NewToken::new(
        Secret::from(value.to_owned()),
        Some(Secret::from(format!("{value}-refresh"))),
        lifetime,
    )
}

/// The fields of the token hash `name`, and its `tok` field.
async fn stored_fields(
    conn: &mut redis::aio::MultiplexedConnection,
    name: &str,
) -> (Vec<(String, String)>, String) {
    let fields: Vec<(String, String)> = redis::cmd("HGETALL")
        .arg(name)
        .query_async(conn)
        .await
        .unwrap();
    let tok = fields.iter().find(|(k, _)| k == "tok").unwrap().1.clone();
    (fields, tok)
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_store_keeps_leases_generations_and_lifetimes_on_the_server() {
    let Some(redis) = RedisServer::start("store") else {
        return;
    };
    let (a, b) = (store(&redis.url()), store(&redis.url()));
    assert!(a.get("acct").await.unwrap().is_none());
    // One lease at a time across stores (connections).
    let lease = a.try_lease("acct", Duration::from_secs(10)).await.unwrap();
    let lease = lease.expect("a free lease is taken");
    assert!(
        b.try_lease("acct", Duration::from_secs(10))
            .await
            .unwrap()
            .is_none()
    );
    // A release with someone else's id does nothing.
    b.release("acct", &Lease::new("not-the-holder"))
        .await
        .unwrap();
    assert!(
        b.try_lease("acct", Duration::from_secs(10))
            .await
            .unwrap()
            .is_none()
    );
    let first = a
        .publish("acct", &lease, new_token("tok-1", Duration::from_secs(60)))
        .await
        .unwrap();
    // Publishing released the lease.
    let lease_b = b
        .try_lease("acct", Duration::from_millis(300))
        .await
        .unwrap()
        .expect("published: the lease is free");
    let seen = b.get("acct").await.unwrap().unwrap();
    assert_eq!(seen.access.expose(), "tok-1");
    assert_eq!(seen.refresh.unwrap().expose(), "tok-1-refresh");
    assert_eq!(seen.generation, first.generation);
    assert_eq!(seen.lifetime, Duration::from_secs(60));
    assert!(seen.remaining <= Duration::from_secs(60) && seen.remaining > Duration::from_secs(58));
    // The holder of `lease_b` dies: its lease runs out by itself.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let lease_a = a
        .try_lease("acct", Duration::from_secs(5))
        .await
        .unwrap()
        .expect("an expired lease is free");
    assert_ne!(lease_a, lease_b);
    let second = a
        .publish(
            "acct",
            &lease_a,
            new_token("tok-2", Duration::from_secs(60)),
        )
        .await
        .unwrap();
    assert!(second.generation > first.generation);
    // A late report on the first token does not drop the second.
    assert!(!b.invalidate("acct", first.generation).await.unwrap());
    assert_eq!(
        b.get("acct").await.unwrap().unwrap().access.expose(),
        "tok-2"
    );
    assert!(b.invalidate("acct", second.generation).await.unwrap());
    assert!(!a.invalidate("acct", second.generation).await.unwrap());
    assert!(a.get("acct").await.unwrap().is_none());
    // A token that expires at once is numbered but not kept; a short one expires.
    let lease = a
        .try_lease("acct", Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    let now = a
        .publish("acct", &lease, new_token("tok-now", Duration::ZERO))
        .await
        .unwrap();
    assert!(now.generation > second.generation);
    assert!(a.get("acct").await.unwrap().is_none());
    let lease = a
        .try_lease("acct", Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    a.publish(
        "acct",
        &lease,
        new_token("tok-short", Duration::from_millis(200)),
    )
    .await
    .unwrap();
    assert!(a.get("acct").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(a.get("acct").await.unwrap().is_none());
    // Accounts are apart.
    assert!(a.get("other").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_with_their_own_stores_share_one_token() {
    let Some(redis) = RedisServer::start("share-token") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let zz = sandbox.zz_license_base_url();
    let clients = clients_sharing(&zz, &redis.url(), 4);
    let mut tasks = tokio::task::JoinSet::new();
    for client in &clients {
        for _ in 0..25 {
            let client = client.clone();
            tasks.spawn(async move { zz_query(&client).await });
        }
    }
    while let Some(r) = tasks.join_next().await {
        assert!(r.unwrap().unwrap().found());
    }
    assert_eq!(sandbox_token_requests(sandbox.base_url()).await, 1);
    let sent: u64 = clients.iter().map(|c| c.token_requests()).sum();
    assert_eq!(sent, 1, "one client asked, the others used its token");
    // The account key is a hash: nothing readable of the account in Redis.
    let account = clients[0].token_account();
    assert_eq!(account.len(), 32);
    assert!(account.bytes().all(|b| b.is_ascii_hexdigit()));
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut raw(&redis.url()).await)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    for key in &keys {
        for readable in [
            ZZ_LICENSE_USERNAME,
            ZZ_LICENSE_CLIENT_ID,
            "license-api",
            "127.0.0.1",
        ] {
            assert!(!key.contains(readable), "{key} shows {readable}");
        }
    }
}

/// The token the sandbox hands out now (the password grant answers the current one).
async fn current_sandbox_token(zz_base_url: &str) -> String {
    use cred_sandbox::credentials::*;
    let request = reqwest::Client::new()
        .post(format!("{zz_base_url}/oauth/token"))
        .basic_auth(ZZ_LICENSE_CLIENT_ID, Some(ZZ_LICENSE_CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&scope=read%20write&username={ZZ_LICENSE_USERNAME}&password={ZZ_LICENSE_PASSWORD}"
        ));
    json_answer(request).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn tokens_at_rest_are_sealed_with_the_configured_key() {
    let Some(redis) = RedisServer::start("sealed") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let zz = sandbox.zz_license_base_url();
    let key = TokenKey::generate().unwrap();
    let sealed = RedisTokenStore::builder(redis.url())
        .token_key(key.clone())
        .build()
        .unwrap();
    let key_name = sealed.token_key_name("");
    let client = zz_builder(&zz)
        .token_store(Arc::new(sealed.clone()))
        .build()
        .unwrap();
    assert!(zz_query(&client).await.unwrap().found());
    let token = current_sandbox_token(&zz).await;
    let name = sealed.token_key_name(client.token_account());
    assert_ne!(name, key_name);
    let mut conn = raw(&redis.url()).await;
    let (fields, tok) = stored_fields(&mut conn, &name).await;
    assert!(tok.starts_with("s1."), "sealed form");
    let everything = format!("{fields:?}");
    assert!(
        !everything.contains(&token),
        "the token is not readable in Redis"
    );
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&name)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0, "the token expires in Redis too");
    // Another process with the same key uses it (no second token request).
    let same_key = zz_builder(&zz)
        .token_store(Arc::new(
            RedisTokenStore::builder(redis.url())
                .token_key(TokenKey::parse(key.to_base64().expose()).unwrap())
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap();
    assert!(zz_query(&same_key).await.unwrap().found());
    assert_eq!(same_key.token_requests(), 0);
    // One with another key, or none, gets a clear configuration error, not a second
    // token, and sends nothing.
    let before = sandbox.requests();
    for other in [Some(TokenKey::generate().unwrap()), None] {
        let mut builder = RedisTokenStore::builder(redis.url());
        if let Some(k) = other {
            builder = builder.token_key(k);
        }
        let client = zz_builder(&zz)
            .token_store(Arc::new(builder.build().unwrap()))
            .build()
            .unwrap();
        let err = zz_query(&client).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        assert!(err.to_string().contains("same"), "{err}");
        assert_eq!(client.token_requests(), 0);
    }
    assert_eq!(sandbox.requests(), before);
}

#[tokio::test]
async fn without_a_key_the_token_is_sealed_with_the_accounts_own_secrets() {
    let Some(redis) = RedisServer::start("derived") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let zz = sandbox.zz_license_base_url();
    let store = store(&redis.url());
    let client = zz_builder(&zz)
        .token_store(Arc::new(store.clone()))
        .build()
        .unwrap();
    assert!(zz_query(&client).await.unwrap().found());
    let token = current_sandbox_token(&zz).await;
    let name = store.token_key_name(client.token_account());
    let mut conn = raw(&redis.url()).await;
    let (fields, tok) = stored_fields(&mut conn, &name).await;
    assert!(tok.starts_with("s1."), "sealed by default: {tok}");
    assert!(
        !format!("{fields:?}").contains(&token),
        "the token is not readable in Redis"
    );
    // Another process of the same account (same secrets, no key configured) opens it:
    // no second token request.
    let same_account = zz_builder(&zz)
        .token_store(Arc::new(self::store(&redis.url())))
        .build()
        .unwrap();
    assert!(zz_query(&same_account).await.unwrap().found());
    assert_eq!(same_account.token_requests(), 0);
    // Someone with the same username and client but not the secrets (here: another
    // password) cannot open it: a configuration error, nothing sent.
    let before = sandbox.requests();
    let outsider = zz_builder(&zz)
        .username(ZZ_LICENSE_USERNAME)
        .password("not-the-password")
        .token_store(Arc::new(self::store(&redis.url())))
        .build()
        .unwrap();
    assert_eq!(outsider.token_account(), client.token_account());
    let err = zz_query(&outsider).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert_eq!(sandbox.requests(), before);
    // A token an earlier version stored unsealed is not used: renewed, and stored sealed.
    let _: () = redis::cmd("HSET")
        .arg(&name)
        .arg("tok")
        .arg("p1.an-old-unsealed-token")
        .query_async(&mut conn)
        .await
        .unwrap();
    let upgraded = zz_builder(&zz)
        .token_store(Arc::new(self::store(&redis.url())))
        .build()
        .unwrap();
    assert!(zz_query(&upgraded).await.unwrap().found());
    assert_eq!(upgraded.token_requests(), 1);
    let tok: String = redis::cmd("HGET")
        .arg(&name)
        .arg("tok")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(tok.starts_with("s1."), "{tok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_dropped_once_for_every_client() {
    let Some(redis) = RedisServer::start("invalid") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let zz = sandbox.zz_license_base_url();
    let clients = clients_sharing(&zz, &redis.url(), 4);
    for client in &clients {
        assert!(zz_query(client).await.unwrap().found());
    }
    assert_eq!(sandbox_token_requests(sandbox.base_url()).await, 1);
    assert_eq!(sandbox_revoke(sandbox.base_url()).await, 1);
    let mut tasks = tokio::task::JoinSet::new();
    for client in &clients {
        for _ in 0..10 {
            let client = client.clone();
            tasks.spawn(async move { zz_query(&client).await });
        }
    }
    while let Some(r) = tasks.join_next().await {
        assert!(r.unwrap().unwrap().found(), "re-authenticated and replayed");
    }
    // Forty calls met `invalid_token`; the token was dropped and renewed once.
    assert_eq!(sandbox_token_requests(sandbox.base_url()).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_fails_closed_without_sending_then_recovers() {
    let Some(mut redis) = RedisServer::start("down-closed") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let zz = sandbox.zz_license_base_url();
    let limiter = RedisRateLimiter::builder(redis.url(), NonZeroU32::new(100).unwrap())
        .provider("zz-license")
        .account("acct")
        .build()
        .unwrap();
    let client = zz_builder(&zz)
        .token_store(Arc::new(store(&redis.url())))
        .rate_limiter(Arc::new(limiter))
        .build()
        .unwrap();
    assert!(zz_query(&client).await.unwrap().found());
    redis.stop();
    let before = sandbox.requests();
    for _ in 0..5 {
        let started = Instant::now();
        let err: Error = zz_query(&client).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
        assert_eq!(err.charged(), Charged::No);
        assert!(
            err.to_string().contains("nothing was sent")
                || err.to_string().contains("failing closed"),
            "{err}"
        );
        assert!(!err.to_string().contains(&redis.url()), "{err}");
        // No hang: within the Redis timeout (500 ms) and well within the call's.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
    assert_eq!(sandbox.requests(), before, "nothing reached the platform");
    redis.restart();
    // Back by itself (Redis is asked again at most every 500 ms); the restarted Redis
    // is empty, so one new token request.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match zz_query(&client).await {
            Ok(answer) => {
                assert!(answer.found());
                break;
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
                assert!(Instant::now() < deadline, "no recovery: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    assert_eq!(sandbox_token_requests(sandbox.base_url()).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_with_fallback_keeps_a_token_in_the_process() {
    let Some(mut redis) = RedisServer::start("down-local") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let zz = sandbox.zz_license_base_url();
    let client = zz_builder(&zz)
        .token_store(Arc::new(
            RedisTokenStore::builder(redis.url())
                .fall_back_to_local(true)
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap();
    redis.stop();
    for _ in 0..3 {
        assert!(zz_query(&client).await.unwrap().found());
    }
    assert_eq!(
        client.token_requests(),
        1,
        "one local token while Redis is away"
    );
    redis.restart();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(zz_query(&client).await.unwrap().found());
}
