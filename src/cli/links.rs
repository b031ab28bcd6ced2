//! Links from the command line: the owner link, sign-in links to the pages, and registration links for
//! many people at once (`herald invite`). With Telegram they open the bot; without, the web chat.

use std::{
    io::{Read, Write},
    path::PathBuf,
};

use anyhow::{Context, bail};
use herald_bots::telegram::TelegramClient;
use herald_commands::Role;

use super::{open, telegram_client, web_base};
use crate::{
    chat::{BotInfo, telegram::USERNAME_KEY},
    clock::SharedClock,
    config::Config,
    db::{Db, conferences, email as email_store, outbox, system},
    delivery::email,
    links::{self, NewLinkTokenSpec},
};

/// `herald owner-link`.
pub async fn owner_link(config: &Config) -> anyhow::Result<()> {
    let (db, clock) = open(config).await?;
    let client = telegram_client(config)?;
    let bot = links_to(&db, &clock, client.as_ref(), web_base(config)?).await?;
    match crate::links::owner_token_if_needed(&db, clock.now()).await? {
        Some(token) => println!("{}", bot.start_link(&token)),
        None => {
            anyhow::bail!("this Herald already has an owner; the owner can grant roles in chat")
        }
    }
    Ok(())
}

/// `herald web-link`.
pub async fn web_link(config: &Config, user: Option<String>, mobile: bool) -> anyhow::Result<()> {
    let (db, clock) = open(config).await?;
    let base = web_base(config)?;
    let next = if mobile {
        crate::links::MOBILE_PATH
    } else {
        crate::links::CONFIG_PATH
    };
    let mut tx = db.begin().await?;
    let person = match &user {
        Some(who) => crate::db::web::find_person(&mut tx, who)
            .await?
            .with_context(|| {
                format!("nobody with Telegram user id or username {who} has talked to the bot")
            })?,
        None => crate::db::web::owner(&mut tx)
            .await?
            .context("this Herald has no owner yet: run `herald owner-link` first")?,
    };
    let link = crate::links::issue_login(&mut tx, clock.now(), &base, person, next).await?;
    tx.commit().await?;
    println!("{link}");
    Ok(())
}

/// `herald invite`.
pub async fn invite_command(
    config: &Config,
    conference: &str,
    role: &str,
    count: Option<usize>,
    csv: Option<PathBuf>,
    send: bool,
) -> anyhow::Result<()> {
    let invitees = match (csv, count) {
        (Some(path), None) if path.as_os_str() == "-" => read_invitees(std::io::stdin().lock())?,
        (Some(path), None) => read_invitees(
            std::fs::File::open(&path)
                .with_context(|| format!("Failed to open {}", path.display()))?,
        )?,
        (None, Some(n)) => vec![Invitee::default(); n],
        (None, None) => vec![Invitee::default()],
        (Some(_), Some(_)) => anyhow::bail!("give either --csv or --count, not both"),
    };
    let (db, clock) = open(config).await?;
    let client = telegram_client(config)?;
    let bot = links_to(&db, &clock, client.as_ref(), web_base(config)?).await?;
    if send {
        let templates = crate::templates::Templates::new();
        let mut progress = std::io::stderr().lock();
        let mailing = Mailing {
            db: &db,
            clock: &clock,
            bot: &bot,
            templates: &templates,
        };
        let report = mailing
            .send(conference, role, &invitees, &mut progress)
            .await?;
        drop(progress);
        let mailer = match &config.email.smtp_url {
            Some(url) => format!("the SMTP server {}", url.redacted()),
            None => format!("the folder {}", config.email.folder.display()),
        };
        eprintln!(
            "{} invitation(s) queued for {mailer}; {} already invited; {} without an address; {} refused",
            report.queued.len(),
            report.already,
            report.without_address.len(),
            report.refused
        );
        if !report.without_address.is_empty() {
            let mut out = std::io::stdout().lock();
            let n = invite(
                &db,
                &clock,
                &bot,
                conference,
                role,
                &report.without_address,
                &mut out,
            )
            .await?;
            eprintln!("{n} link(s) printed for the people without an address");
        }
        follow(&db, &report.queued).await?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let n = invite(&db, &clock, &bot, conference, role, &invitees, &mut out).await?;
    eprintln!("{n} link(s) for {role}s of {conference}; each works once, for 60 days");
    Ok(())
}

/// What mailing a list of invitations did.
#[derive(Debug, Default)]
pub struct MailingReport {
    /// The outbox rows of the mails queued now.
    pub queued: Vec<i64>,
    /// Addresses invited to this role before (not mailed again).
    pub already: usize,
    /// Addresses that are not addresses (reported by row, not mailed).
    pub refused: usize,
    /// People without an address: their links are printed instead.
    pub without_address: Vec<Invitee>,
}

/// Mailing registration links: each person's link in a mail of their own.
#[derive(Debug, Clone, Copy)]
pub struct Mailing<'a> {
    pub db: &'a Db,
    pub clock: &'a SharedClock,
    pub bot: &'a BotInfo,
    pub templates: &'a crate::templates::Templates,
}

