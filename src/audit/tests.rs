#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn event(i: u64) -> AuditEvent {
    AuditEvent::new(
        AuditAction::Verification,
        format!("pw_{i}"),
        "verified",
        "netid",
    )
    .at(1_767_229_200 + i)
}

/// A valid chain of `n` entries, seq 1..=n.
fn chain(n: u64) -> Vec<AuditEntry> {
    let mut out: Vec<AuditEntry> = Vec::new();
    for i in 1..=n {
        let prev = out.last().map_or(GENESIS, |e| e.hash.as_str()).to_owned();
        out.push(AuditEntry::link(i, &prev, event(i)));
    }
    out
}

fn seqs(entries: &[AuditEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.seq).collect()
}

/// A compact token of protocol v1's shape with these claims (the signature is 64 bytes of
/// nothing: only its form matters here).
fn token_with(claims: &str) -> String {
    let header = r#"{"alg":"SM2-SM3","kid":"sbx-sign-1","typ":"netid-result+jwt"}"#;
    format!(
        "{}.{}.{}",
        crate::b64::encode(header.as_bytes()),
        crate::b64::encode(claims.as_bytes()),
        crate::b64::encode(&[7u8; 64])
    )
}

const CLAIMS: &str = r#"{"iss":"https://p.example","aud":"app","sub":"pw_A","authz_id":"Q7bX2kP9mZ4vR8tW1nY6cH3sJ5dF0gLa","result":{"status":"verified"},"acr":1,"amr":["credential"]}"#;

#[test]
fn hashed_bytes_are_the_documented_compact_json() {
    let token = token_with(CLAIMS);
    let entry = AuditEntry::link(
        1,
        GENESIS,
        AuditEvent::new(
            AuditAction::Verification,
            "pw_A\"b",
            "not_verified",
            "netid",
        )
        .reason("identity_mismatch")
        .assurance(3)
        .fields([FieldName::Name, FieldName::IdNumber])
        .consent_id("c-1")
        .token(token.as_str())
        .at(1_767_229_200),
    );
    assert_eq!(entry.version, 2);
    let expected = format!(
        "{{\"seq\":1,\"prev\":\"{GENESIS}\",\"v\":2,\"action\":\"verification\",\
         \"subject\":\"pw_A\\\"b\",\"outcome\":\"not_verified\",\"reason\":\"identity_mismatch\",\
         \"method\":\"netid\",\"assurance\":3,\"fields\":[\"name\",\"id_number\"],\
         \"consent_id\":\"c-1\",\"authz_id\":null,\"token_sm3\":\"{}\",\"token\":\"{token}\",\
         \"at\":1767229200}}",
        hex::encode(crate::crypto::sm3(token.as_bytes()))
    );
    assert_eq!(String::from_utf8(entry.hashed_bytes()).unwrap(), expected);
    assert_eq!(
        entry.hash,
        hex::encode(crate::crypto::sm3(expected.as_bytes()))
    );
    assert_eq!(entry.computed_hash(), entry.hash);

    // Without a subject, reason or token: nulls.
    let bare = AuditEntry::link(
        2,
        GENESIS,
        AuditEvent::without_subject(AuditAction::Verification, "declined", "netid").at(5),
    );
    assert_eq!(
        String::from_utf8(bare.hashed_bytes()).unwrap(),
        format!(
            "{{\"seq\":2,\"prev\":\"{GENESIS}\",\"v\":2,\"action\":\"verification\",\
             \"subject\":null,\"outcome\":\"declined\",\"reason\":null,\"method\":\"netid\",\
             \"assurance\":null,\"fields\":[],\"consent_id\":null,\"authz_id\":null,\
             \"token_sm3\":null,\"token\":null,\"at\":5}}"
        )
    );
}

/// `event` as an entry of version 1, as netid wrote it before version 2.
fn v1_entry(seq: u64, prev: &str, event: AuditEvent) -> AuditEntry {
    let mut entry = AuditEntry {
        seq,
        prev: prev.to_owned(),
        version: 1,
        event,
        hash: String::new(),
    };
    entry.hash = entry.computed_hash();
    entry
}

