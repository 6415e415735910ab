//! RSA-2048 signatures and verifications per second on one core, through the SDK's
//! parsed-once keys, printed beside `openssl speed rsa2048` run on the same machine in
//! the same process. `cargo bench -p zhima-api --bench rsa`
//! (`BENCH_SECONDS` sets the measuring time per figure, default 3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark may fail loudly

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use zhima_api::signer::{auth_string, sign_request};
use zhima_api::{AlipayPublicKey, AppKey};

const PRIVATE: &str = include_str!("../tests/fixtures/app_private_pkcs8.pem");
const PUBLIC: &str = include_str!("../tests/fixtures/app_public.pem");
const CONTENT: &str = include_str!("../tests/fixtures/kat_sign_string.txt");

/// Operations per second of `op`, run for `seconds` after a short warm-up.
fn rate(seconds: f64, mut op: impl FnMut()) -> f64 {
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(200) {
        op();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..16 {
            op();
        }
        n += 16;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// `(sign/s, verify/s)` from `openssl speed -seconds N rsa2048`, single process.
fn openssl_speed(seconds: u64) -> Option<(f64, f64)> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), "rsa2048"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Columns differ between OpenSSL versions (3.2 adds encrypt/decrypt): find them by
    // the header line's names.
    let header: Vec<&str> = text
        .lines()
        .find(|l| l.contains("sign/s") && l.contains("verify/s"))?
        .split_whitespace()
        .collect();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("rsa 2048 bits"))?;
    let values: Vec<f64> = line
        .split_whitespace()
        .skip(3)
        .filter_map(|w| w.trim_end_matches('s').parse().ok())
        .collect();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .and_then(|i| values.get(i).copied())
    };
    Some((at("sign/s")?, at("verify/s")?))
}

fn main() {
    let seconds: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let key = AppKey::parse(PRIVATE).unwrap();
    let public = AlipayPublicKey::parse(PUBLIC).unwrap();
    let signature = key.sign(CONTENT.as_bytes()).unwrap();
    assert!(public.verify(CONTENT.as_bytes(), &signature));

    let sign = rate(seconds, || {
        black_box(key.sign(black_box(CONTENT.as_bytes())).unwrap());
    });
    let verify = rate(seconds, || {
        assert!(public.verify(black_box(CONTENT.as_bytes()), black_box(&signature)));
    });
    // The whole header, as every request builds it (auth string, content, base64).
    let header = rate(seconds, || {
        let auth = auth_string(
            "2021000000000001",
            None,
            "0123456789abcdef0123456789abcdef",
            1_700_000_000_000,
        );
        black_box(
            sign_request(
                &key,
                &auth,
                "GET",
                "/v3/zhima/customer/jobworth/authentication?once_token=x",
                "",
                None,
            )
            .unwrap(),
        );
    });
    // The pattern that makes other SDKs slow: parse the key on every call.
    let reparse = rate(seconds, || {
        black_box(
            AppKey::parse(PRIVATE)
                .unwrap()
                .sign(CONTENT.as_bytes())
                .unwrap(),
        );
    });

    println!("RSA-2048 on one core ({seconds:.0} s per figure)");
    println!("  credkit sign           {sign:>10.1} /s");
    println!("  credkit sign header    {header:>10.1} /s");
    println!("  credkit verify         {verify:>10.1} /s");
    println!("  re-parse key each call {reparse:>10.1} /s");
    match openssl_speed(seconds.ceil() as u64) {
        Some((os_sign, os_verify)) => {
            println!("  openssl speed sign     {os_sign:>10.1} /s");
            println!("  openssl speed verify   {os_verify:>10.1} /s");
            println!("ratios against openssl (goal: sign >= 0.90)");
            println!("  sign        {:.3}", sign / os_sign);
            println!("  sign header {:.3}", header / os_sign);
            println!("  verify      {:.3}", verify / os_verify);
            println!("  re-parse    {:.3}", reparse / os_sign);
        }
        None => println!("  openssl not found or its output not understood: no ratio"),
    }
}
