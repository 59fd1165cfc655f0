//! The demo site (`examples/demo_site`) in a real browser: Debian's chromium, headless, driven
//! through chromedriver with fantoccini. A 网号/网证 user and a user of the site's own ID check
//! sign in, walk the same pages and must get the same service; the refusals the law requires
//! (an ID number from a 网号/网证 user without consent, the age gate for a 16-year-old, a
//! declined sign-in) must show as pages that say why. Screenshots of the main pages go to
//! `target/screenshots/`.
//!
//! `.ci/run` installs `chromium` and `chromium-driver`; under `CI=true` their absence fails the
//! test, elsewhere it is skipped with a message.

#[path = "../../examples/demo_site/app.rs"]
#[allow(dead_code)]
mod demo;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::servers::free_port;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// A phone's viewport (CSS pixels): every page must read well at this width.
const PHONE: (u32, u32) = (412, 915);
/// A laptop's, for the README's picture of the sign-in page.
const DESKTOP: (u32, u32) = (1000, 760);

/// Chromium and chromedriver, or `None` to skip (a failure under `CI=true`).
fn browser() -> Option<()> {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if present {
        return Some(());
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{CHROMIUM} and {CHROMEDRIVER} are required under CI=true (.ci/run installs them)"
    );
    eprintln!(
        "skipping the browser test: {CHROMIUM} or {CHROMEDRIVER} is not installed \
         (apt-get install chromium chromium-driver)"
    );
    None
}

/// chromedriver, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The browser, on the demo site at `base`.
struct Browser {
    c: Client,
    base: String,
    shots: PathBuf,
}