#[test]
fn version_1_entries_keep_their_bytes_and_verify() {
    let entry = v1_entry(
        1,
        GENESIS,
        AuditEvent::new(AuditAction::ConsentGranted, "pw_A\"b", "verified", "netid")
            .assurance(3)
            .fields([FieldName::Name, FieldName::IdNumber])
            .consent_id("c-1")
            .token_sm3(&[0xab; 32])
            .at(1_767_229_200),
    );
    let expected = format!(
        "{{\"seq\":1,\"prev\":\"{GENESIS}\",\"action\":\"consent_granted\",\"subject\":\"pw_A\\\"b\",\
         \"outcome\":\"verified\",\"method\":\"netid\",\"assurance\":3,\
         \"fields\":[\"name\",\"id_number\"],\"consent_id\":\"c-1\",\"authz_id\":null,\
         \"token_sm3\":\"{}\",\"at\":1767229200}}",
        "ab".repeat(32)
    );
    assert_eq!(String::from_utf8(entry.hashed_bytes()).unwrap(), expected);
    assert_eq!(
        entry.hash,
        hex::encode(crate::crypto::sm3(expected.as_bytes()))
    );
    // A line without `v` reads back as version 1, and a version 2 entry links after it.
    let line = entry.to_line();
    let back: AuditEntry = serde_json::from_slice(&line).unwrap();
    assert_eq!(back, entry);
    let next = AuditEntry::link(2, &entry.hash, event(2));
    assert_eq!(verify_chain(&[entry.clone(), next]).unwrap().last_seq, 2);

    // A version 1 hash covers no reason, token or missing subject: an entry of version 1 that
    // holds one was changed.
    for change in [
        |e: &mut AuditEvent| e.reason = Some("identity_mismatch".into()),
        |e: &mut AuditEvent| e.token = Some(token_with(CLAIMS)),
        |e: &mut AuditEvent| e.subject = None,
    ] {
        let mut event = entry.event.clone();
        change(&mut event);
        let forged = v1_entry(1, GENESIS, event);
        assert_eq!(forged.computed_hash(), forged.hash, "self-consistent");
        assert_eq!(verify_chain(&[forged]), Err(ChainError::Edited { seq: 1 }));
    }
}

#[test]
fn an_unknown_entry_version_is_named() {
    let mut entries = chain(3);
    entries[1].version = 3;
    entries[1].hash = entries[1].computed_hash();
    assert_eq!(
        verify_chain(&entries),
        Err(ChainError::UnknownVersion { seq: 2, version: 3 })
    );
    let error = ChainError::UnknownVersion { seq: 2, version: 3 };
    assert_eq!(error.code(), "audit.unknown_version");
    assert_eq!(error.actor(), Actor::Configuration);
    let mut entries = chain(1);
    entries[0].version = 0;
    assert_eq!(
        verify_chain(&entries),
        Err(ChainError::UnknownVersion { seq: 1, version: 0 })
    );
}

#[test]
fn a_line_is_the_serde_form_and_round_trips() {
    for entry in chain(3) {
        let line = entry.to_line();
        let serde = serde_json::to_string(&entry).unwrap() + "\n";
        assert_eq!(String::from_utf8(line.clone()).unwrap(), serde);
        let back: AuditEntry = serde_json::from_slice(&line).unwrap();
        assert_eq!(back, entry);
        // The line is the hashed bytes with the hash spliced in before the last brace.
        let hashed = entry.hashed_bytes();
        assert_eq!(&line[..hashed.len() - 1], &hashed[..hashed.len() - 1]);
        assert!(line.ends_with(format!(",\"hash\":\"{}\"}}\n", entry.hash).as_bytes()));
    }
}

#[test]
fn an_intact_chain_verifies_to_its_head() {
    assert_eq!(verify_chain(&[]), Ok(ChainHead::empty()));
    let entries = chain(5);
    let head = verify_chain(&entries).unwrap();
    assert_eq!(
        head,
        ChainHead {
            entries: 5,
            last_seq: 5,
            head: entries[4].hash.clone()
        }
    );
    assert_eq!(entries[0].prev, GENESIS);
    for pair in entries.windows(2) {
        assert_eq!(pair[1].prev, pair[0].hash);
    }
}

