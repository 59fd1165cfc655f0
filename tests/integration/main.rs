//! Integration tests, one binary (see STYLE: faster to link, one place to look).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(feature = "actix")]
mod actix_adapter;
#[cfg(all(feature = "axum", feature = "actix"))]
mod attacks;
mod audit;
mod audit_record;
#[cfg(feature = "axum")]
mod axum_adapter;
#[cfg(feature = "axum")]
mod browser;
#[cfg(feature = "cli")]
mod cli;
mod detector;
mod fuzz_corpus;
#[cfg(all(feature = "axum", feature = "redis"))]
mod instances;
mod keyset;
#[cfg(all(feature = "axum", feature = "actix"))]
mod law_over_sockets;
mod no_panic;
mod openssl;
mod parser_diff;
mod pii_logs;
mod policy;
#[cfg(feature = "postgres")]
mod postgres_retention;
#[cfg(feature = "postgres")]
mod postgres_store;
#[cfg(feature = "redis")]
mod redis_store;
mod retention;
#[cfg(all(feature = "axum", feature = "actix"))]
mod routes;
mod sandbox;
#[cfg(feature = "cli")]
mod scan;
#[cfg(any(feature = "axum", feature = "actix"))]
mod scenarios;
mod servers;
mod support;
mod token_rules;
mod vectors;
