//! A test double of an SMTP server: a real listener on a loopback port, started inside
//! the test process, that the app's outbox worker talks to over TCP. It speaks enough
//! of RFC 5321 for a client (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every
//! message it accepts, and has a switch for each failure a mail server shows: refusing
//! connections, temporary (4xx) and permanent (5xx) refusals.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use rocket::tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use rocket::tokio::net::{TcpListener, TcpStream};
use rocket::tokio::sync::watch;

/// How the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Accepts everything.
    Accept,
    /// Answers `451` (try again later) to every message.
    Temporary,
    /// Answers `550` (never) to every message.
    Permanent,
    /// Not listening: connections are refused.
    Refuse,
}

/// A message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and encoded body).
    pub data: String,
}

impl Received {
    /// The decoded text of every part (quoted-printable and base64 undone).
    pub fn text(&self) -> String {
        decode_parts(&self.data)
    }

    /// The value of a header (the first one).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The first link in the message carrying a token.
    pub fn link(&self) -> String {
        let text = self.text();
        let start = text
            .match_indices("http")
            .map(|(i, _)| i)
            .find(|&i| text[i..].split_whitespace().next().is_some_and(|w| w.contains("token=")))
            .unwrap_or_else(|| panic!("no link in: {text}"));
        text[start..].split(|c: char| c.is_whitespace() || c == '"' || c == '<').next().unwrap().to_string()
    }

    /// The 6-digit code in the message.
    pub fn code(&self) -> String {
        let text = self.text();
        let at =
            text.find("code on the sign-in page: ").expect("a code") + "code on the sign-in page: ".len();
        text[at..at + 6].to_string()
    }
}

fn decode_qp(s: &str) -> String {
    let mut out = Vec::new();
    let bytes = s.replace("=\r\n", "").into_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
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

/// Every MIME part's body, decoded, one after another (enough for our messages).
fn decode_parts(data: &str) -> String {
    let mut out = String::new();
    for part in data.split("\r\n--") {
        let Some((head, body)) = part.split_once("\r\n\r\n") else { continue };
        let head = head.to_ascii_lowercase();
        let body = body.split("\r\n--").next().unwrap_or(body);
        if head.contains("content-transfer-encoding: quoted-printable") {
            out.push_str(&decode_qp(body));
        } else if head.contains("content-transfer-encoding: base64") {
            let raw: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD.decode(raw).unwrap_or_default();
            out.push_str(&String::from_utf8_lossy(&bytes));
        } else if head.contains("content-type: text/") {
            out.push_str(body);
        }
        out.push('\n');
    }
    out
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// Connections the server accepted.
    connections: usize,
}

pub struct SmtpDouble {
    pub port: u16,
    state: Arc<Mutex<State>>,
    mode: watch::Sender<Mode>,
}

impl SmtpDouble {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let (mode, modes) = watch::channel(Mode::Accept);
        rocket::tokio::spawn(serve(Some(listener), port, state.clone(), modes));
        SmtpDouble { port, state, mode }
    }

    /// `EMAIL_SERVER` for the app: plain SMTP on the loopback port (STARTTLS is not
    /// offered, so the app's opportunistic TLS stays plain).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// Who got what, for a failing test's message.
    pub fn summary(&self) -> String {
        let lines: Vec<String> = self
            .received()
            .iter()
            .map(|m| format!("{:?}: {}", m.to, m.header("Subject").unwrap_or_default()))
            .collect();
        format!("{} messages [{}]", lines.len(), lines.join("; "))
    }

    /// The messages sent to `to`.
    pub fn to(&self, to: &str) -> Vec<Received> {
        self.received().into_iter().filter(|m| m.to.iter().any(|t| t == to)).collect()
    }

    /// Waits (up to 10 s) until a message to `to` whose subject contains `subject` has
    /// arrived; returns the latest such.
    pub async fn wait_for_subject(&self, to: &str, subject: &str) -> Received {
        for _ in 0..200 {
            let found = self
                .to(to)
                .into_iter()
                .rev()
                .find(|m| m.header("Subject").is_some_and(|s| s.contains(subject)));
            if let Some(m) = found {
                return m;
            }
            rocket::tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no message about {subject:?} to {to}; got {}", self.summary());
    }

    /// Waits (up to 10 s) until `n` messages have reached `to`; returns the last one.
    pub async fn wait_for(&self, to: &str, n: usize) -> Received {
        for _ in 0..200 {
            let got = self.to(to);
            if got.len() >= n {
                return got[n - 1].clone();
            }
            rocket::tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{n} messages to {to} never arrived; got {}", self.summary());
    }
}

async fn serve(
    mut listener: Option<TcpListener>,
    port: u16,
    state: Arc<Mutex<State>>,
    mut modes: watch::Receiver<Mode>,
) {
    loop {
        let mode = *modes.borrow_and_update();
        match (mode, listener.as_ref()) {
            // Refusing: close the port, so connections are refused, until told otherwise.
            (Mode::Refuse, Some(_)) => {
                listener = None;
                continue;
            }
            (Mode::Refuse, None) => {
                if modes.changed().await.is_err() {
                    return;
                }
                continue;
            }
            (_, None) => {
                let mut bound = None;
                for _ in 0..100 {
                    if let Ok(l) = TcpListener::bind(("127.0.0.1", port)).await {
                        bound = Some(l);
                        break;
                    }
                    rocket::tokio::time::sleep(Duration::from_millis(20)).await;
                }
                listener = Some(bound.expect("the SMTP double takes its port back"));
                continue;
            }
            (_, Some(l)) => {
                rocket::tokio::select! {
                    accepted = l.accept() => {
                        if let Ok((stream, _)) = accepted {
                            state.lock().unwrap().connections += 1;
                            let (state, modes) = (state.clone(), modes.clone());
                            rocket::tokio::spawn(async move { let _ = session(stream, state, modes).await; });
                        }
                    }
                    changed = modes.changed() => if changed.is_err() { return },
                }
            }
        }
    }
}

async fn session(
    stream: TcpStream,
    state: Arc<Mutex<State>>,
    modes: watch::Receiver<Mode>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 smtp.test ESMTP test double\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let mode = *modes.borrow();
        // A server that went down drops the connections it had, kept-open ones too.
        if mode == Mode::Refuse {
            return Ok(());
        }
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-smtp.test\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = command[10..].trim().trim_matches(['<', '>']).to_string();
            to.clear();
            match mode {
                Mode::Temporary => b"451 4.3.0 try again later\r\n",
                Mode::Permanent => b"550 5.7.1 not accepted\r\n",
                _ => b"250 OK\r\n",
            }
        } else if upper.starts_with("RCPT TO:") {
            to.push(command[8..].trim().trim_matches(['<', '>']).to_string());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 end with .\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line);
                data.push_str(unstuffed);
            }
            state.lock().unwrap().received.push(Received { from: from.clone(), to: to.clone(), data });
            b"250 OK queued\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 OK\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}
