-- OpenLineage run events as received, and the dataset graph derived from them.

CREATE TABLE lineage_events (
  id         bigserial PRIMARY KEY,
  run_id     text NOT NULL,
  event_type text NOT NULL,
  job_namespace text NOT NULL,
  job_name   text NOT NULL,
  event_time timestamptz NOT NULL,
  event      jsonb NOT NULL
);
CREATE INDEX lineage_events_run ON lineage_events (run_id);
CREATE INDEX lineage_events_job ON lineage_events (job_namespace, job_name, event_time DESC);

-- One row per input dataset → job → output dataset, maintained as runs complete.
CREATE TABLE lineage_edges (
  src_namespace text NOT NULL,
  src_name      text NOT NULL,
  job_namespace text NOT NULL,
  job_name      text NOT NULL,
  dst_namespace text NOT NULL,
  dst_name      text NOT NULL,
  first_seen    timestamptz NOT NULL,
  last_seen     timestamptz NOT NULL,
  PRIMARY KEY (src_namespace, src_name, job_namespace, job_name, dst_namespace, dst_name)
);
CREATE INDEX lineage_edges_dst ON lineage_edges (dst_namespace, dst_name);
