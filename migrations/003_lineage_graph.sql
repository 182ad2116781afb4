-- The lineage graph as nodes and edges, kept up to date as OpenLineage events
-- arrive (from noetl's own runs and from any other producer), and idempotent
-- ingestion: an event is stored once however often it is sent.

ALTER TABLE lineage_events ADD COLUMN event_key text;
ALTER TABLE lineage_events ADD COLUMN producer text;
CREATE UNIQUE INDEX lineage_events_key ON lineage_events (event_key);

CREATE TABLE lineage_datasets (
  namespace  text NOT NULL,
  name       text NOT NULL,
  facets     jsonb NOT NULL DEFAULT '{}',
  first_seen timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL,
  PRIMARY KEY (namespace, name)
);

CREATE TABLE lineage_jobs (
  namespace  text NOT NULL,
  name       text NOT NULL,
  facets     jsonb NOT NULL DEFAULT '{}',
  first_seen timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL,
  PRIMARY KEY (namespace, name)
);

CREATE INDEX lineage_edges_src ON lineage_edges (src_namespace, src_name);

-- Column edges: output column ← input column, with how it was derived
-- (DIRECT/IDENTITY, DIRECT/TRANSFORMATION, DIRECT/AGGREGATION, INDIRECT/JOIN, ...).
CREATE TABLE lineage_column_edges (
  src_namespace  text NOT NULL,
  src_name       text NOT NULL,
  src_column     text NOT NULL,
  job_namespace  text NOT NULL,
  job_name       text NOT NULL,
  dst_namespace  text NOT NULL,
  dst_name       text NOT NULL,
  dst_column     text NOT NULL,
  transformation text NOT NULL,
  first_seen     timestamptz NOT NULL,
  last_seen      timestamptz NOT NULL,
  PRIMARY KEY (src_namespace, src_name, src_column, job_namespace, job_name, dst_namespace, dst_name, dst_column, transformation)
);
CREATE INDEX lineage_column_edges_dst ON lineage_column_edges (dst_namespace, dst_name, dst_column);
CREATE INDEX lineage_column_edges_src ON lineage_column_edges (src_namespace, src_name, src_column);
