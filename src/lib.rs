#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod b64;
pub mod crypto;
pub mod error;
mod json;

pub use error::{Actor, ErrorCode};
pub mod model;
pub mod pii;
pub mod token;
pub mod keys;
