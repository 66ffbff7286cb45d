-- The assistant's PostgreSQL role and databases. Run once as the superuser (idempotent):
--
--   sudo -u postgres psql -v app_password="$(cat /etc/cchc/db-password)" \
--        -f deploy/postgres/setup.sql
--
-- * database "rasa": Rasa's SQLTrackerStore (conversations). Rasa creates its table "events"
--   itself at start-up, with the index ix_events_sender_id on sender_id (rasa 3.6.21,
--   rasa/core/tracker_store.py: sender_id = Column(String(255), index=True)); every turn
--   reads one conversation by sender_id, so that index is what keeps a turn fast.
-- * database "cchc": the question log (knowledge/question_log.py creates its table
--   "questions" on first use, KB_QUESTION_LOG=postgresql://cchc:…@HOST/cchc).
-- Both belong to the unprivileged role "cchc" (no superuser, no createdb).
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE cchc LOGIN PASSWORD %L', :'app_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cchc') \gexec
SELECT format('ALTER ROLE cchc LOGIN PASSWORD %L', :'app_password') \gexec

SELECT 'CREATE DATABASE rasa OWNER cchc ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'rasa') \gexec
SELECT 'CREATE DATABASE cchc OWNER cchc ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'cchc') \gexec

REVOKE ALL ON DATABASE rasa FROM PUBLIC;
REVOKE ALL ON DATABASE cchc FROM PUBLIC;
