-- netid's tables, in the schema the store was given (search_path). Applied by
-- `PgStore::migrate` or `netid migrate --postgres URL`; never edit an applied migration.

-- Consents per field and purpose (Art. 8 §3). Withdrawn rows stay, as proof of the withdrawal.
CREATE TABLE netid_consents (
    subject      text     NOT NULL CHECK (length(subject) BETWEEN 1 AND 256),
    id           text     NOT NULL CHECK (length(id) BETWEEN 1 AND 256),
    fields       text[]   NOT NULL,
    purpose      text     NOT NULL,
    legal_basis  text,
    granted_at   bigint   NOT NULL,
    expires_at   bigint,
    withdrawn_at bigint,
    PRIMARY KEY (subject, id)
);

-- Plaintext identity fields released with consent, SM2-sealed before they get here.
CREATE TABLE netid_sealed_fields (
    subject    text   NOT NULL,
    consent_id text   NOT NULL,
    sealed     bytea  NOT NULL,
    stored_at  bigint NOT NULL,
    PRIMARY KEY (subject, consent_id)
);

-- The audit log: one SM3 chain (docs/AUDIT.md). Append-only; the chain catches whoever
-- bypasses the triggers.
CREATE TABLE netid_audit (
    seq        bigint   PRIMARY KEY CHECK (seq > 0),
    prev       text     NOT NULL,
    action     text     NOT NULL,
    subject    text     NOT NULL,
    outcome    text     NOT NULL,
    method     text     NOT NULL,
    assurance  smallint,
    fields     text[]   NOT NULL,
    consent_id text,
    authz_id   text,
    token_sm3  text,
    at         bigint   NOT NULL,
    hash       text     NOT NULL UNIQUE
);
CREATE INDEX netid_audit_subject ON netid_audit (subject);

CREATE FUNCTION netid_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'netid_audit is append-only';
END
$$;
CREATE TRIGGER netid_audit_no_update_or_delete BEFORE UPDATE OR DELETE ON netid_audit
    FOR EACH ROW EXECUTE FUNCTION netid_audit_append_only();
CREATE TRIGGER netid_audit_no_truncate BEFORE TRUNCATE ON netid_audit
    FOR EACH STATEMENT EXECUTE FUNCTION netid_audit_append_only();
