//! The netid demo site: a small shop to click through in a browser, with the embedded sandbox
//! platform inside — nothing else to install or start.
//!
//! ```text
//! cargo run --example demo_site --features axum
//! ```
//!
//! It serves on http://127.0.0.1:3000 (`NETID_PORT` to change it) until Ctrl-C or SIGTERM:
//! - `/` signs in either way, as equals: 网号/网证 (a QR code and an app link) or the shop's
//!   own ID document check (`POST /signin/other`);
//! - `/phone` plays the identity app: pick a sandbox persona, see what the shop asks and why,
//!   approve or decline;
//! - `/account` shows what the shop knows (pseudonym, assurance, age band) and what it does not,
//!   with "sign out" and "delete my data" (a deletion receipt);
//! - `/adults` has an age gate; `/profile` asks for an ID number (refused for 网号/网证 users,
//!   Art. 7 §2); `/invoice` asks a 网号/网证 user to agree to provide name and ID number first;
//! - `/audit` shows the audit log and its SM3 hash chain verifying.
//!
//! Pages are zh-CN, with an English switch; plain HTML and CSS, no script, nothing fetched from
//! outside. `RUST_LOG=netid=debug` shows every refusal and sign-in as it happens.

mod app;
#[path = "../common/logging.rs"]
mod logging;
#[path = "../common/signal.rs"]
mod signal;

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init("warn,netid=info");
    let (router, demo) = app::site().await?;
    let port = std::env::var("NETID_PORT")
        .ok()
        .map(|p| p.parse::<u16>())
        .transpose()
        .map_err(|_| "NETID_PORT must be a port number (0-65535)")?
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|e| {
            format!("cannot listen on 127.0.0.1:{port} ({e}); set NETID_PORT to another port")
        })?;
    let addr = listener.local_addr()?;
    println!(
        "netid demo site: open http://{addr}/  (identity platform: sandbox at {})",
        demo.sandbox.url()
    );
    println!("Ctrl-C stops it.");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal::shutdown())
    .await?;
    println!("stopped");
    Ok(())
}