#[test]
fn an_edited_entry_is_named() {
    let mut entries = chain(5);
    entries[2].event.outcome = "declined".into();
    assert_eq!(verify_chain(&entries), Err(ChainError::Edited { seq: 3 }));

    let mut entries = chain(5);
    entries[1].event.fields.push(FieldName::BirthDate);
    assert_eq!(verify_chain(&entries), Err(ChainError::Edited { seq: 2 }));

    // An edited seq is an edit, not a gap: the hash is checked before the order.
    let mut entries = chain(5);
    entries[2].seq = 9;
    assert_eq!(verify_chain(&entries), Err(ChainError::Edited { seq: 9 }));

    let mut entries = chain(5);
    entries[3].prev = GENESIS.into();
    assert_eq!(verify_chain(&entries), Err(ChainError::Edited { seq: 4 }));
}

#[test]
fn deleted_entries_are_named_by_the_gap() {
    let mut entries = chain(6);
    entries.remove(2);
    assert_eq!(
        verify_chain(&entries),
        Err(ChainError::Deleted {
            after_seq: 2,
            next_seq: 4
        })
    );
    let mut entries = chain(6);
    entries.drain(1..4);
    assert_eq!(
        verify_chain(&entries),
        Err(ChainError::Deleted {
            after_seq: 1,
            next_seq: 5
        })
    );
    // The first entry.
    let mut entries = chain(3);
    entries.remove(0);
    assert_eq!(
        verify_chain(&entries),
        Err(ChainError::Deleted {
            after_seq: 0,
            next_seq: 2
        })
    );
    // Just before the end: the verdict comes at `finish`.
    let mut entries = chain(4);
    entries.remove(2);
    assert_eq!(
        verify_chain(&entries),
        Err(ChainError::Deleted {
            after_seq: 2,
            next_seq: 4
        })
    );
}

#[test]
fn moved_entries_are_reordered() {
    let mut entries = chain(5);
    entries.swap(2, 3);
    assert_eq!(seqs(&entries), [1, 2, 4, 3, 5]);
    assert_eq!(
        verify_chain(&entries),
        Err(ChainError::Reordered {
            seq: 3,
            after_seq: 4
        })
    );
    let mut entries = chain(6);
    entries.swap(1, 4);
    assert_eq!(seqs(&entries), [1, 5, 3, 4, 2, 6]);
    assert_eq!(
        verify_chain(&entries),
        Err(ChainError::Reordered {
            seq: 3,
            after_seq: 5
        })
    );
    // The first two.
    let mut entries = chain(3);
    entries.swap(0, 1);
    assert_eq!(
        verify_chain(&entries),
        Err(ChainError::Reordered {
            seq: 1,
            after_seq: 2
        })
    );
    // The last two.
    let mut entries = chain(4);
    entries.swap(2, 3);
    assert_eq!(
        verify_chain(&entries),
        Err(ChainError::Reordered {
            seq: 3,
            after_seq: 4
        })
    );
    // Backwards without a gap first: an entry appended again further down.
    let mut entries = chain(4);
    entries.push(entries[1].clone());
    assert_eq!(
        verify_chain(&entries),
        Err(ChainError::Reordered {
            seq: 2,
            after_seq: 4
        })
    );
}

#[test]
fn inserted_or_replaced_entries_break_the_next_link() {
    // A forged entry with a correct hash and prev, given the next seq: the real one after it
    // repeats that seq.
    let mut entries = chain(5);
    let forged = AuditEntry::link(3, &entries[1].hash, event(99));
    entries.insert(2, forged);
    assert_eq!(verify_chain(&entries), Err(ChainError::Inserted { seq: 3 }));

    // A forged replacement: its own hash is right, its prev is not the hash before it.
    let mut entries = chain(5);
    entries[2] = AuditEntry::link(3, GENESIS, event(99));
    assert_eq!(verify_chain(&entries), Err(ChainError::Inserted { seq: 3 }));

    // A replacement linked correctly: the entry after it no longer links.
    let mut entries = chain(5);
    entries[2] = AuditEntry::link(3, &entries[1].hash.clone(), event(99));
    assert_eq!(verify_chain(&entries), Err(ChainError::Inserted { seq: 4 }));

    // The same entry twice.
    let mut entries = chain(3);
    entries.insert(2, entries[1].clone());
    assert_eq!(verify_chain(&entries), Err(ChainError::Inserted { seq: 2 }));
}

#[test]
fn the_first_entry_must_start_from_genesis() {
    let mut entries = chain(3);
    entries[0] = AuditEntry::link(1, &"1".repeat(64), event(1));
    assert_eq!(
        verify_chain(&entries),
        Err(ChainError::BrokenGenesis { seq: 1 })
    );
    let zero = [AuditEntry::link(0, GENESIS, event(1))];
    assert_eq!(
        verify_chain(&zero),
        Err(ChainError::BrokenGenesis { seq: 0 })
    );
}