impl Mailing<'_> {
    /// Queues one invitation mail per invitee with an address, each in its own transaction (a failure
    /// part way keeps what was queued, and a rerun goes on from there), writing progress to `progress`.
    pub async fn send(
        &self,
        conference: &str,
        role: &str,
        invitees: &[Invitee],
        progress: &mut impl Write,
    ) -> anyhow::Result<MailingReport> {
        let role = parse_role(role)?;
        let mut tx = self.db.begin().await?;
        let conference = find_conference(&mut tx, conference).await?;
        tx.commit().await?;
        let mut report = MailingReport::default();
        for (n, invitee) in invitees.iter().enumerate() {
            if invitee.email.is_empty() {
                report.without_address.push(invitee.clone());
                continue;
            }
            let Some(address) = herald_bots::email::parse_address(&invitee.email) else {
                writeln!(
                    progress,
                    "row {}: {:?} is not an e-mail address; not mailed",
                    n + 1,
                    invitee.email
                )?;
                report.refused += 1;
                continue;
            };
            let address = address.to_string();
            let now = self.clock.now();
            let mut tx = self.db.begin().await?;
            if email_store::already_invited(&mut tx, conference.id, role.as_str(), &address).await?
            {
                report.already += 1;
                continue;
            }
            let label = (!invitee.name.is_empty()).then_some(invitee.name.as_str());
            let spec =
                NewLinkTokenSpec::invite(conference.id, role.as_str(), label, None, Some(&address));
            let language = invitee
                .language
                .as_deref()
                .and_then(|l| self.templates.language(l));
            let spec = NewLinkTokenSpec { language, ..spec };
            let (link_id, token) = links::issue_with_id(&mut tx, now, spec).await?;
            let (telegram, browser) = self.bot.open_links(&token);
            let invitation = email::Invitation {
                name: &invitee.name,
                conference: &conference.name,
                role: role.as_str(),
                telegram,
                browser,
                expires: (now + links::INVITE_TTL).date_naive().to_string(),
            };
            let row = email::invite(
                &mut tx,
                self.templates.words(language),
                now,
                link_id,
                &address,
                &invitation,
            )
            .await?;
            tx.commit().await?;
            report.queued.push(row);
            if report.queued.len() % 50 == 0 {
                writeln!(progress, "queued {} of {}", n + 1, invitees.len())?;
            }
        }
        Ok(report)
    }
}

