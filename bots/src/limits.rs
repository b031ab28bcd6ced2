//! Rate limits as platforms document them, in a form the application can override from its config.

use std::{fmt, str::FromStr, time::Duration};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// At most `count` events in any window of `per`; or no limit at all.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    Unlimited,
    Limited { count: u32, per: Duration },
}

impl Rate {
    pub const fn per_second(count: u32) -> Self {
        Self::Limited {
            count,
            per: Duration::from_secs(1),
        }
    }

    pub const fn per_minute(count: u32) -> Self {
        Self::Limited {
            count,
            per: Duration::from_secs(60),
        }
    }
}

/// The limits a platform imposes on one sending account.
///
/// Chats are classed as private (one person) or group (groups, supergroups, channels), because
/// platforms limit them differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// All messages of one account (bot), whatever the target.
    pub per_provider: Rate,
    /// Messages to one private chat.
    pub per_private_chat: Rate,
    /// Messages to one group, supergroup or channel.
    pub per_group_chat: Rate,
}

impl RateLimits {
    pub const UNLIMITED: Self = Self {
        per_provider: Rate::Unlimited,
        per_private_chat: Rate::Unlimited,
        per_group_chat: Rate::Unlimited,
    };
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid rate {0:?}: expected \"unlimited\" or \"N/s\", \"N/min\", \"N/h\" (for example \"30/s\" or \"20/min\")"
)]
pub struct InvalidRate(String);

impl FromStr for Rate {
    type Err = InvalidRate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        if trimmed.eq_ignore_ascii_case("unlimited") {
            return Ok(Self::Unlimited);
        }
        let invalid = || InvalidRate(s.to_owned());
        let (count, unit) = trimmed.split_once('/').ok_or_else(invalid)?;
        let count: u32 = count.trim().parse().map_err(|_| invalid())?;
        if count == 0 {
            return Err(invalid());
        }
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(invalid()),
        };
        Ok(Self::Limited { count, per })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unlimited => f.write_str("unlimited"),
            Self::Limited { count, per } => match per.as_secs() {
                1 => write!(f, "{count}/s"),
                60 => write!(f, "{count}/min"),
                3600 => write!(f, "{count}/h"),
                _ => write!(f, "{count}/{}ms", per.as_millis()),
            },
        }
    }
}

impl fmt::Debug for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print_round_trip() {
        for (text, rate) in [
            ("30/s", Rate::per_second(30)),
            ("20/min", Rate::per_minute(20)),
            ("unlimited", Rate::Unlimited),
            (
                "5/h",
                Rate::Limited {
                    count: 5,
                    per: Duration::from_secs(3600),
                },
            ),
        ] {
            assert_eq!(text.parse::<Rate>(), Ok(rate));
            assert_eq!(rate.to_string(), text);
        }
    }

    #[test]
    fn bad_rates_are_refused_with_the_expected_form() {
        for bad in ["", "30", "0/s", "x/s", "3/fortnight"] {
            let err = bad.parse::<Rate>().expect_err(bad);
            assert!(err.to_string().contains("30/s"), "{err}");
        }
    }
}
