--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: rowflow; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA rowflow;

--
-- Name: SCHEMA rowflow; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA rowflow IS 'rowflow: database-centric workflow orchestration';

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: migrations; Type: TABLE; Schema: rowflow; Owner: -
--

CREATE TABLE rowflow.migrations (
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT checksum_is_sha256 CHECK ((checksum ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT name_is_valid CHECK ((name ~ '^\d{6}_[a-z0-9_]+\.sql$'::text))
);

--
-- Name: migrations migrations_pkey; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.migrations
    ADD CONSTRAINT migrations_pkey PRIMARY KEY (name);

--
-- PostgreSQL database dump complete
--

