//! What both benchmarks' processes share: their sizes from the environment, the client
//! runtime, and the server role started in a process of its own.

/// `name` from the environment as a number, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The clients' runtime: tokio with one worker (the other core serves).
pub fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// Starts this benchmark's `BENCH_ROLE=server` (`BENCH_SERVER=kind`) in a process of
/// its own; answers the process and the base URL it printed.
pub fn server_process(kind: &str) -> (std::process::Child, String) {
    let mut server = std::process::Command::new(std::env::current_exe().unwrap())
        .env("BENCH_ROLE", "server")
        .env("BENCH_SERVER", kind)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    (server, format!("http://{}", line.trim()))
}
