//! A browser of one person for the web tests: forms posted by hand, no redirects followed, the session
//! cookie kept.

use reqwest::{StatusCode, header};

use super::TestApp;

/// The path of a link to this server, whatever address it names.
pub fn path_of(link: &str) -> &str {
    let rest = link
        .strip_prefix("http://")
        .or_else(|| link.strip_prefix("https://"))
        .unwrap_or(link);
    rest.find('/').map_or(rest, |i| &rest[i..])
}

/// A browser of one person: no redirects followed, the session cookie kept by hand.
pub struct Browser<'a> {
    app: &'a TestApp,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.base_url)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let mut request = self.http.get(self.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = self
            .http
            .post(self.url(path))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        (status, location.unwrap_or(response.text().await.unwrap()))
    }

    /// Opens a sign-in link (its path on this server) and presses the button.
    pub async fn sign_in(&mut self, link: &str) -> reqwest::Response {
        let path = path_of(link);
        let (status, page) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Sign in"), "{page}");
        let response = self.http.post(self.url(path)).send().await.unwrap();
        if let Some(cookie) = response.headers().get(header::SET_COOKIE) {
            let cookie = cookie.to_str().unwrap();
            self.cookie = Some(cookie.split(';').next().unwrap().to_owned());
        }
        response
    }

    /// The CSRF token on a page.
    pub async fn csrf(&self, path: &str) -> String {
        let (_, page) = self.get(path).await;
        let start = page.find("name=\"csrf\" value=\"").expect("a form") + 19;
        page[start..].chars().take_while(|c| *c != '"').collect()
    }
}

pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One message as a web chat shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub id: i64,
    /// `None` for Herald.
    pub author: Option<String>,
    /// The text, tags removed and entities decoded.
    pub text: String,
    /// Its buttons: (label, data).
    pub buttons: Vec<(String, String)>,
}

/// Text of HTML: tags dropped, the entities Herald writes decoded.
pub fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn between<'t>(text: &'t str, start: &str, end: &str) -> Option<&'t str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

impl Browser<'_> {
    /// Opens a web chat link (owner link or invitation) and gives `name`: the session cookie is kept.
    pub async fn open_chat(&mut self, link: &str, name: &str) -> StatusCode {
        let path = path_of(link).to_owned();
        let (status, page) = self.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Open the chat"), "{page}");
        let response = self
            .http
            .post(self.url(&path))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("name={}", urlencode(name)))
            .send()
            .await
            .unwrap();
        if let Some(cookie) = response.headers().get(header::SET_COOKIE) {
            let cookie = cookie.to_str().unwrap();
            self.cookie = Some(cookie.split(';').next().unwrap().to_owned());
        }
        response.status()
    }

    /// The id of the chat `/chat` opens on: the person's own chat with Herald.
    pub async fn my_chat(&self) -> String {
        let (status, page) = self.get("/chat").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        between(&page, "data-chat=\"", "\"").unwrap().to_owned()
    }

    /// What chat `chat` shows, oldest first.
    pub async fn messages(&self, chat: &str) -> Vec<Shown> {
        let (status, page) = self
            .get(&format!("/chat/messages?c={}", urlencode(chat)))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page.split("<article class=\"msg ")
            .skip(1)
            .map(|article| {
                let id = between(article, "id=\"m", "\"").unwrap().parse().unwrap();
                let author = between(article, "<header><b>", "</b>").unwrap();
                let body = between(article, "<div class=\"body\">", "</div>\n").unwrap();
                let buttons = article
                    .split("name=\"data\" value=\"")
                    .skip(1)
                    .map(|b| {
                        let data = text_of(b.split('"').next().unwrap());
                        let label =
                            text_of(between(b, "class=\"secondary\">", "</button>").unwrap());
                        (label, data)
                    })
                    .collect();
                Shown {
                    id,
                    author: (!article.starts_with("herald")).then(|| author.to_owned()),
                    text: text_of(body),
                    buttons,
                }
            })
            .collect()
    }

    /// Writes `text` in `chat` as the page's form does.
    pub async fn write(&self, chat: &str, text: &str) {
        let csrf = self.csrf(&format!("/chat?c={}", urlencode(chat))).await;
        let (status, location) = self
            .post("/chat/say", &[("csrf", &csrf), ("c", chat), ("text", text)])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    }

    /// Presses the button with `data` under message `message` of `chat`.
    pub async fn press(&self, chat: &str, message: i64, data: &str) {
        let csrf = self.csrf(&format!("/chat?c={}", urlencode(chat))).await;
        let id = message.to_string();
        let (status, location) = self
            .post(
                "/chat/press",
                &[
                    ("csrf", &csrf),
                    ("c", chat),
                    ("message", &id),
                    ("data", data),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    }

    /// Writes `text` in `chat`, lets Herald handle it and send its answers, and returns Herald's new
    /// messages there as text.
    pub async fn say(&self, chat: &str, text: &str) -> Vec<String> {
        // What was on its way already is not an answer to this.
        self.app.until("a round", |_| true).await;
        let before = self.messages(chat).await.len();
        self.write(chat, text).await;
        self.app.until("a round", |_| true).await;
        self.messages(chat).await[before..]
            .iter()
            .filter(|m| m.author.is_none())
            .map(|m| m.text.clone())
            .collect()
    }
}
