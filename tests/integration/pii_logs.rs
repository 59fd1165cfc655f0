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
