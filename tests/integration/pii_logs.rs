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