/// Follows the sending of `rows` on the terminal until each is sent or failed; stops following (the
/// mails stay queued) when nothing moves for a minute, which means no `herald run` is sending.
async fn follow(db: &Db, rows: &[i64]) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut last = (0, 0);
    let mut still = 0;
    loop {
        let counts = outbox::states_of(db, rows).await?;
        let count = |states: &[&str]| -> i64 {
            counts
                .iter()
                .filter(|(s, _)| states.contains(&s.as_str()))
                .map(|(_, n)| n)
                .sum()
        };
        let sent = count(&["sent"]);
        let failed = count(&["given_up", "expired", "cancelled"]);
        if (sent, failed) != last {
            eprintln!("sent {sent} of {}, {failed} failed", rows.len());
            last = (sent, failed);
            still = 0;
        }
        if usize::try_from(sent + failed).unwrap_or(0) >= rows.len() {
            return Ok(());
        }
        still += 1;
        if still >= 60 {
            eprintln!(
                "nothing was sent for a minute: is `herald run` running? The mails stay queued and go when it runs"
            );
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

fn parse_role(role: &str) -> anyhow::Result<Role> {
    let role: Role = role.parse().map_err(|_| {
        anyhow::anyhow!("role {role:?} is not attendee, speaker, volunteer or admin")
    })?;
    if !role.is_conference_role() {
        bail!("role {role} cannot be invited: choose attendee, speaker, volunteer or admin");
    }
    Ok(role)
}

async fn find_conference(
    tx: &mut crate::db::Tx,
    slug: &str,
) -> anyhow::Result<conferences::Conference> {
    conferences::conference_by_slug(tx, slug)
        .await?
        .with_context(|| format!("there is no conference {slug}; see `herald conference list`"))
}

/// How links made on the command line open Herald: the Telegram bot when it is configured (its username
/// learnt as [`bot_username`] does), the web chat at `web` otherwise.
pub async fn links_to(
    db: &Db,
    clock: &SharedClock,
    telegram: Option<&TelegramClient>,
    web: url::Url,
) -> anyhow::Result<BotInfo> {
    let username = match telegram {
        Some(client) => Some(bot_username(db, clock, Some(client)).await?),
        None => None,
    };
    Ok(BotInfo::new(username, None, web))
}

/// The bot's username: as learnt by a running Herald, or asked from Telegram now.
pub async fn bot_username(
    db: &Db,
    clock: &SharedClock,
    telegram: Option<&TelegramClient>,
) -> anyhow::Result<String> {
    let mut tx = db.begin().await?;
    let known = system::get_system(&mut tx, USERNAME_KEY).await?;
    tx.commit().await?;
    if let Some(name) = known {
        return Ok(name);
    }
    let Some(client) = telegram else {
        bail!(
            "the bot's username is unknown: set HERALD_TELEGRAM_TOKEN (and run `herald run` once, or let this command ask Telegram)"
        );
    };
    let me = client
        .get_me()
        .await
        .context("Failed to ask Telegram who the bot is (getMe)")?;
    let mut tx = db.begin().await?;
    system::set_system(&mut tx, clock.now(), USERNAME_KEY, &me.username).await?;
    tx.commit().await?;
    Ok(me.username)
}

/// One invitee from a CSV: a name and, optionally, an e-mail address and the language they read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invitee {
    pub name: String,
    pub email: String,
    /// A language code (`de`): their mail is written in it and Herald speaks it to them once they join.
    pub language: Option<String>,
}

/// Reads `name,email[,language]` rows; a header row naming the columns is skipped.
pub fn read_invitees(input: impl Read) -> anyhow::Result<Vec<Invitee>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("CSV row {} is unreadable", n + 1))?;
        let name = record.get(0).unwrap_or_default().to_owned();
        let email = record.get(1).unwrap_or_default().to_owned();
        let language = record
            .get(2)
            .filter(|l| !l.is_empty())
            .map(str::to_ascii_lowercase);
        if n == 0 && name.eq_ignore_ascii_case("name") {
            continue;
        }
        if name.is_empty() && email.is_empty() {
            continue;
        }
        out.push(Invitee {
            name,
            email,
            language,
        });
    }
    Ok(out)
}

/// Issues one invite per invitee and writes `name,email,link` rows.
pub async fn invite(
    db: &Db,
    clock: &SharedClock,
    bot: &BotInfo,
    conference: &str,
    role: &str,
    invitees: &[Invitee],
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let role = parse_role(role)?;
    let mut tx = db.begin().await?;
    let conference = find_conference(&mut tx, conference).await?;
    let mut rows = Vec::new();
    for invitee in invitees {
        let label = (!invitee.name.is_empty()).then_some(invitee.name.as_str());
        let spec = NewLinkTokenSpec::invite(conference.id, role.as_str(), label, None, None);
        let token = links::issue(&mut tx, clock.now(), spec).await?;
        rows.push((invitee, bot.start_link(&token)));
    }
    // Links are printed only after they are stored: a failure prints nothing that would not work.
    tx.commit().await?;
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["name", "email", "link"])?;
    for (invitee, link) in &rows {
        writer.write_record([invitee.name.as_str(), invitee.email.as_str(), link.as_str()])?;
    }
    writer.flush()?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitees_are_read_with_or_without_a_header() {
        let rows = read_invitees("name,email\nAda Lovelace, ada@example.org\n\nBob,\n".as_bytes())
            .expect("csv");
        assert_eq!(
            rows,
            [
                Invitee {
                    name: "Ada Lovelace".into(),
                    email: "ada@example.org".into(),
                    language: None,
                },
                Invitee {
                    name: "Bob".into(),
                    email: String::new(),
                    language: None,
                }
            ]
        );
        assert_eq!(
            read_invitees("Carla,c@x.org".as_bytes())
                .expect("csv")
                .len(),
            1
        );
    }
}
