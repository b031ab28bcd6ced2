//! The chat core: one dptree handler tree over platform-neutral inbound events.
//!
//! A platform adapter (see [`telegram`]) turns what its platform sent into an [`Inbound`] event, resolves
//! the sender into an [`Actor`], and calls [`handle`]. Handlers are plain `async fn`s taking what they
//! need — the [`Ctx`], the actor, the command's arguments — and return a [`Reply`]: messages to render
//! from templates, with optional buttons. The adapter renders the reply its own way and writes it to the
//! outbox in the same transaction as everything the handler changed.
//!
//! [`schema`] reads like a table of contents: one branch per command family.

pub mod direct;
pub mod handlers;
pub mod mastodon;
pub mod telegram;
pub mod web;
pub mod x;

use std::{ops::ControlFlow, sync::Arc};

use chrono::{DateTime, Utc};
use dptree::{case, prelude::*};
use herald_commands::{Command, ConferenceCommand, ParseError, Role};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{Mutex, MutexGuard};

use crate::{
    db::{Tx, conferences::Conference},
    delivery::{Action, Notice},
    templates::{Templates, Words},
};

/// What kind of chat an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    Private,
    Group,
    Channel,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chat {
    pub id: String,
    pub kind: ChatKind,
    pub title: Option<String>,
}

/// The platform account that sent an event.
#[derive(Debug, Clone, Serialize)]
pub struct Sender {
    pub user_id: String,
    pub username: Option<String>,
    pub name: String,
    /// The language the platform says they use (Telegram's `language_code`, such as `de` or `pt-br`):
    /// theirs in Herald on first contact, when Herald speaks it.
    pub language: Option<String>,
}

/// What happened, independent of the platform.
#[derive(Debug, Clone)]
pub enum Input {
    Command(Command),
    /// Something that looked like a command but did not parse; the error says what was expected.
    BadCommand(ParseError),
    Text(String),
    /// A pressed inline button.
    Button {
        callback_id: String,
        data: String,
        message_id: Option<i32>,
    },
    BotAddedToChat,
    BotRemovedFromChat,
    /// The chat moved to a new id (Telegram group → supergroup).
    ChatMigrated {
        to: String,
    },
}

impl Input {
    /// What someone typed, read with the command grammar (no bot username to strip: direct messages and
    /// the web chat).
    pub fn typed(text: &str) -> Self {
        match herald_commands::parse(text, None) {
            Ok(Some(command)) => Self::Command(command),
            Err(error) => Self::BadCommand(error),
            Ok(None) => Self::Text(text.to_owned()),
        }
    }
}

/// One inbound event.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub platform: &'static str,
    pub chat: Chat,
    pub from: Option<Sender>,
    pub input: Input,
    pub message_id: Option<i32>,
    /// A picture that came with the message (its caption is the input's text).
    pub picture: Option<Picture>,
    /// The message this one replies to.
    pub reply_to: Option<i32>,
    /// A file that is not a picture (a template sent as a file).
    pub document: Option<Picture>,
    /// Where the person acted, for the audit trail: `telegram`, `mastodon`, `x` or `web`. The platform stays the
    /// one whose accounts and chats are meant (the web acts as the person's Telegram account).
    pub surface: &'static str,
    /// Pictures uploaded with a post from the web page, with their alt texts.
    pub uploads: Vec<Upload>,
}

/// A picture uploaded from the web page: its bytes are kept with the post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub mime: String,
    pub data: Vec<u8>,
    pub alt: String,
}

/// A picture sent to the bot, known by the platform's file id until a delivery needs its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub file_id: String,
    pub mime: String,
    pub size: Option<u64>,
}

/// The sender as Herald knows them, in the context of the chat's current conference.
#[derive(Debug, Clone)]
pub struct Actor {
    pub person: Option<i64>,
    pub from: Option<Sender>,
    /// The highest role held: `Owner`, or the best role in `conference`, or `Guest`.
    pub role: Role,
    pub conference: Option<Conference>,
    /// The language they read Herald in, a shipped one (`None`: English).
    pub language: Option<String>,
}

