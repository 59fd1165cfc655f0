//! A small shop on axum with netid: sign in with 网号/网证 or the shop's own real-name check,
//! buy an age-restricted item, and edit a profile — where a 网证 user who sends an ID number is
//! refused (Art. 7 §2) and a customer of the shop's own check is not.
//!
//! ```text
//! cargo run --example axum_shop --features axum                   # the scripted tour, then exit
//! NETID_SERVE=1 cargo run --example axum_shop --features axum     # the tour, then keep serving
//! NETID_SERVE=1 NETID_PORT=8080 cargo run --example axum_shop --features axum
//! ```
//!
//! It starts the embedded sandbox platform, registers the shop there, and walks through the
//! shop over HTTP, printing each step (both kinds of sign-in, the age gate, the refusal of an ID
//! number from a 网证 user). Where it listens:
//!
//! - without `NETID_SERVE`: on a free port the system picks (printed as `shop at …`), and it
//!   exits when the tour is done;
//! - with `NETID_SERVE=1`: on http://127.0.0.1:3000 (or `NETID_PORT`), and after the tour it
//!   keeps serving until Ctrl-C or SIGTERM, answering the requests in flight first. Open
//!   http://127.0.0.1:3000/ for the list of routes: `GET /`, `POST /wine` (adults only),
//!   `POST /profile`, and netid's login routes under `/netid` (`POST /netid/login/start`,
//!   then `/netid/login/poll`). The sandbox's address, printed first, serves the page that plays
//!   the identity app to approve a login.
//!
//! Logs go to standard error: netid's refusals and warnings by default, as `RUST_LOG` says
//! otherwise (`RUST_LOG=netid=debug` for more).

#[path = "common/logging.rs"]
mod logging;
#[path = "common/shop.rs"]
mod shop;
#[path = "common/signal.rs"]
mod signal;

use axum::Router;
use axum::routing::{get, post};
use netid::axum::NetId;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init("warn,netid=info");
    let shop::Shop {
        sandbox,
        login,
        rules,
    } = shop::setup().await?;
    let netid = NetId::new(login, rules).insecure_cookies_for_local_development();
    let app = Router::new()
        .route(
            "/",
            get(|| async { shop::INDEX.replace("{framework}", "axum") }),
        )
        .route("/wine", post(shop::buy_wine))
        .route("/profile", post(shop::profile))
        .merge(netid.routes())
        .layer(netid.layer());

    let listener = tokio::net::TcpListener::bind(shop::address()?).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(signal::shutdown())
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
