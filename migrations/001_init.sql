-- The catalog, executions and their append-only event log, artifacts, and the
-- quality history of every product build.

CREATE TABLE domains (
  name        text PRIMARY KEY,
  description text,
  owners      jsonb NOT NULL DEFAULT '[]',
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
  id                         text PRIMARY KEY,
  domain                     text NOT NULL REFERENCES domains(name),
  name                       text NOT NULL,
  description                text,
  owners                     jsonb NOT NULL DEFAULT '[]',
  status                     text NOT NULL,
  contract_version           text NOT NULL,
  current_materialization_id text,
  updated_at                 timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contract_versions (
  product_id text NOT NULL REFERENCES products(id),
  version    text NOT NULL,
  sha256     text NOT NULL,
  body       jsonb NOT NULL,
  source     text NOT NULL,
  file       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (product_id, version)
);

CREATE TABLE playbooks (
  ref         text PRIMARY KEY,
  domain      text NOT NULL REFERENCES domains(name),
  name        text NOT NULL,
  description text,
  current_sha text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE playbook_versions (
  ref        text NOT NULL REFERENCES playbooks(ref),
  sha256     text NOT NULL,
  source     text NOT NULL,
  file       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ref, sha256)
);

CREATE TABLE executions (
  id           text PRIMARY KEY,
  playbook_ref text NOT NULL,
  playbook_sha text NOT NULL,
  status       text NOT NULL,
  workload     jsonb NOT NULL,
  error        jsonb,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX executions_playbook ON executions (playbook_ref, started_at DESC);

-- Append-only: an event, once written, is never changed (enforced below).
CREATE TABLE events (
  seq          bigserial PRIMARY KEY,
  event_id     text NOT NULL UNIQUE,
  execution_id text NOT NULL REFERENCES executions(id),
  type         text NOT NULL,
  step         text,
  payload      jsonb NOT NULL,
  at           timestamptz NOT NULL
);
CREATE INDEX events_execution ON events (execution_id, seq);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the event log is append-only';
END
$$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_append_only();

CREATE TABLE artifacts (
  uri          text PRIMARY KEY,
  execution_id text NOT NULL REFERENCES executions(id),
  step         text NOT NULL,
  format       text NOT NULL,
  schema       jsonb NOT NULL,
  rows         bigint NOT NULL,
  bytes        bigint NOT NULL,
  sha256       text NOT NULL,
  state        text NOT NULL CHECK (state IN ('staged', 'published')),
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE materializations (
  id               text PRIMARY KEY,
  product_id       text NOT NULL REFERENCES products(id),
  execution_id     text NOT NULL REFERENCES executions(id),
  step             text NOT NULL,
  contract_version text NOT NULL,
  artifact_uri     text NOT NULL,
  status           text NOT NULL CHECK (status IN ('published', 'rejected')),
  rows             bigint NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX materializations_product ON materializations (product_id, created_at DESC);

CREATE TABLE quality_results (
  id                 bigserial PRIMARY KEY,
  materialization_id text NOT NULL REFERENCES materializations(id),
  product_id         text NOT NULL REFERENCES products(id),
  check_id           text NOT NULL,
  title              text NOT NULL,
  column_name        text,
  severity           text NOT NULL,
  passed             boolean NOT NULL,
  observed           double precision,
  expected           text NOT NULL,
  extras             jsonb NOT NULL DEFAULT '{}',
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quality_results_product ON quality_results (product_id, check_id, created_at DESC);