impl Actor {
    pub fn may(&self, needed: Role) -> bool {
        self.role >= needed
    }

    pub fn name(&self) -> String {
        self.from
            .as_ref()
            .map_or_else(String::new, |f| f.name.clone())
    }
}

/// A person's highest role in `conference` (an owner's everywhere), `Guest` when they hold none.
pub async fn role_of(tx: &mut Tx, person: i64, conference: Option<i64>) -> anyhow::Result<Role> {
    Ok(crate::db::people::roles_of(tx, person, conference)
        .await?
        .iter()
        .filter_map(|r| r.parse::<Role>().ok())
        .max()
        .unwrap_or(Role::Guest))
}

/// The sender as Herald knows them on the event's platform, with their roles in the chat's conference.
pub async fn resolve_actor(ctx: &Ctx) -> anyhow::Result<Actor> {
    let conference = handlers::current_conference(ctx).await?;
    let from = ctx.inbound.from.clone();
    let mut tx = ctx.tx.lock().await;
    // The platform's hint, where Herald speaks that language.
    let hint = from
        .as_ref()
        .and_then(|f| f.language.as_deref())
        .and_then(|code| ctx.templates.language(code));
    let (person, language) = match &from {
        Some(f) => {
            let found = crate::db::people::refresh_account(
                &mut tx,
                ctx.inbound.platform,
                &f.user_id,
                f.username.as_deref(),
                &f.name,
                hint,
            )
            .await?;
            // Someone who blocked the bot and writes again takes messages again.
            if found.as_ref().is_some_and(|p| p.unreachable) {
                crate::db::contacts::reachable_again(&mut tx, ctx.inbound.platform, &f.user_id)
                    .await?;
            }
            match found {
                Some(p) => (Some(p.id), p.language),
                None => (None, hint.map(str::to_owned)),
            }
        }
        None => (None, None),
    };
    let language = language.filter(|l| ctx.templates.language(l).is_some());
    let role = match person {
        Some(p) => role_of(&mut tx, p, conference.as_ref().map(|c| c.id)).await?,
        None => Role::Guest,
    };
    Ok(Actor {
        person,
        from,
        role,
        conference,
        language,
    })
}

/// The transaction handlers write through, shareable across the handler tree.
#[derive(Debug, Clone)]
pub struct TxCell(Arc<Mutex<Tx>>);

impl TxCell {
    pub fn new(tx: Tx) -> Self {
        Self(Arc::new(Mutex::new(tx)))
    }

    pub async fn lock(&self) -> MutexGuard<'_, Tx> {
        self.0.lock().await
    }

    /// Gives the transaction back once the handlers are done with it.
    pub fn into_inner(self) -> anyhow::Result<Tx> {
        Arc::try_unwrap(self.0)
            .map(Mutex::into_inner)
            .map_err(|_| anyhow::anyhow!("a handler kept the transaction"))
    }
}

/// The surface of the web pages (config, moderation), which act through the chat core as the signed-in
/// person; nothing is bound to their chats.
pub const PAGES_SURFACE: &str = "web";

/// What the bot knows about itself.
#[derive(Debug, Clone)]
pub struct BotInfo {
    /// The Telegram bot's username, without `@`; `herald` when Telegram is off.
    pub username: String,
    pub public_url: Option<url::Url>,
    /// Where people reach Herald's web chat (the public address, or the local one).
    pub web: url::Url,
    /// Whether Telegram is on: links then open the bot there; otherwise they open the web chat.
    pub telegram: bool,
}