#[test]
fn a_removed_tail_needs_an_anchor() {
    let entries = chain(6);
    let anchor = verify_chain(&entries[..5]).unwrap();
    // The log grew after the anchor: fine.
    assert_eq!(verify_chain_to(&entries, &anchor).unwrap().last_seq, 6);
    // Its tail removed: the chain alone is perfect, the anchor is not in it.
    assert_eq!(verify_chain(&entries[..3]).unwrap().last_seq, 3);
    assert_eq!(
        verify_chain_to(&entries[..3], &anchor),
        Err(ChainError::Truncated {
            last_seq: 3,
            anchored_seq: 5
        })
    );
    // Rewritten from scratch with other events and every hash recomputed.
    let mut rewritten: Vec<AuditEntry> = Vec::new();
    for i in 1..=6 {
        let prev = rewritten
            .last()
            .map_or(GENESIS, |e| e.hash.as_str())
            .to_owned();
        rewritten.push(AuditEntry::link(i, &prev, event(i + 100)));
    }
    assert!(verify_chain(&rewritten).is_ok());
    assert_eq!(
        verify_chain_to(&rewritten, &anchor),
        Err(ChainError::HeadMismatch { seq: 5 })
    );
    // An empty anchor requires nothing.
    assert!(verify_chain_to(&[], &ChainHead::empty()).is_ok());
}

#[test]
fn the_verifier_keeps_its_first_verdict() {
    let mut entries = chain(4);
    entries[1].event.subject = Some("pw_x".into());
    let mut verifier = ChainVerifier::new();
    assert!(verifier.push(&entries[0]).is_ok());
    assert_eq!(
        verifier.push(&entries[1]),
        Err(ChainError::Edited { seq: 2 })
    );
    assert_eq!(
        verifier.push(&entries[2]),
        Err(ChainError::Edited { seq: 2 })
    );
    assert_eq!(verifier.finish(), Err(ChainError::Edited { seq: 2 }));
}

#[test]
fn chain_errors_are_security_events_with_stable_codes() {
    let cases = [
        (ChainError::Edited { seq: 7 }, "audit.edited"),
        (
            ChainError::Deleted {
                after_seq: 7,
                next_seq: 9,
            },
            "audit.deleted",
        ),
        (
            ChainError::Reordered {
                seq: 7,
                after_seq: 8,
            },
            "audit.reordered",
        ),
        (ChainError::Inserted { seq: 7 }, "audit.inserted"),
        (ChainError::BrokenGenesis { seq: 7 }, "audit.genesis"),
        (
            ChainError::Truncated {
                last_seq: 6,
                anchored_seq: 7,
            },
            "audit.truncated",
        ),
        (ChainError::HeadMismatch { seq: 7 }, "audit.head_mismatch"),
    ];
    for (error, code) in cases {
        assert_eq!(error.code(), code);
        assert_eq!(error.actor(), Actor::SecurityEvent);
        assert!(error.to_string().contains('7'), "{error} names the seq");
        let wrapped = AuditError::from(error);
        assert_eq!(wrapped.code(), code);
        assert_eq!(wrapped.actor(), Actor::SecurityEvent);
    }
    let token_errors = [
        (
            TokenCheckError::Invalid {
                seq: 7,
                code: "token.signature_invalid",
            },
            "audit.token_invalid",
            Actor::SecurityEvent,
        ),
        (
            TokenCheckError::Mismatch { seq: 7 },
            "audit.token_mismatch",
            Actor::SecurityEvent,
        ),
        (
            TokenCheckError::UnknownKey {
                seq: 7,
                kid: "k-1".into(),
            },
            "audit.token_key_unknown",
            Actor::Configuration,
        ),
    ];
    for (error, code, actor) in token_errors {
        assert!(error.to_string().contains("entry 7"), "{error}");
        let wrapped = AuditError::from(error);
        assert_eq!((wrapped.code(), wrapped.actor()), (code, actor));
    }
    let store = AuditError::from(StoreError::unavailable("file", "disk full"));
    assert_eq!(store.code(), "store.unavailable");
    assert_eq!(store.actor(), Actor::RetryLater);
    let invalid = AuditError::Invalid("subject");
    assert_eq!(invalid.code(), "audit.invalid_event");
    assert_eq!(invalid.actor(), Actor::Configuration);
}

