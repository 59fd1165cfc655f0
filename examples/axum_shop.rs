//! A small shop on axum with netid: sign in with 网号/网证 or the shop's own real-name check,
//! buy an age-restricted item, and edit a profile — where a 网证 user who sends an ID number is
//! refused (Art. 7 §2) and a customer of the shop's own check is not.
//!
//! ```text
//! cargo run --example axum_shop --features axum                   # the scripted tour
//! NETID_SERVE=1 cargo run --example axum_shop --features axum     # then keep serving
//! ```
//!
//! The tour prints each step. With `NETID_SERVE=1` the shop stays up on
//! http://127.0.0.1:3000 (`NETID_PORT` to change it) until Ctrl-C or SIGTERM: `GET /`,
//! `POST /wine`, `POST /profile`, and netid's login routes under `/netid`; the sandbox's page,
//! whose address the tour prints, plays the identity app. `RUST_LOG=netid=debug` shows every
//! refusal as it happens.

#[path = "common/shop.rs"]
mod shop;

use axum::Router;
use axum::routing::{get, post};
use netid::axum::NetId;
use netid::policy::VerifiedUser;

async fn buy_wine(user: VerifiedUser) -> String {
    format!(
        "order placed for {} (age band checked, no birth date held)",
        user.subject()
    )
}

async fn profile(user: VerifiedUser, body: String) -> String {
    format!("profile of {} updated: {body}", user.subject())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let shop::Shop {
        sandbox,
        login,
        rules,
    } = shop::setup().await?;
    let netid = NetId::new(login, rules).insecure_cookies_for_local_development();
    let app = Router::new()
        .route(
            "/",
            get(|| async { "netid shop (axum): POST /wine, POST /profile, /netid/…" }),
        )
        .route("/wine", post(buy_wine))
        .route("/profile", post(profile))
        .merge(netid.routes())
        .layer(netid.layer());

    let listener = tokio::net::TcpListener::bind(shop::address()).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shop::shutdown_signal())
            .await
    });
    println!(
        "shop at {base}, identity platform (sandbox) at {}\n",
        sandbox.url()
    );
    shop::tour(&base, &sandbox).await?;
    if shop::serving() {
        println!("\nserving at {base} until Ctrl-C or SIGTERM");
        server.await??;
    } else {
        server.abort();
    }
    Ok(())
}
