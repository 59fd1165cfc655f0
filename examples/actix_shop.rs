//! The same small shop as `axum_shop`, on actix-web 4: sign in with 网号/网证 or the shop's own
//! real-name check, buy an age-restricted item, and edit a profile — where a 网证 user who sends
//! an ID number is refused (Art. 7 §2) and a customer of the shop's own check is not.
//!
//! ```text
//! cargo run --example actix_shop --features actix                 # the scripted tour
//! NETID_SERVE=1 cargo run --example actix_shop --features actix   # then keep serving
//! ```
//!
//! With `NETID_SERVE=1` the shop stays up on http://127.0.0.1:3000 (`NETID_PORT` to change it)
//! until Ctrl-C or SIGTERM, with the same routes as `axum_shop`.

#[path = "common/shop.rs"]
mod shop;

use actix_web::{App, HttpServer, web};
use netid::actix::NetId;
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    actix_web::rt::System::new().block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
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
                web::get()
                    .to(|| async { "netid shop (actix): POST /wine, POST /profile, /netid/…" }),
            )
            .route("/wine", web::post().to(buy_wine))
            .route("/profile", web::post().to(profile))
            .configure(|cfg| netid.configure(cfg))
            .wrap(netid.middleware())
    })
    .workers(1)
    // The shop handles the signals itself, the same way as the axum shop.
    .disable_signals()
    .bind(shop::address())?;
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
        shop::shutdown_signal().await;
    }
    handle.stop(true).await;
    Ok(())
}