#[test]
fn valid_events_pass() {
    let full = AuditEvent::new(AuditAction::Erasure, "pw_Z-9_a", "erased", "sms.otp-v2")
        .assurance(4)
        .fields(FieldName::ALL.iter().copied())
        .consent_id("consent:2026/01#7")
        .authz_id("Q7bX2kP9mZ4vR8tW1nY6cH3sJ5dF0gLa")
        .token_sm3(&[0x0f; 32]);
    assert_eq!(full.validate(), Ok(()));
    assert!(full.at > 1_700_000_000, "at defaults to now");
    assert_eq!(event(1).validate(), Ok(()));
    assert_eq!(
        event(1).subject("x".repeat(128)).validate(),
        Ok(()),
        "128 characters"
    );
}

/// `AuditEvent` with a replaced subject, for the table below.
trait WithSubject {
    fn subject(self, s: String) -> Self;
}

impl WithSubject for AuditEvent {
    fn subject(mut self, s: String) -> Self {
        self.subject = Some(s);
        self
    }
}

#[test]
fn invalid_events_name_the_field_and_hide_the_value() {
    let base = || event(1);
    let mut cases: Vec<(AuditEvent, &str, &str)> = vec![
        (base().subject(String::new()), "subject", ""),
        (base().subject("pw\n1".into()), "subject", "pw\n1"),
        (base().subject("pw 1".into()), "subject", "pw 1"),
        (base().subject("张三".into()), "subject", "张三"),
        (base().subject("p".repeat(129)), "subject", "ppppppp"),
        (
            AuditEvent::new(AuditAction::Logout, "pw_1", "Verified", "netid"),
            "outcome",
            "Verified",
        ),
        (
            AuditEvent::new(AuditAction::Logout, "pw_1", "o".repeat(33), "netid"),
            "outcome",
            "ooooooo",
        ),
        (
            AuditEvent::new(AuditAction::Logout, "pw_1", "ok", "Net ID"),
            "method",
            "Net ID",
        ),
        (
            AuditEvent::new(AuditAction::Logout, "pw_1", "ok", ""),
            "method",
            "",
        ),
        (base().assurance(0), "assurance", ""),
        (base().assurance(5), "assurance", ""),
        (
            base().fields([FieldName::Name, FieldName::Name]),
            "fields",
            "",
        ),
        (base().consent_id(""), "consent_id", ""),
        (base().consent_id("c\t1"), "consent_id", "c\t1"),
        (base().authz_id("a".repeat(129)), "authz_id", "aaaaaaa"),
        (base().at(253_402_300_800), "at", "253402300800"),
    ];
    let mut bad_digest = base();
    bad_digest.token_sm3 = Some("AB".repeat(32));
    cases.push((bad_digest, "token_sm3", "ABABABAB"));
    let mut short_digest = base();
    short_digest.token_sm3 = Some("ab".repeat(31));
    cases.push((short_digest, "token_sm3", "abababab"));
    // Identity numbers, bare or inside an id.
    cases.push((
        base().subject("11010519491231002X".into()),
        "subject",
        "11010519491231002X",
    ));
    cases.push((
        base().authz_id("user-11010519491231002X"),
        "authz_id",
        "11010519491231002X",
    ));
    cases.push((
        base().consent_id("id:11010519491231002X"),
        "consent_id",
        "11010519491231002X",
    ));
    // Reasons: error codes and platform reasons only.
    cases.push((base().reason(""), "reason", ""));
    cases.push((base().reason("Token.Invalid"), "reason", "Token.Invalid"));
    cases.push((base().reason("r".repeat(65)), "reason", "rrrrrrr"));
    cases.push((base().reason("not verified"), "reason", "not verified"));
    // An identity number in a reason, an outcome or a method: lowercase digits are allowed
    // there, so the detector is what stops one.
    cases.push((
        base().reason("id_110105198001010016"),
        "reason",
        "110105198001010016",
    ));
    cases.push((
        AuditEvent::new(AuditAction::Logout, "pw_1", "110105198001010016", "netid"),
        "outcome",
        "110105198001010016",
    ));
    cases.push((
        AuditEvent::new(AuditAction::Logout, "pw_1", "ok", "m.110105198001010016"),
        "method",
        "110105198001010016",
    ));
    for (event, field, value) in cases {
        let error = event.validate().unwrap_err();
        assert_eq!(error, AuditError::Invalid(field), "{event:?}");
        let text = error.to_string();
        assert!(text.contains(field), "{text}");
        if !value.is_empty() {
            assert!(!text.contains(value), "{text} shows the value");
        }
    }
}