impl BotInfo {
    /// What the bot knows, with `telegram_username` as learnt from `getMe` (`None`: Telegram is off).
    pub fn new(
        telegram_username: Option<String>,
        public_url: Option<url::Url>,
        web: url::Url,
    ) -> Self {
        Self {
            telegram: telegram_username.is_some(),
            username: telegram_username.unwrap_or_else(|| "herald".into()),
            public_url,
            web,
        }
    }

    /// A link that adds the bot to a group of the person's choosing and hands it `token` there as a
    /// command (Telegram's `startgroup`); `None` where there is no such thing (the web chat).
    pub fn group_link(&self, token: &str) -> Option<String> {
        self.telegram
            .then(|| format!("https://t.me/{}?startgroup={token}", self.username))
    }

    /// Both ways to open an invitation: in Telegram (when it is on), and in the browser (the web chat).
    pub fn open_links(&self, token: &str) -> (Option<String>, String) {
        (
            self.telegram
                .then(|| format!("https://t.me/{}?start={token}", self.username)),
            crate::links::web_start_link(&self.web, token),
        )
    }

    /// A link that starts a chat with `token`: `https://t.me/<bot>?start=<token>`, or the web chat's
    /// `/chat/start/<token>` when Telegram is off.
    pub fn start_link(&self, token: &str) -> String {
        if self.telegram {
            format!("https://t.me/{}?start={token}", self.username)
        } else {
            crate::links::web_start_link(&self.web, token)
        }
    }
}

/// Everything a handler may use.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub tx: TxCell,
    pub now: DateTime<Utc>,
    pub templates: Arc<Templates>,
    pub bot: Arc<BotInfo>,
    pub inbound: Arc<Inbound>,
    /// What the networks' drivers take from the configuration (`/provider test`).
    pub networks: Arc<crate::social::Settings>,
}

/// One message of a reply, to the chat the event came from. (What goes elsewhere — the moderation chat,
/// the organisers — goes through [`crate::delivery`] in the handler's transaction.)
#[derive(Debug, Clone)]
pub struct Message {
    /// A template name under `templates/messages/`, without the extension.
    pub template: &'static str,
    pub context: Value,
    pub buttons: Vec<Vec<Action>>,
    /// Replace the text of this message (in the destination chat) instead of sending a new one.
    pub edit: Option<i32>,
    /// The text holds a working secret (an invite link, a binding code): its stored copy is blanked once
    /// delivered, so a database leak does not hand out links.
    pub secret: bool,
}

impl Message {
    /// The message as the delivery layer writes it.
    pub fn notice(&self) -> Notice {
        let mut notice =
            Notice::new(self.template, &self.context).with_actions(self.buttons.clone());
        notice.replaces = self.edit;
        notice.secret = self.secret;
        notice
    }
}

/// A handler's answer.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub messages: Vec<Message>,
    /// For a pressed button: the short notice Telegram shows (a template name), or just stop the spinner.
    pub answer_button: bool,
    /// Delete the message that caused this (a bind token posted in a group).
    pub delete_trigger: bool,
    /// The answer refuses what was asked (shown as an alert where a button was pressed).
    pub refused: bool,
    /// The language the reply is written in: the sender's, unless the handler chose (`/settings
    /// language` answers in the new one).
    pub language: Option<String>,
}

impl Reply {
    pub fn none() -> Self {
        Self::default()
    }

    /// One message to the chat the event came from.
    pub fn text(template: &'static str, context: impl Serialize) -> Self {
        Self::default().and(template, context)
    }

    /// Adds a message.
    pub fn and(mut self, template: &'static str, context: impl Serialize) -> Self {
        let context = serde_json::to_value(context).unwrap_or(Value::Null);
        self.messages.push(Message {
            template,
            context,
            buttons: Vec::new(),
            edit: None,
            secret: false,
        });
        self
    }

    /// Buttons under the last message.
    pub fn with_buttons(mut self, rows: Vec<Vec<Action>>) -> Self {
        if let Some(last) = self.messages.last_mut() {
            last.buttons = rows;
        }
        self
    }

