//! A small SMTP server for tests: takes mail over plain SMTP (RFC 5321's commands, no TLS, no auth),
//! records what arrives, and refuses chosen recipients with a 550 ("no such user") or, once, a 451.

#![allow(dead_code)]

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

/// A message with folded header lines joined and quoted-printable soft breaks and `=3D` undone, so
/// tests can look for whole headers and links.
pub fn readable(data: &str) -> String {
    data.replace("=\r\n", "")
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ")
        .replace("=3D", "=")
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body), dot-stuffing undone.
    pub data: String,
}

#[derive(Debug, Default)]
struct State {
    received: Vec<Received>,
    /// Answered 550 at RCPT.
    unknown: HashSet<String>,
    /// Answered 451 at RCPT once each.
    busy_once: HashSet<String>,
}

#[derive(Debug, Clone)]
pub struct FakeSmtp {
    /// `smtp://127.0.0.1:<port>`.
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeSmtp {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("smtp://{}", listener.local_addr().expect("addr"));
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, shared.clone()));
            }
        });
        Self { url, state }
    }

    /// Refuses `address` from now on with 550.
    pub fn unknown_user(&self, address: &str) {
        self.lock().unknown.insert(address.to_owned());
    }

    /// Answers the next delivery to `address` with 451.
    pub fn busy_once(&self, address: &str) {
        self.lock().busy_once.insert(address.to_owned());
    }

    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The messages to `address`, each as its readable text (see [`readable`]).
    pub fn to(&self, address: &str) -> Vec<String> {
        self.received()
            .into_iter()
            .filter(|r| r.to.iter().any(|t| t == address))
            .map(|r| readable(&r.data))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The address inside `<…>` of a MAIL FROM / RCPT TO argument.
fn path_of(argument: &str) -> String {
    let start = argument.find('<').map_or(0, |i| i + 1);
    let end = argument.rfind('>').unwrap_or(argument.len());
    argument[start..end].to_owned()
}

async fn session(socket: tokio::net::TcpStream, state: Arc<Mutex<State>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    let mut reply = async |text: &str| write.write_all(text.as_bytes()).await.is_ok();
    if !reply("220 fake-smtp ESMTP ready\r\n").await {
        return;
    }
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-fake-smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".to_owned(),
            "HELO" => "250 fake-smtp\r\n".to_owned(),
            "MAIL" => {
                from = path_of(&command);
                to.clear();
                "250 2.1.0 ok\r\n".to_owned()
            }
            "RCPT" => {
                let address = path_of(&command);
                let mut state = state
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if state.unknown.contains(&address) {
                    "550 5.1.1 no such user here\r\n".to_owned()
                } else if state.busy_once.remove(&address) {
                    "451 4.3.0 try again later\r\n".to_owned()
                } else {
                    to.push(address);
                    "250 2.1.5 ok\r\n".to_owned()
                }
            }
            "DATA" => {
                if !reply("354 end with <CRLF>.<CRLF>\r\n").await {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    match lines.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(unstuffed);
                }
                state
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .received
                    .push(Received {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                    });
                "250 2.0.0 queued\r\n".to_owned()
            }
            "QUIT" => {
                reply("221 2.0.0 bye\r\n").await;
                return;
            }
            // RSET, NOOP and the rest.
            _ => "250 2.0.0 ok\r\n".to_owned(),
        };
        if !reply(&answer).await {
            return;
        }
    }
}
