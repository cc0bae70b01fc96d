-- Run once by the postgres image, when its data volume is empty
-- (docker-entrypoint-initdb.d). One database per service (docs/architecture.md,
-- "Data"): "search" holds the read model that search and indexer share when
-- SEARCH_ENGINE=sql; "mailer" the mailer's delivery records. "user" is a
-- reserved word, hence the quotes. The compose healthcheck waits for the last
-- one created.
CREATE DATABASE "user";
CREATE DATABASE post;
CREATE DATABASE comment;
CREATE DATABASE search;
-- The thumbnailer's work in progress: its work queue and attempts. A
-- volume created before it existed needs: CREATE DATABASE thumbnailer;
CREATE DATABASE thumbnailer;
-- The mailer's delivery records (one per mail event). A volume created
-- before it existed needs: CREATE DATABASE mailer;
CREATE DATABASE mailer;
