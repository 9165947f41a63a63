-- Second factor (TOTP with recovery codes) and single sign-on (OpenID Connect).

-- A user's TOTP secret, sealed by the node (see comity-crypto SecretBox), with the last
-- time step a code was accepted for, so each code works once. confirmed_at is NULL while
-- the enrolment waits for its first valid code. Wrong codes are counted (reset by a right
-- one) so that guessing is locked out for a while.
CREATE TABLE second_factors (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    sealed_secret TEXT NOT NULL,
    confirmed_at BIGINT,
    last_used_step BIGINT NOT NULL,
    failed_attempts BIGINT NOT NULL,
    last_failure_at BIGINT,
    created_at BIGINT NOT NULL
);

-- One-time recovery codes, stored only as SHA-256 digests (hex) of 80-bit random codes.
CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- An OpenID Connect log-in under way: the state (as a SHA-256 digest), the nonce and the
-- PKCE verifier, taken once by the callback.
CREATE TABLE sso_logins (
    state_hash TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Which local user an identity provider's subject is.
CREATE TABLE external_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
