//! A real SMTP server for the tests: speaks enough RFC 5321 for lettre, records
//! every message it accepts, and answers chosen recipients with chosen replies.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One accepted message: its envelope and its data as sent (dot-unstuffed).
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> ParsedEmail {
        ParsedEmail::parse(&self.data)
    }
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    rcpt_replies: Mutex<HashMap<String, String>>,
}

/// The sink; stops listening when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&shared)));
            }
        });
        SmtpSink { addr, state, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answers `RCPT TO:<address>` with `reply` (e.g. `550 5.1.1 user unknown`).
    pub fn reply_to_rcpt(&self, address: &str, reply: &str) {
        self.state
            .rcpt_replies
            .lock()
            .unwrap()
            .insert(address.to_ascii_lowercase(), reply.to_owned());
    }

    /// Everything accepted so far. A message is recorded before the final
    /// `250`, so once a send returns its message is here.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Messages whose envelope includes `address`.
    pub fn received_by(&self, address: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(address)))
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port that accepts connections and never says a word; stops when dropped.
pub struct SilentServer {
    pub port: u16,
    task: JoinHandle<()>,
}

impl SilentServer {
    pub async fn start() -> SilentServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        SilentServer { port, task }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port nothing listens on.
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

async fn serve(stream: TcpStream, state: Arc<State>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    let reply = |text: String| {
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(b"\r\n");
        bytes
    };
    if write
        .write_all(&reply("220 sink ESMTP".into()))
        .await
        .is_err()
    {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8".to_owned(),
            "HELO" | "NOOP" => "250 2.0.0 ok".to_owned(),
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                "250 2.0.0 ok".to_owned()
            }
            "MAIL" => {
                mail_from = Some(angle_address(&command));
                rcpt_to.clear();
                "250 2.1.0 ok".to_owned()
            }
            "RCPT" if mail_from.is_none() => "503 5.5.1 MAIL first".to_owned(),
            "RCPT" => {
                let to = angle_address(&command);
                let configured = state
                    .rcpt_replies
                    .lock()
                    .unwrap()
                    .get(&to.to_ascii_lowercase())
                    .cloned();
                configured.unwrap_or_else(|| {
                    rcpt_to.push(to);
                    "250 2.1.5 ok".to_owned()
                })
            }
            "DATA" if rcpt_to.is_empty() => "503 5.5.1 RCPT first".to_owned(),
            "DATA" => {
                if write
                    .write_all(&reply("354 end with .".into()))
                    .await
                    .is_err()
                {
                    return;
                }
                let Some(data) = read_data(&mut lines).await else {
                    return;
                };
                let mut received = state.received.lock().unwrap();
                received.push(Received {
                    mail_from: mail_from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut rcpt_to),
                    data,
                });
                format!("250 2.0.0 queued as {}", received.len())
            }
            "QUIT" => {
                let _ = write.write_all(&reply("221 2.0.0 bye".into())).await;
                return;
            }
            _ => "502 5.5.2 command not recognized".to_owned(),
        };
        if write.write_all(&reply(answer)).await.is_err() {
            return;
        }
    }
}

/// Reads DATA up to the lone `.` line, undoing dot-stuffing.
async fn read_data(lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await.ok()? == 0 {
            return None;
        }
        if line == b".\r\n" {
            return Some(data);
        }
        let unstuffed = if line.starts_with(b".") {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(unstuffed);
    }
}

fn angle_address(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..]
        .find('>')
        .map_or(command.len(), |i| start + i);
    command[start..end].to_owned()
}

/// Headers (unfolded, RFC 2047 decoded) and the decoded text body of a message.
#[derive(Debug)]
pub struct ParsedEmail {
    pub headers: Vec<(String, String)>,
    /// Decoded body with `\n` line ends.
    pub body: String,
}

impl ParsedEmail {
    pub fn parse(raw: &[u8]) -> ParsedEmail {
        let text = String::from_utf8(raw.to_vec()).expect("messages are UTF-8");
        let (head, body) = text
            .split_once("\r\n\r\n")
            .expect("a blank line after the headers");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                headers.last_mut().expect("a header to continue").1 += line;
            } else {
                let (name, value) = line.split_once(':').expect("name: value");
                headers.push((name.to_owned(), value.trim_start().to_owned()));
            }
        }
        for (_, value) in &mut headers {
            *value = decode_words(value);
        }
        let parsed = ParsedEmail {
            headers,
            body: String::new(),
        };
        let encoding = parsed
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        let body = match encoding.as_str() {
            "quoted-printable" => String::from_utf8(quoted_printable(body)).unwrap(),
            "base64" => String::from_utf8(base64_decode(body)).unwrap(),
            _ => body.to_owned(),
        };
        ParsedEmail {
            body: body.replace("\r\n", "\n"),
            ..parsed
        }
    }

    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// How many headers are called `name`.
    pub fn count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }
}

fn quoted_printable(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Vec<u8> {
    let compact: String = text.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .unwrap()
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); the
/// whitespace between two encoded words is dropped.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let between = &rest[..start];
        let Some((bytes, len)) = encoded_word(&rest[start..]) else {
            out += &rest[..start + 2];
            rest = &rest[start + 2..];
            after_word = false;
            continue;
        };
        if !(after_word && between.trim().is_empty()) {
            out += between;
        }
        out += &String::from_utf8(bytes).unwrap();
        rest = &rest[start + len..];
        after_word = true;
    }
    out + rest
}

/// The decoded bytes of the encoded word `s` starts with, and its length.
fn encoded_word(s: &str) -> Option<(Vec<u8>, usize)> {
    let after_open = s.strip_prefix("=?")?;
    let (charset, after_charset) = after_open.split_once('?')?;
    let (encoding, after_encoding) = after_charset.split_once('?')?;
    let (text, _) = after_encoding.split_once("?=")?;
    let bytes = match encoding {
        "b" | "B" => base64_decode(text),
        "q" | "Q" => quoted_printable(&text.replace('_', " ")),
        _ => return None,
    };
    let len = 2 + charset.len() + 1 + encoding.len() + 1 + text.len() + 2;
    Some((bytes, len))
}
