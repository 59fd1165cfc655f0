-- Audit entries of version 2 (docs/AUDIT.md): the entry version, a reason code, the platform's
-- signed result token itself, and attempts that established no subject. Rows written before
-- this migration are version 1 and keep `v` NULL; their hashes are unchanged. Never edit an
-- applied migration.
ALTER TABLE netid_audit ADD COLUMN v smallint CHECK (v IS NULL OR v >= 2);
ALTER TABLE netid_audit ADD COLUMN reason text;
ALTER TABLE netid_audit ADD COLUMN token text;
ALTER TABLE netid_audit ALTER COLUMN subject DROP NOT NULL;

-- Finding an authorization and the answer it rested on by its id (COMPLIANCE.md, 协助义务).
CREATE INDEX netid_audit_authz_id ON netid_audit (authz_id);
