//! Worker threads start on demand: none before the first connection, one for each connection
//! that finds no free worker, never more than `HttpConfig::workers`, all joined at shutdown.

use std::collections::BTreeSet;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use smtp_http::{Handler, HttpConfig, Request, Response};

use crate::{closed, connect, echo, exchange, quick, read_reply, serve};

/// Slow to idle out, so kept-alive connections hold their workers for the whole test.
fn holding(workers: usize) -> HttpConfig {
    HttpConfig {
        workers,
        idle_timeout: Duration::from_secs(30),
        ..quick()
    }
}

/// Opens a connection, asks which thread serves it, and keeps it alive (holding that worker).
fn hold(addr: SocketAddr) -> (String, BufReader<TcpStream>) {
    let mut stream = connect(addr);
    stream.write_all(b"GET /thread HTTP/1.1\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let reply = read_reply(&mut reader).unwrap();
    assert_eq!(reply.header("connection"), Some("keep-alive"));
    (reply.text(), reader)
}

#[test]
fn no_worker_starts_before_the_first_connection_and_one_request_starts_one() {
    let server = serve(echo(), quick());
    assert_eq!(server.workers(), 0);
    let reply = exchange(
        server.local_addr(),
        b"GET /thread HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(reply.text(), "mailsink-http-0");
    assert_eq!(server.workers(), 1);
    assert!(format!("{server:?}").contains("workers: 1, max_workers: 8"));
}

#[test]
fn each_kept_alive_connection_starts_a_worker_up_to_the_cap() {
    let server = serve(echo(), holding(3));
    let addr = server.local_addr();
    let mut held = Vec::new();
    for n in 1..=3 {
        held.push(hold(addr));
        assert_eq!(server.workers(), n);
    }
    let names: BTreeSet<String> = held.iter().map(|(name, _)| name.clone()).collect();
    let expected = ["mailsink-http-0", "mailsink-http-1", "mailsink-http-2"];
    assert_eq!(names, expected.map(String::from).into());
    // At the cap, new connections wait in the queue and a kept-alive one gives its worker up.
    for _ in 0..3 {
        let reply = exchange(addr, b"GET /thread HTTP/1.1\r\n\r\n");
        assert!(names.contains(&reply.text()), "{}", reply.text());
    }
    assert_eq!(server.workers(), 3);
}

#[test]
fn a_burst_is_served_while_fresh_workers_start() {
    // A queue of one: the burst fits only because the acceptor waits for starting workers.
    let server = serve(
        echo(),
        HttpConfig {
            workers: 4,
            queue: 1,
            ..quick()
        },
    );
    let addr = server.local_addr();
    let statuses: Vec<u16> = thread::scope(|s| {
        let clients: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(move || {
                    exchange(addr, b"GET /slow HTTP/1.1\r\nConnection: close\r\n\r\n").status
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert_eq!(statuses, [200; 4]);
    assert!((1..=4).contains(&server.workers()), "{}", server.workers());
}

#[test]
fn shutdown_joins_every_spawned_worker() {
    let (entered, handler_entered) = mpsc::sync_channel(1);
    let handler: Arc<Handler> = Arc::new(move |request: &Request| {
        if request.target == "/wait" {
            let _ = entered.send(());
            thread::sleep(Duration::from_millis(300));
        }
        Response::text(200, "done")
    });
    let server = serve(Arc::clone(&handler), holding(4));
    let addr = server.local_addr();
    let (_, mut idle) = hold(addr);
    let mut busy = connect(addr);
    busy.write_all(b"GET /wait HTTP/1.1\r\n\r\n").unwrap();
    handler_entered.recv().unwrap();
    assert_eq!(server.workers(), 2);
    server.shutdown();
    // Each thread held a clone of the handler: a worker still running (here, still inside
    // `/wait`) would hold one now.
    assert_eq!(Arc::strong_count(&handler), 1);
    let reply = read_reply(&mut BufReader::new(busy)).unwrap();
    assert_eq!(
        (reply.status, reply.header("connection")),
        (200, Some("close"))
    );
    assert!(closed(&mut idle));
}
