-- Retention (PIPL Art. 19; Art. 47 §1 items 2 and 3): every consent and every sealed record
-- carries the time it must be gone by, and `netid sweep` (erasure::Sweeper) deletes what has
-- expired. Never edit an applied migration.

-- A consent recorded before this migration without an expiry gets the default retention period,
-- 30 days (2592000 s) from its grant, as every ledger now records one given without an expiry
-- (RetentionPolicy::DEFAULT_PERIOD). Bounded by 9999-12-31T23:59:59Z like every netid time.
UPDATE netid_consents
   SET expires_at = LEAST(granted_at, 253402300799 - 2592000) + 2592000
 WHERE expires_at IS NULL;
ALTER TABLE netid_consents ALTER COLUMN expires_at SET NOT NULL;
CREATE INDEX netid_consents_expiry ON netid_consents (expires_at);

-- Fields kept under a consent withdrawn before this migration were locked, not deleted: delete
-- them now (Art. 47 §1 item 3).
DELETE FROM netid_sealed_fields s
 USING netid_consents c
 WHERE c.subject = s.subject AND c.id = s.consent_id AND c.withdrawn_at IS NOT NULL;

-- A sealed record expires with the consent it was kept under; one whose consent is not in this
-- database (another ledger) gets the default period from when it was stored.
ALTER TABLE netid_sealed_fields ADD COLUMN expires_at bigint;
UPDATE netid_sealed_fields s
   SET expires_at = c.expires_at
  FROM netid_consents c
 WHERE c.subject = s.subject AND c.id = s.consent_id;
UPDATE netid_sealed_fields
   SET expires_at = LEAST(stored_at, 253402300799 - 2592000) + 2592000
 WHERE expires_at IS NULL;
ALTER TABLE netid_sealed_fields ALTER COLUMN expires_at SET NOT NULL;
CREATE INDEX netid_sealed_fields_expiry ON netid_sealed_fields (expires_at);
