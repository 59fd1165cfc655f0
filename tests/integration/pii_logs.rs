//! Personal data never reaches the logs: everything netid and an application log about a result
//! with plaintext fields is captured and searched for the values.

use std::io::Write;
use std::sync::{Arc, Mutex};

use netid::crypto::{DecryptionKey, EncryptionKey, PrivateKey};
use netid::model::{EncryptedFields, FieldName};
use netid::pii::ExposeSecret;
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

#[test]
fn decrypted_fields_and_their_errors_never_reach_the_log() {
    let name = "张三丰";
    let id = "11010519491231002X";
    let birth = "1949-12-31";
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();

    tracing::subscriber::with_default(subscriber, || {
        let key = DecryptionKey::new(PrivateKey::generate());
        let plain = format!(
            r#"{{"name":"{name}","id_number":"{id}","birth_date":"{birth}","id_type":"resident_id_card"}}"#
        );
        let enc = EncryptedFields {
            kid: "rp-enc-1".into(),
            names: [
                FieldName::Name,
                FieldName::IdNumber,
                FieldName::BirthDate,
                FieldName::IdType,
            ]
            .into_iter()
            .collect(),
            ciphertext: EncryptionKey::new(key.encryption_key().public_key().clone())
                .encrypt(plain.as_bytes())
                .unwrap(),
        };
        let fields = enc.decrypt(&key).unwrap();
        assert_eq!(
            fields.id_number.as_ref().unwrap().expose_secret(),
            id,
            "the value is there"
        );
        // What an application would naturally log.
        tracing::info!(?fields, "received identity fields");
        tracing::info!(name = %fields.name.as_ref().unwrap(), id = %fields.id_number.as_ref().unwrap(), "display form");
        tracing::debug!(birth = ?fields.birth_date, "debug form");

        // A malformed plaintext: the error is logged, the values inside are not.
        let bad = format!(r#"{{"name":"{name}","id_number":{{"n":"{id}"}}}}"#);
        let enc_bad = EncryptedFields {
            kid: "rp-enc-1".into(),
            names: [FieldName::Name, FieldName::IdNumber].into_iter().collect(),
            ciphertext: key.encryption_key().encrypt(bad.as_bytes()).unwrap(),
        };
        let err = enc_bad.decrypt(&key).unwrap_err();
        tracing::warn!(error = %err, debug = ?err, "rejected fields");
        // Unannounced field.
        let enc_extra = EncryptedFields {
            names: [FieldName::Name].into_iter().collect(),
            ..enc
        };
        let err = enc_extra.decrypt(&key).unwrap_err();
        tracing::warn!(error = %err, "rejected fields");
    });

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("received identity fields"),
        "the log was captured: {log}"
    );
    assert!(log.contains("[redacted"), "{log}");
    assert!(log.contains("rejected fields"));
    for secret in [name, id, birth, "19491231"] {
        assert!(
            !log.contains(secret),
            "`{secret}` leaked into the log:\n{log}"
        );
    }
}

/// Every refusal of the middleware emits one event with its code — and never the value it
/// refused, wherever in the request the value was (body, query, path, header, cookie).
#[test]
#[cfg(all(feature = "axum", feature = "actix"))]
fn refusals_are_logged_by_code_never_by_value() {
    use crate::scenarios::Harness;
    let id = "11010519491231002X";
    let name = "张三丰";
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            let w = crate::scenarios::world().await;
            let h = crate::axum_adapter::AxumHarness(crate::axum_adapter::app(&w));
            let session = crate::scenarios::session_for(&w, netid::sandbox::Persona::Adult).await;
            let cookie = format!("netid_session={session}");
            let requests = [
                (
                    "POST",
                    "/profile".to_owned(),
                    vec![("content-type", "application/json".to_owned())],
                    format!(r#"{{"realName":"{name}","idNo":"{id}"}}"#),
                ),
                ("GET", format!("/me?sfzh={id}"), vec![], String::new()),
                (
                    "GET",
                    "/me".to_owned(),
                    vec![("x-id-card", id.to_owned())],
                    String::new(),
                ),
                (
                    "GET",
                    "/me".to_owned(),
                    vec![("cookie", format!("kyc={id}"))],
                    String::new(),
                ),
            ];
            for (method, path, headers, body) in requests {
                let mut all = vec![("cookie".to_owned(), cookie.clone())];
                all.extend(headers.into_iter().map(|(k, v)| (k.to_owned(), v)));
                let r = h
                    .send(crate::scenarios::Req {
                        method,
                        path,
                        headers: all,
                        body: body.into_bytes(),
                    })
                    .await;
                assert_eq!(r.status, 422);
            }
        });
    });
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        log.matches("request refused").count(),
        4,
        "one event per refusal:\n{log}"
    );
    assert!(log.contains("netid.extra_plaintext"), "{log}");
    assert!(
        !log.contains(id) && !log.contains("19491231"),
        "an ID in the log:\n{log}"
    );
    assert!(!log.contains(name), "a name in the log:\n{log}");
}

