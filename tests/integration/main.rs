//! Integration tests, one binary (see STYLE: faster to link, one place to look).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(feature = "cli")]
mod cli;
mod keyset;
mod no_panic;
mod openssl;
mod pii_logs;
mod sandbox;
mod support;
mod token_rules;
mod vectors;