#[test]
fn a_kept_token_must_be_a_clean_compact_token_with_its_digest() {
    let token = token_with(CLAIMS);
    assert_eq!(check_token(&token), Ok(()));
    assert_eq!(event(1).token(token.as_str()).validate(), Ok(()));
    assert_eq!(
        AuditEvent::without_subject(AuditAction::Verification, "failed", "netid")
            .reason("token.signature_invalid")
            .token_sm3(&[1; 32])
            .validate(),
        Ok(()),
        "an attempt without a subject"
    );
    let with_id_number = token_with(
        r#"{"sub":"pw_A","note":"holder 11010519491231002X","result":{"status":"verified"}}"#,
    );
    let with_id_field = token_with(r#"{"sub":"pw_A","idNo":"A1234567"}"#);
    let cases = [
        (with_id_number.clone(), "an ID number in a claim"),
        (with_id_field, "a value under an identity field name"),
        (token.replacen('.', "", 1), "two segments"),
        (format!("{token}.x"), "four segments"),
        (format!("{token} "), "a space"),
        (format!(".{token}"), "an empty segment"),
        (
            format!("{}.{}.sig", crate::b64::encode(b"{}"), "%%%"),
            "not base64url",
        ),
        (
            token_with(&format!("{{\"x\":\"{}\"}}", "a".repeat(16 * 1024))),
            "over 16 KiB",
        ),
        (
            format!(
                "{}.{}.c2ln",
                crate::b64::encode(b"{}"),
                crate::b64::encode(b"[1,")
            ),
            "not JSON",
        ),
    ];
    for (bad, why) in cases {
        assert_eq!(
            check_token(&bad),
            Err(AuditError::Invalid("token")),
            "{why}"
        );
        let error = event(1).token(bad.as_str()).validate().unwrap_err();
        assert_eq!(error, AuditError::Invalid("token"), "{why}");
        assert!(!error.to_string().contains("1949"), "{error}");
    }
    // The digest must be the token's.
    let mut other_digest = event(1).token(token.as_str());
    other_digest.token_sm3 = Some("ab".repeat(32));
    assert_eq!(
        other_digest.validate(),
        Err(AuditError::Invalid("token_sm3"))
    );
    let mut no_digest = event(1).token(token.as_str());
    no_digest.token_sm3 = None;
    assert_eq!(no_digest.validate(), Err(AuditError::Invalid("token_sm3")));
}

#[test]
fn ordinary_ids_are_not_identity_numbers() {
    // Digits, but no valid identity number: a snowflake id, a phone number, a timestamp.
    for id in [
        "1767229200123456789",
        "13800138000",
        "1767229200",
        "20260101-0001",
    ] {
        assert_eq!(base_with_ids(id).validate(), Ok(()), "{id}");
    }
}

fn base_with_ids(id: &str) -> AuditEvent {
    event(1)
        .consent_id(id)
        .authz_id(id)
        .subject(format!("pw_{id}"))
}

#[tokio::test]
async fn memory_log_appends_reads_and_verifies() {
    let log = InMemoryAuditLog::new();
    for i in 1..=7 {
        let entry = log.append(event(i)).await.unwrap();
        assert_eq!(entry.seq, i);
    }
    assert_eq!(
        log.append(event(8).assurance(9)).await,
        Err(AuditError::Invalid("assurance"))
    );
    assert_eq!(seqs(&log.read(3, 2).await.unwrap()), [3, 4]);
    assert_eq!(
        seqs(&log.read(0, 100).await.unwrap()),
        [1, 2, 3, 4, 5, 6, 7]
    );
    assert!(log.read(8, 10).await.unwrap().is_empty());
    assert!(log.read(u64::MAX, 10).await.unwrap().is_empty());
    assert!(log.read(1, 0).await.unwrap().is_empty());
    let head = verify_log(&log).await.unwrap();
    assert_eq!(head.last_seq, 7);
    assert_eq!(verify_log_to(&log, &head).await, Ok(head));
}