/// The fields of each event a subscriber saw, by name (`message` for the message).
#[cfg(all(feature = "axum", feature = "actix"))]
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<std::collections::BTreeMap<String, String>>>>);

#[cfg(all(feature = "axum", feature = "actix"))]
struct Fields<'a>(&'a mut std::collections::BTreeMap<String, String>);

#[cfg(all(feature = "axum", feature = "actix"))]
impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

#[cfg(all(feature = "axum", feature = "actix"))]
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Events {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = std::collections::BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(fields);
    }
}

#[cfg(all(feature = "axum", feature = "actix"))]
impl Events {
    fn dispatch(&self) -> tracing::Dispatch {
        use tracing_subscriber::layer::SubscriberExt;
        tracing::Dispatch::new(tracing_subscriber::registry().with(self.clone()))
    }
    fn refusals(&self) -> Vec<std::collections::BTreeMap<String, String>> {
        let all = self.0.lock().unwrap();
        all.iter()
            .filter(|e| e.get("message").map(String::as_str) == Some("request refused"))
            .cloned()
            .collect()
    }
    fn all_text(&self) -> String {
        format!("{:?}", self.0.lock().unwrap())
    }
}

/// Each refusal of the middleware and the login routes is exactly one `request refused` event
/// with its code, status and route pattern — through axum and through actix alike — and an
/// admitted request is none; no event holds the value refused or the path it was in.
#[test]
#[cfg(all(feature = "axum", feature = "actix"))]
fn every_refusal_is_one_event_with_code_and_route_through_both_adapters() {
    use crate::scenarios::{Harness, Req};
    let id = "11010519491231002X";
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for adapter in ["axum", "actix"] {
        let events = Events::default();
        let dispatch = events.dispatch();
        rt.block_on(async {
            let w = crate::scenarios::world().await;
            let adult = crate::scenarios::session_for(&w, netid::sandbox::Persona::Adult).await;
            let minor = crate::scenarios::session_for(&w, netid::sandbox::Persona::Minor16).await;
            let h: Box<dyn Harness> = match adapter {
                "axum" => Box::new(crate::axum_adapter::AxumHarness(crate::axum_adapter::app(
                    &w,
                ))),
                _ => Box::new(crate::actix_adapter::spawn_app_logging_to(
                    w.login.clone(),
                    w.rules.clone(),
                    false,
                    Some(dispatch.clone()),
                )),
            };
            let send =
                |method, path: &str, session: &str, extra: Vec<(&str, String)>, body: &str| {
                    let mut headers =
                        vec![("cookie".to_owned(), format!("netid_session={session}"))];
                    headers.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
                    h.send(Req {
                        method,
                        path: path.to_owned(),
                        headers,
                        body: body.as_bytes().to_vec(),
                    })
                };
            let json = || vec![("content-type", "application/json".to_owned())];
            let big = "a".repeat(70 * 1024);
            let _guard = tracing::dispatcher::set_default(&dispatch);
            // Admitted, twice (the second answered without waiting): no event.
            for _ in 0..2 {
                assert_eq!(send("GET", "/me", &adult, vec![], "").await.status, 200);
            }
            let refused = [
                send(
                    "POST",
                    "/profile",
                    &adult,
                    json(),
                    &format!(r#"{{"idNo":"{id}"}}"#),
                )
                .await,
                send("GET", &format!("/files/{id}"), &adult, vec![], "").await,
                send("GET", "/adult/shop", &minor, vec![], "").await,
                // Declared too large: refused before the body, without waiting.
                send(
                    "POST",
                    "/profile",
                    &adult,
                    vec![("content-length", big.len().to_string())],
                    &big,
                )
                .await,
                send("POST", "/netid/login/poll", &adult, vec![], "").await,
            ];
            let expected = [
                (422, "netid.extra_plaintext", "/profile"),
                (
                    422,
                    "netid.extra_plaintext",
                    if adapter == "axum" {
                        "/files/{*path}"
                    } else {
                        "/files/{tail:.*}"
                    },
                ),
                (403, "netid.age_minor", "/adult/shop"),
                (413, "netid.payload_too_large", "/profile"),
                (401, "netid.login_unknown", "/netid/login/poll"),
            ];
            for (r, (status, code, _)) in refused.iter().zip(expected) {
                assert_eq!(
                    (r.status, r.code().as_deref()),
                    (status, Some(code)),
                    "{adapter}"
                );
            }
            let logged = events.refusals();
            assert_eq!(
                logged.len(),
                expected.len(),
                "{adapter}: one event per refusal, none for the admitted requests:\n{logged:#?}"
            );
            for (event, (status, code, route)) in logged.iter().zip(expected) {
                assert_eq!(
                    event.get("code").map(String::as_str),
                    Some(code),
                    "{adapter}"
                );
                assert_eq!(
                    event.get("route").map(String::as_str),
                    Some(route),
                    "{adapter}"
                );
                assert_eq!(event.get("status"), Some(&status.to_string()), "{adapter}");
            }
        });
        let text = events.all_text();
        assert!(
            !text.contains(id) && !text.contains("19491231"),
            "{adapter}: {text}"
        );
    }
}
