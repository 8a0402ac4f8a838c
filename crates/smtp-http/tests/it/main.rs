//! The server over loopback sockets: keep-alive, pipelining, limits, timeouts, overload,
//! workers started on demand and shutdown. Requests are written by hand so that every byte on
//! the wire is the test's choice.

// Test helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used)]

mod golden;
mod workers;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use smtp_http::{Handler, HttpConfig, HttpServer, Method, Request, Response, Router, RouterConfig};
use smtp_store::{Store, StoreConfig};

/// A server whose handler echoes the method, target and body length.
fn echo_server(config: HttpConfig) -> HttpServer {
    serve(echo(), config)
}

fn serve(handler: Arc<Handler>, config: HttpConfig) -> HttpServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    HttpServer::start(listener, handler, config).unwrap()
}

/// Echoes the method, target and body length; `/thread` answers the serving thread's name.
fn echo() -> Arc<Handler> {
    Arc::new(|request: &Request| {
        if request.target == "/panic" {
            panic!("handler panic on purpose");
        }
        if request.target == "/slow" {
            thread::sleep(Duration::from_millis(300));
        }
        if request.target == "/thread" {
            return Response::text(200, thread::current().name().unwrap_or("").to_owned());
        }
        let text = format!(
            "{:?} {} {}",
            request.method,
            request.target,
            request.body.len()
        );
        Response::text(200, text)
    })
}

fn quick() -> HttpConfig {
    HttpConfig {
        read_timeout: Duration::from_millis(500),
        idle_timeout: Duration::from_millis(500),
        max_body_bytes: 1024,
        max_head_bytes: 2048,
        ..HttpConfig::default()
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// One response read off the stream: status, header fields (names lower-cased), body.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn read_reply(reader: &mut impl BufRead) -> Option<Reply> {
    read_reply_to(reader, Method::Get)
}

/// A response to `method`: one to `HEAD` has no body whatever its `Content-Length`.
fn read_reply_to(reader: &mut impl BufRead, method: Method) -> Option<Reply> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let status = line.split(' ').nth(1)?.parse().ok()?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length" && method != Method::Head)
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Reply {
        status,
        headers,
        body,
    })
}

fn exchange(addr: SocketAddr, bytes: &[u8]) -> Reply {
    let mut stream = connect(addr);
    stream.write_all(bytes).unwrap();
    read_reply(&mut BufReader::new(stream)).expect("a response")
}

