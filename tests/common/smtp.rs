//! A tiny SMTP server on loopback for the e-mail tests: EHLO/HELO, MAIL, RCPT, DATA, RSET,
//! NOOP, QUIT, recording each message; while "down" it answers 421 to every connection (a
//! server refusing service, which a sender must retry later).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One message received.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA as sent (CRLF line ends, dot-stuffing removed).
    pub data: String,
}

impl Mail {
    /// A header's value (unfolded; RFC 2047 encoded words decoded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| decode_words(v.trim()))
        })
    }

    /// The decoded body of the part with this content type (`text/plain`, `text/html`).
    pub fn part(&self, content_type: &str) -> Option<String> {
        for chunk in self.data.split("\r\n--") {
            let Some((head, body)) = chunk.split_once("\r\n\r\n") else {
                continue;
            };
            let head_l = head.to_ascii_lowercase();
            if !head_l.contains(&format!("content-type: {content_type}")) {
                continue;
            }
            let body = body.trim_end_matches("\r\n");
            return Some(if head_l.contains("content-transfer-encoding: base64") {
                let joined: String = body.split("\r\n").collect();
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(joined.trim())
                        .unwrap(),
                )
                .unwrap()
            } else if head_l.contains("content-transfer-encoding: quoted-printable") {
                quoted_printable(body)
            } else {
                body.to_owned()
            });
        }
        None
    }
}

/// `=?utf-8?b?…?=` and `=?utf-8?q?…?=` words (what lettre writes for non-ASCII headers).
fn decode_words(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(start) = rest.find("=?") {
        let Some(end) = rest[start + 2..].find("?=").map(|e| e + start + 2) else {
            break;
        };
        let before = &rest[..start];
        if !before.trim().is_empty() || out.is_empty() {
            out.push_str(before);
        }
        let word = &rest[start + 2..end];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        if parts.len() == 3 {
            let bytes = match parts[1] {
                "b" | "B" => base64::engine::general_purpose::STANDARD
                    .decode(parts[2])
                    .unwrap(),
                _ => quoted_printable(&parts[2].replace('_', " ")).into_bytes(),
            };
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn quoted_printable(s: &str) -> String {
    let joined = s.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            if let Some(b) = joined
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The running sink.
pub struct SmtpSink {
    pub port: u16,
    pub mails: Arc<Mutex<Vec<Mail>>>,
    down: Arc<AtomicBool>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let down = Arc::new(AtomicBool::new(false));
        let (log, refusing) = (mails.clone(), down.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (log, refusing) = (log.clone(), refusing.clone());
                tokio::spawn(async move {
                    let _ = session(socket, log, refusing).await;
                });
            }
        });
        SmtpSink { port, mails, down }
    }

    /// While down, every connection is answered `421` and closed.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// The messages to `address`.
    pub fn to(&self, address: &str) -> Vec<Mail> {
        self.received()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// Waits (up to 20 s) until `n` messages have arrived in all; the messages.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        for _ in 0..200 {
            if self.received().len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let got = self.received();
        assert!(
            got.len() >= n,
            "expected {n} messages, got {}: {got:?}",
            got.len()
        );
        got
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    log: Arc<Mutex<Vec<Mail>>>,
    down: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    if down.load(Ordering::SeqCst) {
        write
            .write_all(b"421 4.3.2 Service not available, closing\r\n")
            .await?;
        return Ok(());
    }
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.trim_end().to_ascii_uppercase();
        let arg = |prefix: &str| {
            line.trim_end()[prefix.len()..]
                .trim()
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or("")
                .to_owned()
        };
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = arg("MAIL FROM:");
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(arg("RCPT TO:"));
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            log.lock().unwrap().push(Mail {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            b"250 OK queued\r\n"
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 Command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}