    /// The last message replaces message `id` instead of being sent anew.
    pub fn editing(mut self, id: Option<i32>) -> Self {
        if let Some(last) = self.messages.last_mut() {
            last.edit = id;
        }
        self
    }

    /// The last message carries a secret; see [`Message::secret`].
    pub fn secret(mut self) -> Self {
        if let Some(last) = self.messages.last_mut() {
            last.secret = true;
        }
        self
    }

    /// The answer refuses what was asked.
    pub fn refusal(mut self) -> Self {
        self.refused = true;
        self
    }

    pub fn answering_button(mut self) -> Self {
        self.answer_button = true;
        self
    }

    /// The reply is written in `language` rather than the sender's.
    pub fn in_language(mut self, language: &str) -> Self {
        self.language = Some(language.to_owned());
        self
    }

    /// The templates in the reply's language.
    pub fn words<'a>(&'a self, templates: &'a Templates) -> Words<'a> {
        templates.words(self.language.as_deref())
    }
}

pub type HandlerResult = anyhow::Result<Reply>;

/// The handler tree.
pub fn schema() -> Handler<'static, HandlerResult> {
    use handlers::{
        account, broadcast, campaign, channels, conference, follow, mentions, news, people, posts,
        providers, schedule, slots, sponsors, web,
    };

    let commands = case![Input::Command(command)]
        .branch(
            dptree::filter(|command: Command, actor: Actor| !actor.may(command.min_role()))
                .endpoint(handlers::refuse),
        )
        .branch(
            dptree::filter(|command: Command, ctx: Ctx| {
                !scope_allows(command.spec().scope, ctx.inbound.chat.kind)
                    && !is_group_binding(&command)
            })
            .endpoint(handlers::wrong_chat),
        )
        .branch(case![Command::Start { token }].endpoint(account::start))
        .branch(case![Command::BindCode { code }].endpoint(channels::bind_here))
        .branch(case![Command::Help { topic }].endpoint(account::help))
        .branch(case![Command::Whoami].endpoint(account::whoami))
        .branch(case![Command::Stop].endpoint(account::stop))
        .branch(case![Command::Settings { change }].endpoint(account::settings))
        .branch(case![Command::EarlyReminder { minutes }].endpoint(account::early_reminder))
        .branch(case![Command::LinkEmail { address }].endpoint(account::link_email))
        .branch(case![Command::Language { code }].endpoint(account::language))
        .branch(case![Command::Cancel].endpoint(account::cancel))
        .branch(
            case![Command::Conference(sub)]
                .branch(
                    case![ConferenceCommand::New {
                        slug,
                        time_zone,
                        starts_on,
                        ends_on,
                        name
                    }]
                    .endpoint(conference::create),
                )
                .branch(case![ConferenceCommand::List].endpoint(conference::list))
                .branch(case![ConferenceCommand::Use { slug }].endpoint(conference::select))
                .branch(case![ConferenceCommand::Policy { policy }].endpoint(conference::policy))
                .branch(case![ConferenceCommand::Window(window)].endpoint(conference::window))
                .branch(
                    case![ConferenceCommand::Reminders {
                        sessions,
                        speakers,
                        volunteers
                    }]
                    .endpoint(conference::reminders),
                )
                .branch(case![ConferenceCommand::Email { address }].endpoint(conference::email))
                .branch(case![ConferenceCommand::Status].endpoint(conference::status)),
        )
        .branch(case![Command::Status].endpoint(conference::status))
        .branch(case![Command::Admins].endpoint(people::admins))
        .branch(case![Command::Grant { person, role }].endpoint(people::grant))
        .branch(case![Command::Revoke { person, role }].endpoint(people::revoke))
        .branch(case![Command::Invite { role, email, name }].endpoint(people::invite))
        .branch(case![Command::Bind { slot }].endpoint(channels::bind))
        .branch(case![Command::Unbind { slot }].endpoint(channels::unbind))
        .branch(case![Command::Dm { person, text }].endpoint(broadcast::dm))
        .branch(case![Command::Announce { text }].endpoint(broadcast::announce))
        .branch(case![Command::Now].endpoint(schedule::now))
        .branch(case![Command::Next].endpoint(schedule::next))
        .branch(case![Command::Today].endpoint(schedule::today))
        .branch(case![Command::Session { number }].endpoint(schedule::session))
        .branch(case![Command::Room { name }].endpoint(schedule::room))
        .branch(case![Command::Follow { target }].endpoint(follow::follow))
        .branch(case![Command::Unfollow { target }].endpoint(follow::unfollow))
        .branch(case![Command::Following].endpoint(follow::following))
        .branch(case![Command::VolunteerSlot(sub)].endpoint(slots::slot))
        .branch(case![Command::MySlots].endpoint(slots::my_slots))
        .branch(case![Command::Calendar { session }].endpoint(follow::calendar))
        .branch(case![Command::Import { url }].endpoint(conference::import))
        .branch(case![Command::Post { text }].endpoint(posts::post))
        .branch(case![Command::Queue].endpoint(posts::queue))
        .branch(case![Command::RetryPost { number }].endpoint(posts::retry))
        .branch(case![Command::History { number }].endpoint(posts::history))
        .branch(case![Command::Approve { number }].endpoint(posts::approve))
        .branch(case![Command::Reject { number, reason }].endpoint(posts::reject))
        .branch(case![Command::EditPost { number, text }].endpoint(posts::edit))
        .branch(case![Command::SplitPost { number, allow }].endpoint(posts::split))
        .branch(
            case![Command::Variant {
                number,
                provider,
                text
            }]
            .endpoint(posts::variant),
        )
        .branch(case![Command::Image { number, alt }].endpoint(posts::image))
        .branch(case![Command::Mentions { page }].endpoint(mentions::list))
        .branch(case![Command::Discard { number }].endpoint(mentions::discard))
        .branch(case![Command::Boost { number }].endpoint(mentions::boost))
        .branch(case![Command::Campaign(request)].endpoint(campaign::start))
        .branch(case![Command::CampaignApprove { number }].endpoint(campaign::approve_all))
        .branch(case![Command::CampaignReview { number }].endpoint(campaign::review))
        .branch(case![Command::News { title, url }].endpoint(news::post))
        .branch(case![Command::Sponsors].endpoint(sponsors::list))
        .branch(
            case![Command::SponsorAdd {
                level,
                url,
                name,
                handles
            }]
            .endpoint(sponsors::add_sponsor),
        )
        .branch(case![Command::Benefit(sub)].endpoint(sponsors::benefit))
        .branch(case![Command::NewsFeed { url }].endpoint(news::feed))
        .branch(case![Command::CancelPost { number }].endpoint(posts::cancel))
        .branch(case![Command::Provider(sub)].endpoint(providers::provider))
        .branch(
            case![Command::Switch {
                provider,
                feature,
                on
            }]
            .endpoint(providers::switch),
        )
        .branch(case![Command::Hashtag(sub)].endpoint(posts::hashtag))
        .branch(case![Command::Web { logout }].endpoint(web::web))
        .branch(case![Command::Mobile].endpoint(web::mobile))
        .branch(case![Command::Hook].endpoint(web::hook));

    dptree::entry()
        .branch(commands)
        .branch(case![Input::BadCommand(error)].endpoint(handlers::bad_command))
        .branch(
            case![Input::Button {
                callback_id,
                data,
                message_id
            }]
            .endpoint(handlers::button),
        )
        .branch(case![Input::BotAddedToChat].endpoint(channels::added))
        .branch(case![Input::BotRemovedFromChat].endpoint(channels::removed))
        .branch(case![Input::ChatMigrated { to }].endpoint(channels::migrated))
        .branch(case![Input::Text(text)].endpoint(handlers::text))
}

