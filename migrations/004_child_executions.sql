-- Sub-playbooks: a child execution knows the parent step that started it, so
-- its outcome goes back to that step and a cancellation reaches it.

ALTER TABLE executions ADD COLUMN parent_id text REFERENCES executions(id);
-- The parent's command (step, attempt, run, item) the child answers.
ALTER TABLE executions ADD COLUMN parent_command jsonb;
CREATE INDEX executions_parent ON executions (parent_id) WHERE parent_id IS NOT NULL;
