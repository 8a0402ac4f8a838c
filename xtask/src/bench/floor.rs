//! The shape's floor: the least work an SMTP server of mailsink's shape can do per message.
//!
//! The brief fixes mailsink's shape: blocking `std::net` sockets, an acceptor thread handing
//! each connection over a bounded crossbeam channel to a pool of threads started on demand, a
//! thread per connection. This server has that shape and nothing else: every command line gets a
//! canned reply chosen by its first four letters, message data is skipped up to the `.` line,
//! nothing is parsed, checked, logged or kept. It is not a mail server; it is the measurement of
//! what the shape itself costs on this machine (context switches, wake-ups, system calls), which
//! no protocol or storage work can get under. The bench runs it beside mailsink in the plain
//! 1 KiB cells as `xtask bench-floor ADDR` ([`super::servers`]); it is not counted as a peer.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

/// Connections waiting for a thread, as mailsink's default queue.
const QUEUE: usize = 64;
/// Threads at most, as mailsink's default `--smtp-max-connections`.
const MAX_THREADS: usize = 256;
/// Read buffer; a longer line than this is dropped (the bench's lines are short).
const BUFFER: usize = 16 * 1024;

/// `xtask bench-floor ADDR`: serves on ADDR until killed.
pub(crate) fn main(args: &[String]) -> Result<(), String> {
    let [addr] = args else {
        return Err("usage: xtask bench-floor ADDR".to_owned());
    };
    let listener = TcpListener::bind(addr).map_err(|err| format!("bind {addr}: {err}"))?;
    serve_forever(&listener)
}

/// Accepts and hands over connections until the listener fails for good.
pub(crate) fn serve_forever(listener: &TcpListener) -> Result<(), String> {
    let (jobs, queue) = crossbeam_channel::bounded::<TcpStream>(QUEUE);
    let idle = Arc::new(AtomicUsize::new(0));
    let mut threads = 0;
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if idle.load(Ordering::Acquire) == 0 && threads < MAX_THREADS {
            let (queue, idle) = (queue.clone(), Arc::clone(&idle));
            thread::Builder::new()
                .name("floor-worker".to_owned())
                .spawn(move || work(&queue, &idle))
                .map_err(|err| format!("spawn a worker: {err}"))?;
            threads += 1;
        }
        jobs.send(stream)
            .map_err(|_| "every worker is gone".to_owned())?;
    }
    Ok(())
}

fn work(queue: &crossbeam_channel::Receiver<TcpStream>, idle: &AtomicUsize) {
    loop {
        idle.fetch_add(1, Ordering::AcqRel);
        let Ok(stream) = queue.recv() else { return };
        idle.fetch_sub(1, Ordering::AcqRel);
        let _ = serve(stream);
    }
}

/// One session: a canned reply to each line, all the replies to one read sent in one write.
fn serve(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.write_all(b"220 floor ESMTP\r\n")?;
    let mut buf = vec![0u8; BUFFER];
    let mut held = 0;
    let mut in_data = false;
    let mut out = Vec::with_capacity(256);
    loop {
        let n = stream.read(&mut buf[held..])?;
        if n == 0 {
            return Ok(());
        }
        held += n;
        let mut start = 0;
        let mut quit = false;
        while let Some(end) = buf[start..held].iter().position(|&b| b == b'\n') {
            let line = &buf[start..=start + end];
            start += end + 1;
            if in_data {
                if line == b".\r\n" {
                    in_data = false;
                    out.extend_from_slice(b"250 2.0.0 queued\r\n");
                }
                continue;
            }
            match line.get(..4).map(<[u8]>::to_ascii_uppercase).as_deref() {
                Some(b"EHLO") => out.extend_from_slice(b"250-floor\r\n250 PIPELINING\r\n"),
                Some(b"DATA") => {
                    in_data = true;
                    out.extend_from_slice(b"354 go ahead\r\n");
                }
                Some(b"QUIT") => {
                    out.extend_from_slice(b"221 2.0.0 bye\r\n");
                    quit = true;
                    break;
                }
                _ => out.extend_from_slice(b"250 2.0.0 ok\r\n"),
            }
        }
        buf.copy_within(start..held, 0);
        held -= start;
        if held == buf.len() {
            held = 0;
        }
        if !out.is_empty() {
            stream.write_all(&out)?;
            out.clear();
        }
        if quit {
            return Ok(());
        }
    }
}
