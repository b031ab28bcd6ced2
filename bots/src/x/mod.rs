//! X (formerly Twitter) driver, hand-rolled on reqwest.

pub mod oauth1;
pub mod text;