/// True when the server has closed the connection (EOF, or a reset).
fn closed(reader: &mut impl Read) -> bool {
    let mut rest = Vec::new();
    !matches!(reader.read_to_end(&mut rest), Ok(n) if n > 0)
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = echo_server(quick());
    let stream = connect(server.local_addr());
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    for i in 0..3 {
        writer
            .write_all(format!("GET /n{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        let reply = read_reply(&mut reader).unwrap();
        assert_eq!(reply.text(), format!("Get /n{i} 0"));
        assert_eq!(reply.header("connection"), Some("keep-alive"));
        assert!(reply.header("date").is_some_and(|d| d.ends_with(" GMT")));
    }
    writer
        .write_all(b"GET /last HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let reply = read_reply(&mut reader).unwrap();
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(closed(&mut reader));
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = echo_server(quick());
    let mut stream = connect(server.local_addr());
    stream
        .write_all(
            b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n\r\n\
PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
        )
        .unwrap();
    let mut reader = BufReader::new(stream);
    let texts: Vec<String> = (0..3)
        .map(|_| read_reply(&mut reader).unwrap().text())
        .collect();
    assert_eq!(texts, ["Post /a 3", "Get /b 0", "Put /c 2"]);
}

#[test]
fn http_1_0_closes_after_the_response() {
    let server = echo_server(quick());
    let mut stream = connect(server.local_addr());
    stream.write_all(b"GET /old HTTP/1.0\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    assert_eq!(read_reply(&mut reader).unwrap().status, 200);
    assert!(closed(&mut reader));
}

#[test]
fn oversized_heads_get_431_and_bodies_413() {
    let server = echo_server(quick());
    let addr = server.local_addr();
    let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(4000));
    assert_eq!(exchange(addr, long.as_bytes()).status, 431);
    let many: String = (0..150).map(|i| format!("X-{i}: v\r\n")).collect();
    assert_eq!(
        exchange(addr, format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()).status,
        431
    );
    // The client sends the whole body anyway: the 413 still reaches it.
    let body = "x".repeat(5000);
    let request = format!(
        "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let reply = exchange(addr, request.as_bytes());
    assert_eq!(
        (reply.status, reply.header("connection")),
        (413, Some("close"))
    );
    let chunked = format!(
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n{}\r\n0\r\n\r\n",
        "y".repeat(2048)
    );
    assert_eq!(exchange(addr, chunked.as_bytes()).status, 413);
}

#[test]
fn expect_continue_gets_100_then_the_answer_or_413_at_once() {
    let server = echo_server(quick());
    let mut stream = connect(server.local_addr());
    stream
        .write_all(b"POST /e HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    assert_eq!(read_reply(&mut reader).unwrap().status, 100);
    stream.write_all(b"body").unwrap();
    assert_eq!(read_reply(&mut reader).unwrap().text(), "Post /e 4");
    let reply = exchange(
        server.local_addr(),
        b"POST /e HTTP/1.1\r\nContent-Length: 999999\r\nExpect: 100-continue\r\n\r\n",
    );
    assert_eq!(reply.status, 413);
}

#[test]
fn garbage_gets_400_and_bad_framing_is_refused() {
    let server = echo_server(quick());
    let addr = server.local_addr();
    assert_eq!(
        exchange(addr, b"\x16\x03\x01\x02\x00garbage\r\n\r\n").status,
        400
    );
    let both =
        b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_eq!(exchange(addr, both).status, 400);
    assert_eq!(
        exchange(addr, b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").status,
        501
    );
    assert_eq!(exchange(addr, b"GET / HTTP/2.0\r\n\r\n").status, 505);
}

#[test]
fn a_trickled_head_times_out_with_408() {
    let server = echo_server(quick());
    let mut stream = connect(server.local_addr());
    let started = Instant::now();
    stream.write_all(b"GET / HT").unwrap();
    thread::sleep(Duration::from_millis(200));
    let _ = stream.write_all(b"T");
    let reply = read_reply(&mut BufReader::new(stream)).unwrap();
    assert_eq!(reply.status, 408);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[test]
fn an_idle_connection_is_closed_quietly() {
    let server = echo_server(quick());
    let mut stream = connect(server.local_addr());
    stream.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    assert_eq!(read_reply(&mut reader).unwrap().status, 200);
    let started = Instant::now();
    assert!(closed(&mut reader), "closed without another response");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_handler_panic_is_a_500_and_the_worker_lives_on() {
    let server = echo_server(HttpConfig {
        workers: 1,
        ..quick()
    });
    let reply = exchange(server.local_addr(), b"GET /panic HTTP/1.1\r\n\r\n");
    assert_eq!(reply.status, 500);
    let reply = exchange(server.local_addr(), b"GET /fine HTTP/1.1\r\n\r\n");
    assert_eq!(reply.text(), "Get /fine 0");
}

#[test]
fn a_full_pool_answers_503_instead_of_hanging() {
    let server = echo_server(HttpConfig {
        workers: 1,
        queue: 1,
        idle_timeout: Duration::from_secs(5),
        ..quick()
    });
    let addr = server.local_addr();
    // The only worker is held by a slow request; one more connection fits in the queue.
    let mut busy = connect(addr);
    busy.write_all(b"GET /slow HTTP/1.1\r\n\r\n").unwrap();
    thread::sleep(Duration::from_millis(50));
    let queued = connect(addr);
    thread::sleep(Duration::from_millis(50));
    let reply = exchange(addr, b"GET /x HTTP/1.1\r\n\r\n");
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    // The busy connection is not kept alive while others wait.
    let mut reader = BufReader::new(busy);
    let slow = read_reply(&mut reader).unwrap();
    assert_eq!(slow.header("connection"), Some("close"));
    drop(queued);
}

#[test]
fn an_idle_keep_alive_connection_gives_its_worker_to_a_waiting_one() {
    let server = echo_server(HttpConfig {
        workers: 1,
        idle_timeout: Duration::from_secs(30),
        ..quick()
    });
    let addr = server.local_addr();
    let mut idle = connect(addr);
    idle.write_all(b"GET /first HTTP/1.1\r\n\r\n").unwrap();
    let mut idle_reader = BufReader::new(idle);
    let reply = read_reply(&mut idle_reader).unwrap();
    assert_eq!(reply.header("keep-alive"), Some("timeout=30"));
    let started = Instant::now();
    let reply = exchange(addr, b"GET /second HTTP/1.1\r\n\r\n");
    assert_eq!(reply.text(), "Get /second 0");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(closed(&mut idle_reader), "the idle connection was closed");
}

#[test]
fn shutdown_ends_idle_keep_alive_connections_promptly() {
    let server = echo_server(HttpConfig {
        idle_timeout: Duration::from_secs(30),
        ..quick()
    });
    let mut stream = connect(server.local_addr());
    stream.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    assert_eq!(read_reply(&mut reader).unwrap().status, 200);
    let started = Instant::now();
    server.shutdown();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(closed(&mut reader));
}

#[test]
fn many_clients_at_once_are_all_served() {
    let server = echo_server(HttpConfig {
        workers: 4,
        queue: 64,
        ..quick()
    });
    let addr = server.local_addr();
    let served = Arc::new(AtomicUsize::new(0));
    thread::scope(|s| {
        for client in 0..16 {
            let served = Arc::clone(&served);
            s.spawn(move || {
                for i in 0..10 {
                    let request =
                        format!("GET /{client}/{i} HTTP/1.1\r\nConnection: close\r\n\r\n");
                    let reply = exchange(addr, request.as_bytes());
                    assert_eq!(reply.text(), format!("Get /{client}/{i} 0"));
                    served.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(served.load(Ordering::Relaxed), 160);
    assert!((1..=4).contains(&server.workers()), "{}", server.workers());
}

#[test]
fn the_router_behind_the_server_answers_the_api() {
    let store = Store::start(StoreConfig::default()).unwrap();
    let router = Arc::new(Router::new(RouterConfig::new(store.handle())));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let handler = move |request: &Request| router.handle(request);
    let server = HttpServer::start(listener, Arc::new(handler), quick()).unwrap();
    let addr = server.local_addr();
    let reply = exchange(addr, b"GET //api/v1/messages HTTP/1.1\r\n\r\n");
    assert_eq!(
        (reply.status, reply.header("location")),
        (301, Some("/api/v1/messages"))
    );
    let reply = exchange(addr, b"GET /api/v1/messages HTTP/1.1\r\n\r\n");
    assert_eq!(reply.status, 200);
    assert!(
        reply.text().starts_with("{\"total\":0,"),
        "{}",
        reply.text()
    );
    let mut stream = connect(addr);
    stream
        .write_all(b"HEAD /api/v1/messages HTTP/1.1\r\n\r\nGET /livez HTTP/1.1\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream);
    let head = read_reply_to(&mut reader, Method::Head).unwrap();
    assert_eq!(
        read_reply(&mut reader).unwrap().text(),
        "ok\n",
        "nothing after the HEAD head"
    );
    assert_eq!(
        head.header("content-length").map(str::to_owned),
        Some(reply.body.len().to_string())
    );
    let body = "{\"From\":{\"Email\":\"a@example.com\"},\"To\":[{\"Email\":\"b@example.com\"}],\"Subject\":\"over http\"}";
    let request = format!(
        "POST /api/v1/send HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let reply = exchange(addr, request.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    let stored = store.handle().latest().unwrap().unwrap();
    assert_eq!(stored.envelope().remote_addr.ip().to_string(), "127.0.0.1");
}
