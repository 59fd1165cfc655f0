//! The same small shop as `axum_shop`, on actix-web 4: sign in with 网号/网证 or the shop's own
//! real-name check, buy an age-restricted item, and edit a profile — where a 网证 user who sends
//! an ID number is refused (Art. 7 §2) and a customer of the shop's own check is not.
//!
//! ```text
//! cargo run --example actix_shop --features actix                 # the scripted tour, then exit
//! NETID_SERVE=1 cargo run --example actix_shop --features actix   # the tour, then keep serving
//! NETID_SERVE=1 NETID_PORT=8080 cargo run --example actix_shop --features actix
//! ```
//!
//! Where it listens, as `axum_shop`: without `NETID_SERVE`, on a free port the system picks
//! (printed as `shop at …`), exiting after the tour; with `NETID_SERVE=1`, on
//! http://127.0.0.1:3000 (or `NETID_PORT`) until Ctrl-C or SIGTERM, which it handles itself
//! (actix's own signal handling is off) and answers the requests in flight first.
//! http://127.0.0.1:3000/ lists the routes: `GET /`, `POST /wine` (adults only),
//! `POST /profile`, and netid's login routes under `/netid`.
//!
//! Logs go to standard error: netid's refusals and warnings by default, as `RUST_LOG` says
//! otherwise (`RUST_LOG=netid=debug` for more).

#[path = "common/logging.rs"]
mod logging;
#[path = "common/shop.rs"]
mod shop;
#[path = "common/signal.rs"]
mod signal;

use actix_web::{App, HttpServer, web};
use netid::actix::NetId;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    actix_web::rt::System::new().block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    logging::init("warn,netid=info");
    let shop::Shop {
        sandbox,
        login,
        rules,
    } = shop::setup().await?;
    let netid = NetId::new(login, rules).insecure_cookies_for_local_development();
    let server = HttpServer::new(move || {
        let netid = netid.clone();
        App::new()
            .route(
                "/",
                web::get().to(|| async { shop::INDEX.replace("{framework}", "actix-web") }),
            )
            .route("/wine", web::post().to(shop::buy_wine))
            .route("/profile", web::post().to(shop::profile))
            .configure(|cfg| netid.configure(cfg))
            .wrap(netid.middleware())
    })
    .workers(1)
    // The shop handles the signals itself, the same way as the axum shop.
    .disable_signals()
    .bind(shop::address()?)?;
    let addr = *server.addrs().first().ok_or("bound address")?;
    let base = format!("http://{addr}");
    let running = server.run();
    let handle = running.handle();
    actix_web::rt::spawn(running);
    println!(
        "shop at {base}, identity platform (sandbox) at {}\n",
        sandbox.url()
    );
    shop::tour(&base, &sandbox).await?;
    if shop::serving() {
        println!("\nserving at {base} until Ctrl-C or SIGTERM");
        signal::shutdown().await;
    }
    handle.stop(true).await;
    Ok(())
}
