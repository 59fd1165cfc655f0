//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!` embeds
//! `migrations/postgres/` at compile time, but Cargo does not know to watch that folder.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
