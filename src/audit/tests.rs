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

#[test]
fn hashed_bytes_are_the_documented_compact_json() {
    let entry = AuditEntry::link(
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
    assert_eq!(entry.computed_hash(), entry.hash);
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
    entries[1].event.subject = "pw_x".into();
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
        self.subject = s;
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
