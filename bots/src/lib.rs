//! Platform drivers for Herald.
//!
//! One module per platform. A driver knows its platform's API, its limits and its errors, and nothing
//! about Herald's database, configuration or domain: the application passes in base URLs, credentials and
//! typed inputs, and gets back typed results and errors that say whether (and when) to retry.

pub mod bluesky;
pub mod email;
pub mod html;
pub mod limits;
pub mod linkedin;
pub mod mastodon;
pub mod telegram;
pub mod text;
pub mod x;

pub use limits::{Rate, RateLimits};

/// What the caller should do after a failed request, as far as the platform tells.
///
/// Every driver's error type maps onto this, so the outbox can treat all platforms alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The platform asked us to wait exactly this long before trying again (HTTP 429 / flood control).
    RetryAfter(std::time::Duration),
    /// Something that may pass: network failure, timeout, 5xx. Back off and retry.
    Transient,
    /// Retrying the same request cannot succeed: a bad request, content refused.
    Permanent,
    /// The account's credentials were refused (a revoked token, a changed password): nothing sent with
    /// them works until an operator fixes them. Retried like [`Self::Transient`], so the messages survive
    /// the fix, and the operators are told.
    Refused,
    /// The recipient is gone for good — blocked the bot, deactivated, chat not found: nothing more should
    /// be written to them until they write again.
    Gone,
}
