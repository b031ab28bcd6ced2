//! Content from conference data: post templates (`template`), rendered per network.

pub mod template;
