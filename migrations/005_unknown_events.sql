-- Events for an execution this database does not know (a database restored
-- from an older backup, a second server under the same NOETL_DEPLOYMENT with
-- another database, a forged event). The supervisor never applies them and
-- never drops them silently: it keeps each here, as it came, and logs an error
-- naming its event id. `payload` is the event's JSON as text, so any event can
-- be kept (jsonb refuses some strings text accepts once JSON-escaped).

CREATE TABLE unknown_events (
  event_id text PRIMARY KEY,
  execution_id text NOT NULL,
  subject text NOT NULL,
  type text,
  payload text NOT NULL,
  deliveries integer NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unknown_events_execution ON unknown_events (execution_id);