/// `/start <binding code>`: what Telegram's add-to-group link sends in the group it added the bot to
/// (the code is for that group, and is deleted there once used).
fn is_group_binding(command: &Command) -> bool {
    matches!(command, Command::Start { token: Some(token) }
        if token.as_str().starts_with(herald_commands::BIND_CODE_PREFIX))
}

/// Whether a command may be used in this kind of chat: an invite link or a binding code posted in a group
/// would be seen by everyone there.
fn scope_allows(scope: herald_commands::Scope, kind: ChatKind) -> bool {
    match scope {
        herald_commands::Scope::Any => true,
        herald_commands::Scope::Private => kind == ChatKind::Private,
        herald_commands::Scope::Group => kind != ChatKind::Private,
    }
}

/// The handler tree with what every adapter (Telegram, Mastodon direct messages, the web chat) needs to
/// run it for an event.
pub struct Core {
    schema: Handler<'static, HandlerResult>,
    pub templates: Arc<Templates>,
    public_url: Option<url::Url>,
    web: url::Url,
    /// Whether Telegram is configured: a username stored by an earlier run is no bot to link to.
    telegram: bool,
    networks: Arc<crate::social::Settings>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("public_url", &self.public_url)
            .field("web", &self.web)
            .finish_non_exhaustive()
    }
}

