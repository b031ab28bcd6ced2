//! Who may do what: the ladder of roles a person can hold, from a guest who has not linked their chat yet to
//! the owner of a conference series.
//!
//! This module owns the order of roles and their stable lowercase names. Which roles a person actually holds
//! is the application's business, not the grammar's.

use std::fmt;
use std::str::FromStr;

/// A role, ordered lowest first: `Guest < Attendee < Speaker < Volunteer < Admin < Owner`.
///
/// A command's [`min_role`](crate::CommandSpec::min_role) is met by that role and every role above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Anyone, including people who have not linked their chat to Herald yet.
    Guest,
    Attendee,
    Speaker,
    Volunteer,
    Admin,
    /// Owns a conference series; not grantable through chat.
    Owner,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Self; 6] = [
        Self::Guest,
        Self::Attendee,
        Self::Speaker,
        Self::Volunteer,
        Self::Admin,
        Self::Owner,
    ];

    /// The roles that can be granted, revoked and invited within a conference, lowest first.
    pub const CONFERENCE_ROLES: [Self; 4] =
        [Self::Attendee, Self::Speaker, Self::Volunteer, Self::Admin];

    /// The stable lowercase name, as typed in commands and stored by the application.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Guest => "guest",
            Self::Attendee => "attendee",
            Self::Speaker => "speaker",
            Self::Volunteer => "volunteer",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    /// Whether the role can be granted, revoked or invited within a conference: attendee, speaker, volunteer
    /// or admin. Guests hold no role and owners are set when a series is created.
    pub const fn is_conference_role(self) -> bool {
        matches!(
            self,
            Self::Attendee | Self::Speaker | Self::Volunteer | Self::Admin
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text named no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {given:?}")]
pub struct ParseRoleError {
    pub given: String,
}

impl FromStr for Role {
    type Err = ParseRoleError;

    /// Accepts the names from [`Role::as_str`], in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseRoleError {
                given: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_lowest_first() {
        assert!(Role::ALL.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(Role::Guest < Role::Attendee && Role::Admin < Role::Owner);
    }

    #[test]
    fn names_round_trip_in_any_case() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse(), Ok(role));
            assert_eq!(role.as_str().to_uppercase().parse(), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
        }
        assert_eq!(
            "organiser".parse::<Role>(),
            Err(ParseRoleError {
                given: "organiser".to_owned()
            })
        );
        assert!("".parse::<Role>().is_err());
    }

    #[test]
    fn only_the_middle_roles_are_conference_roles() {
        let conference: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.is_conference_role())
            .collect();
        assert_eq!(conference, Role::CONFERENCE_ROLES);
    }
}
