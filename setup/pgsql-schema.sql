-- tern's tables in PostgreSQL (docs/fleet.md): the users, the aliases and
-- the POP-before-SMTP relay table that several tern hosts share.
-- Load with `tern-pgmigrate -s setup/pgsql-schema.sql` (or psql -f) as the
-- tables' owner. Safe to run again: it creates only what is missing.

CREATE TABLE IF NOT EXISTS tern_schema (
  version integer NOT NULL
);
INSERT INTO tern_schema (version) SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM tern_schema);

-- One row per account, as a line of the users file: the address in
-- canonical form (lowercased by tern), a crypt(3) hash (yescrypt; empty or
-- '!' cannot log in), the Maildir (ending in '/'; a relative one is
-- relative to each host's $TERN_HOME).
CREATE TABLE IF NOT EXISTS tern_users (
  address text PRIMARY KEY,
  hash    text NOT NULL,
  maildir text NOT NULL
);

-- One row per target of an alias, in the order of the aliases file.
CREATE TABLE IF NOT EXISTS tern_aliases (
  address text NOT NULL,
  pos     integer NOT NULL,
  target  text NOT NULL,
  PRIMARY KEY (address, pos)
);

-- POP-before-SMTP: the canonical text of a client address and the time of
-- its last POP3 login, by the database's clock.
CREATE TABLE IF NOT EXISTS tern_relay (
  ip text PRIMARY KEY,
  at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS tern_relay_at ON tern_relay (at);

-- The fleet's last sweep of stale relay rows (one row): the host that
-- moves it sweeps, at most once a minute.
CREATE TABLE IF NOT EXISTS tern_relay_sweep (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  at  timestamptz NOT NULL
);
INSERT INTO tern_relay_sweep (one, at) VALUES (true, '-infinity') ON CONFLICT DO NOTHING;

-- The database users and the only rights each needs (run as a superuser
-- or the tables' owner; choose your own passwords):
--
-- control/pgsql: tern-smtpd (RCPT), tern-local, tern-pop3d, tern-relaycheck,
-- tern-relayallow. No password hashes.
--   CREATE ROLE tern_read LOGIN PASSWORD '...';
--   GRANT SELECT (address, maildir) ON tern_users TO tern_read;
--   GRANT SELECT ON tern_aliases TO tern_read;
--   GRANT SELECT, INSERT, UPDATE, DELETE ON tern_relay TO tern_read;
--   GRANT SELECT, UPDATE ON tern_relay_sweep TO tern_read;
--
-- control/pgsql-auth: tern-checkpassword (reads hashes, writes nothing).
--   CREATE ROLE tern_auth LOGIN PASSWORD '...';
--   GRANT SELECT (address, hash, maildir) ON tern_users TO tern_auth;
--
-- control/pgsql-admin: tern-passwd, tern-newusers, tern-pgmigrate -u -r.
--   CREATE ROLE tern_admin LOGIN PASSWORD '...';
--   GRANT SELECT, INSERT, UPDATE, DELETE ON tern_users, tern_aliases TO tern_admin;
--   GRANT SELECT, INSERT, UPDATE ON tern_relay TO tern_admin;