impl Core {
    pub fn new(
        templates: Arc<Templates>,
        public_url: Option<url::Url>,
        web: url::Url,
        telegram: bool,
        networks: Arc<crate::social::Settings>,
    ) -> Self {
        Self {
            schema: schema(),
            templates,
            public_url,
            web,
            telegram,
            networks,
        }
    }

    /// What the networks' drivers take from the configuration.
    pub fn networks(&self) -> Arc<crate::social::Settings> {
        self.networks.clone()
    }

    /// What the bot knows about itself; `username` is the Telegram bot's as a running Herald learnt it
    /// (ignored while Telegram is off).
    pub fn bot(&self, username: Option<String>) -> BotInfo {
        let username = username.filter(|_| self.telegram);
        BotInfo::new(username, self.public_url.clone(), self.web.clone())
    }

    /// What the bot knows about itself, with the Telegram username a running Herald stored.
    pub async fn bot_info(&self, tx: &mut Tx) -> anyhow::Result<BotInfo> {
        let username = crate::db::system::get_system(tx, telegram::USERNAME_KEY).await?;
        Ok(self.bot(username))
    }

    /// Runs the tree for `inbound` in `tx`, as the sender it names; gives back the reply and the
    /// transaction, for the adapter to write the reply its way.
    pub async fn run(
        &self,
        tx: Tx,
        now: DateTime<Utc>,
        bot: BotInfo,
        inbound: Inbound,
    ) -> anyhow::Result<(Reply, Tx)> {
        let ctx = Ctx {
            tx: TxCell::new(tx),
            now,
            templates: self.templates.clone(),
            bot: Arc::new(bot),
            inbound: Arc::new(inbound),
            networks: self.networks.clone(),
        };
        let actor = resolve_actor(&ctx).await?;
        let reply = handle(&self.schema, ctx.clone(), actor).await?;
        Ok((reply, ctx.tx.into_inner()?))
    }
}

/// Runs the tree for one event.
pub async fn handle(
    schema: &Handler<'static, HandlerResult>,
    ctx: Ctx,
    actor: Actor,
) -> HandlerResult {
    let input = ctx.inbound.input.clone();
    let language = actor.language.clone();
    let mut reply = match schema.dispatch(dptree::deps![ctx, actor, input]).await {
        ControlFlow::Break(result) => result?,
        ControlFlow::Continue(_) => Reply::none(),
    };
    if reply.language.is_none() {
        reply.language = language;
    }
    Ok(reply)
}