impl Browser {
    async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// Clicks a link or a button and waits for the next page.
    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        // The old page is marked, so that a check on the new one cannot see the old one.
        self.c
            .execute("document.body.setAttribute('data-old', '1')", vec![])
            .await
            .unwrap();
        element.click().await.unwrap();
        self.find("body:not([data-old])").await;
    }

    /// Clicks something that stays on the page (a radio button).
    async fn choose(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => {
                let url = self.c.current_url().await.map(|u| u.to_string());
                let text = self.text_now("main").await;
                panic!("no {css} on {url:?}: {e}\n{text}")
            }
        }
    }

    async fn text_now(&self, css: &str) -> String {
        match self.c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn has(&self, css: &str) -> bool {
        self.c.find(Locator::Css(css)).await.is_ok()
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    async fn fill(&self, css: &str, value: &str) {
        self.find(css).await.send_keys(value).await.unwrap();
    }

    async fn path(&self) -> String {
        self.c.current_url().await.unwrap().path().to_owned()
    }

    /// A PNG of the whole page at the current width.
    async fn shot(&self, name: &str) {
        let (w, h) = self.c.get_window_size().await.unwrap();
        // The window is taller than the page's viewport by the browser's own frame.
        let sizes = self
            .c
            .execute(
                "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]",
                vec![],
            )
            .await
            .unwrap();
        let page = sizes[0].as_u64().unwrap_or(h);
        let frame = sizes[1].as_u64().unwrap_or(0);
        self.c
            .set_window_size(w as u32, (page + frame).max(200) as u32)
            .await
            .unwrap();
        let png = self.c.screenshot().await.unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
        self.c.set_window_size(w as u32, h as u32).await.unwrap();
    }

    /// Signs in with 网号/网证: the QR code on the sign-in page, the app link to the phone, the
    /// persona's answer there, back to the site. Returns the sign-in page's text.
    async fn sign_in_netid(&self, persona: &str, shots: Option<&str>) -> String {
        self.goto("/").await;
        self.click("#start-netid").await;
        let svg = self.find("#qr svg").await;
        assert!(
            svg.attr("viewBox").await.unwrap().is_some()
                || svg.attr("width").await.unwrap().is_some(),
            "the QR code is an inline SVG"
        );
        assert!(
            self.has("#way-other form").await,
            "the other way stays beside it"
        );
        let page = self.text("main").await;
        if let Some(prefix) = shots {
            self.shot(&format!("{prefix}signin")).await;
        }
        self.click("#app-link").await;
        // What the site asks for and why, before the user answers.
        let asks = self.text(".request .asks").await;
        let purpose = self.text(".request .purpose").await;
        assert_eq!(purpose, demo::SIGN_IN_PURPOSE);
        assert!(
            asks.contains("年龄段") || asks.contains("age band"),
            "{asks}"
        );
        self.choose(&format!("input[name=persona][value={persona}]"))
            .await;
        if let Some(prefix) = shots {
            self.shot(&format!("{prefix}phone")).await;
        }
        self.click("#approve-0").await;
        self.find("#answered").await;
        self.click("#back-to-site").await;
        page
    }

    async fn sign_in_other(&self, name: &str, id_number: &str) {
        self.goto("/").await;
        self.fill("#name", name).await;
        self.fill("#id_number", id_number).await;
        self.click("#sign-in-other").await;
    }

    async fn sign_out(&self) {
        self.goto("/account").await;
        self.click("#sign-out").await;
        self.find("#start-netid").await;
    }

    /// The outcome of each page for the signed-in user: which box the page shows.
    async fn walk(&self, prefix: Option<&str>) -> Vec<(String, String)> {
        let mut seen = Vec::new();
        for (path, boxes) in [
            ("/account", ["#account", "#refusal"]),
            ("/adults", ["#adults-ok", "#refusal"]),
            ("/profile", ["#save-profile", "#refusal"]),
            ("/invoice", ["#consent", "#refusal"]),
            ("/audit", ["#chain-ok", "#chain-broken"]),
        ] {
            self.goto(path).await;
            let mut shown = "nothing".to_owned();
            for b in boxes {
                if self.has(b).await {
                    shown = b.to_owned();
                    break;
                }
            }
            if let Some(prefix) = prefix {
                self.shot(&format!("{prefix}{}", path.trim_start_matches('/')))
                    .await;
            }
            seen.push((path.to_owned(), shown));
        }
        seen
    }

    /// Sends the profile form; returns the box shown: `#profile-saved` or the refusal's code.
    async fn send_profile(&self, id_number: &str) -> String {
        self.goto("/profile").await;
        self.fill("#nickname", "小蓝").await;
        self.fill("#profile_id_number", id_number).await;
        self.click("#save-profile").await;
        if self.has("#profile-saved").await {
            "#profile-saved".to_owned()
        } else {
            self.text("#refusal-code").await
        }
    }

    /// Sends the invoice form; returns `#invoice-issued` or the refusal's code.
    async fn send_invoice(&self) -> String {
        self.goto("/invoice").await;
        self.fill("#real_name", "张伟").await;
        self.fill("#invoice_id_number", "11010519491231002X").await;
        self.click("#issue-invoice").await;
        if self.has("#invoice-issued").await {
            "#invoice-issued".to_owned()
        } else {
            self.text("#refusal-code").await
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_site_in_a_real_browser() {
    if browser().is_none() {
        return;
    }
    let (router, _demo) = demo::site().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    let port = free_port();
    let _driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let webdriver = format!("http://127.0.0.1:{port}");
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--hide-scrollbars", format!("--window-size={},{}", PHONE.0, PHONE.1)],
        }
    });
    let mut client = None;
    for _ in 0..100 {
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps.as_object().unwrap().clone());
        match builder.connect(&webdriver).await {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let b = Browser {
        c: client.expect("chromedriver answers"),
        base,
        shots: screenshots_dir(),
    };
    b.c.set_window_size(PHONE.0, PHONE.1).await.unwrap();

    // The sign-in page: zh-CN by default, both ways offered as equals; English on request.
    b.goto("/").await;
    assert_eq!(b.text("h1").await, "登录");
    assert!(b.has("#way-netid #start-netid").await && b.has("#way-other #sign-in-other").await);
    b.click("#lang-en").await;
    assert_eq!(b.text("h1").await, "Sign in");
    b.shot("signin-en").await;
    b.click("#lang-zh").await;
    assert_eq!(b.text("h1").await, "登录");

    // A 网号/网证 user (an adult).
    let signin = b.sign_in_netid("adult", Some("")).await;
    assert!(
        signin.contains("证件核验"),
        "the other way is on the same page"
    );
    b.find("#account").await;
    assert_eq!(b.path().await, "/account");
    assert_eq!(b.text("#method").await, "网号/网证");
    assert_eq!(b.text("#age-band").await, "成年");
    assert!(
        b.text("#subject").await.starts_with("pw_"),
        "a pairwise pseudonym"
    );
    assert!(b.text("#not-known").await.contains("证件号码"));
    let netid_walk = b.walk(Some("netid-")).await;
    // The profile form asks for an ID number: refused for this user, with the reason.
    assert_eq!(
        b.send_profile("11010519491231002X").await,
        "netid.extra_plaintext"
    );
    assert!(b.text("#refusal-detail").await.contains("第七条第二款"));
    b.shot("netid-profile-refused").await;
    assert_eq!(
        b.send_profile("").await,
        "#profile-saved",
        "without it, saved"
    );
    // The invoice: refused until the user agrees, with a link to agree; then issued.
    assert_eq!(b.send_invoice().await, "netid.extra_plaintext");
    b.click("#consent-link").await;
    assert!(b.text("#legal-basis").await.contains("第七条第二款"));
    b.click("#agree").await;
    assert_eq!(
        b.text("#consent-receipt dl dd:nth-of-type(2)").await,
        demo::INVOICE_PURPOSE
    );
    b.shot("netid-consent-receipt").await;
    assert_eq!(b.send_invoice().await, "#invoice-issued");
    // Delete my data: a receipt that withdrew the consent, and the session is gone.
    b.goto("/account").await;
    b.click("#erase").await;
    assert_eq!(b.text("#consents-withdrawn").await, "1");
    b.shot("netid-erased").await;
    b.goto("/account").await;
    assert_eq!(b.text("#refusal-code").await, "netid.unauthenticated");

    // A user of the site's own ID check (born 1949: a senior). Same pages, same outcomes.
    b.sign_in_other("张伟", "11010519491231002X").await;
    b.find("#account").await;
    assert_eq!(b.text("#age-band").await, "老年（60 岁以上）");
    assert!(b.text("#subject").await.starts_with("counter_check:"));
    let other_walk = b.walk(Some("other-")).await;
    assert_eq!(netid_walk, other_walk, "the same service either way");
    assert!(
        netid_walk
            .iter()
            .all(|(_, shown)| shown != "#refusal" && shown != "nothing"),
        "{netid_walk:?}"
    );
    // The same forms; here the ID number is no extra plaintext: this user verified with it.
    assert_eq!(b.send_profile("11010519491231002X").await, "#profile-saved");
    assert_eq!(b.send_invoice().await, "#invoice-issued");
    b.sign_out().await;
    b.goto("/account").await;
    assert_eq!(b.text("#refusal-code").await, "netid.unauthenticated");

    // A 16-year-old with 网号/网证: signed in like anyone, refused by the age gate only.
    b.sign_in_netid("minor_16", None).await;
    b.find("#account").await;
    assert_eq!(b.text("#age-band").await, "十四至十七周岁");
    b.goto("/adults").await;
    assert_eq!(b.text("#refusal-code").await, "netid.age_minor");
    b.shot("minor-adults-refused").await;
    b.sign_out().await;

    // Declining in the app: the sign-in page says so.
    b.goto("/").await;
    b.click("#start-netid").await;
    b.click("#app-link").await;
    b.click("#decline-0").await;
    b.click("#back-to-site").await;
    assert!(
        b.text("#sign-in-refused")
            .await
            .contains("netid.login_declined")
    );

    // The audit chain verifies, and holds the sign-ins, the consent and the erasure.
    b.goto("/audit").await;
    assert!(b.has("#chain-ok").await);
    let log = b.text("#audit-entries").await;
    for action in ["verification", "consent_granted", "erasure", "logout"] {
        assert!(log.contains(action), "{action} in {log}");
    }
    assert!(
        !log.contains("11010519491231002X") && !log.contains("张伟"),
        "no identity data"
    );
    b.shot("audit").await;

    // The sign-in page at a laptop's width, for the README.
    b.c.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
    b.goto("/").await;
    b.click("#start-netid").await;
    b.find("#qr svg").await;
    b.shot("signin-desktop").await;

    b.c.clone().close().await.unwrap();
}
