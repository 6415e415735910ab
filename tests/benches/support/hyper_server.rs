//! The benchmarks' HTTP/1.1 server: hyper on a thread and current-thread runtime of its
//! own; reads each request's body and answers one canned response.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// Starts the server on loopback; every request is answered `200` with `headers` and
/// `body`.
pub fn start(headers: Vec<(&'static str, String)>, body: &'static str) -> SocketAddr {
    let headers = Arc::new(headers);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                let headers = headers.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let headers = headers.clone();
                        async move {
                            let _ = req.into_body().collect().await;
                            let mut response = Response::builder();
                            for (name, value) in headers.iter() {
                                response = response.header(*name, value.as_str());
                            }
                            Ok::<_, Infallible>(
                                response
                                    .body(Full::new(Bytes::from_static(body.as_bytes())))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().unwrap()
}
