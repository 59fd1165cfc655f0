//! The rules a relying party is bound by, framework-free: every rule lives here once, and the
//! axum and actix adapters only translate HTTP to and from it.

pub mod detector;
