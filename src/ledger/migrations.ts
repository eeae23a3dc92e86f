/**
 * Ordered schema migrations. Append only: never edit a migration that has
 * shipped; add a new one. Each runs in a transaction and is recorded in
 * `schema_migrations`.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'core',
    sql: `
CREATE TABLE studies (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  kind          TEXT NOT NULL CHECK (kind IN ('research', 'evolve', 'pipeline')),
  state         TEXT NOT NULL CHECK (state IN ('running', 'paused', 'done', 'failed')),
  config_json   TEXT NOT NULL,
  config_hash   TEXT NOT NULL,
  branch        TEXT,
  base_commit   TEXT,
  best_trial_id INTEGER,
  best_candidate_id INTEGER,
  owner_pid     INTEGER,
  owner_host    TEXT,
  heartbeat_at  TEXT,
  stop_reason   TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

-- What is judged: a git commit (research) or a map of named texts (evolve).
CREATE TABLE candidates (
  id              INTEGER PRIMARY KEY,
  study_id        INTEGER NOT NULL REFERENCES studies(id),
  idx             INTEGER NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('commit', 'text')),
  commit_sha      TEXT,
  parent_ids_json TEXT NOT NULL DEFAULT '[]',
  components_json TEXT,
  params_json     TEXT,
  content_hash    TEXT NOT NULL,
  description     TEXT,
  proposer        TEXT,
  diff            TEXT,
  meta_json       TEXT,
  created_at      TEXT NOT NULL,
  UNIQUE (study_id, idx)
);
CREATE INDEX candidates_by_hash ON candidates (study_id, content_hash);

-- One evaluation of a candidate on an executor slot.
CREATE TABLE trials (
  id               INTEGER PRIMARY KEY,
  study_id         INTEGER NOT NULL REFERENCES studies(id),
  seq              INTEGER NOT NULL,
  candidate_id     INTEGER REFERENCES candidates(id),
  role             TEXT NOT NULL DEFAULT 'candidate',
  related_trial_id INTEGER REFERENCES trials(id),
  parent_commit    TEXT,
  candidate_commit TEXT,
  kept_commit      TEXT,
  proposer         TEXT NOT NULL,
  description      TEXT NOT NULL DEFAULT '',
  diff             TEXT,
  params_json      TEXT,
  params_key       TEXT,
  status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'keep', 'discard', 'crash', 'timeout', 'invalid', 'interrupted')),
  status_reason    TEXT,
  metrics_json     TEXT,
  metric           REAL,
  best_before      REAL,
  exit_code        INTEGER,
  signal           TEXT,
  executor         TEXT NOT NULL DEFAULT 'local',
  slot             TEXT,
  external_id      TEXT,
  budget_ms        INTEGER,
  seed             INTEGER,
  worktree         TEXT,
  log_path         TEXT,
  log_tail         TEXT,
  peak_rss_kb      INTEGER,
  wall_ms          INTEGER,
  attempt          INTEGER NOT NULL DEFAULT 1,
  meta_json        TEXT,
  queued_at        TEXT NOT NULL,
  started_at       TEXT,
  ended_at         TEXT,
  UNIQUE (study_id, seq)
);
CREATE INDEX trials_by_status ON trials (study_id, status);

-- Per-example scores (evolve) and any other fine-grained evaluation.
CREATE TABLE evaluations (
  id                INTEGER PRIMARY KEY,
  study_id          INTEGER NOT NULL REFERENCES studies(id),
  candidate_id      INTEGER REFERENCES candidates(id),
  cache_key         TEXT NOT NULL,
  split             TEXT NOT NULL,
  example_id        TEXT NOT NULL,
  evaluator_version TEXT NOT NULL DEFAULT '',
  score             REAL NOT NULL,
  objectives_json   TEXT,
  feedback          TEXT,
  trace_json        TEXT,
  created_at        TEXT NOT NULL
);
CREATE INDEX evaluations_by_candidate ON evaluations (study_id, candidate_id, split);
CREATE UNIQUE INDEX evaluations_by_key ON evaluations (study_id, cache_key);

-- Every model call, with what it cost.
CREATE TABLE llm_calls (
  id            INTEGER PRIMARY KEY,
  study_id      INTEGER REFERENCES studies(id),
  trial_id      INTEGER REFERENCES trials(id),
  candidate_id  INTEGER REFERENCES candidates(id),
  role          TEXT NOT NULL,
  model         TEXT NOT NULL,
  input_tokens  INTEGER,
  output_tokens INTEGER,
  usd           REAL,
  reserved_usd  REAL,
  latency_ms    INTEGER,
  finish_reason TEXT,
  error         TEXT,
  request_json  TEXT,
  response_text TEXT,
  created_at    TEXT NOT NULL
);
CREATE INDEX llm_calls_by_study ON llm_calls (study_id);

-- Append-only: every transition is written here in the same transaction as the
-- state tables, so the state can be rebuilt and audited from events alone.
CREATE TABLE events (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  study_id     INTEGER REFERENCES studies(id),
  trial_id     INTEGER,
  type         TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  created_at   TEXT NOT NULL
);
CREATE INDEX events_by_study ON events (study_id, id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
`,
  },
  {
    version: 2,
    name: 'holdout results',
    sql: `
-- The sealed holdout: one result per trial that became the best. Kept apart from
-- trials so that nothing that reads trials for a proposer can ever see it.
CREATE TABLE holdout_results (
  trial_id     INTEGER PRIMARY KEY REFERENCES trials(id),
  study_id     INTEGER NOT NULL REFERENCES studies(id),
  status       TEXT NOT NULL CHECK (status IN ('measured', 'crash', 'timeout', 'invalid', 'interrupted')),
  metric       REAL,
  metrics_json TEXT,
  reason       TEXT,
  wall_ms      INTEGER,
  log_path     TEXT,
  created_at   TEXT NOT NULL
);
CREATE INDEX holdout_results_by_study ON holdout_results (study_id);
`,
  },
  {
    version: 3,
    name: 'typed causes, retries and measured trials',
    sql: `
-- Why a trial ended (a TrialCause), as a fact decisions test instead of a reason string; NULL on rows written
-- before causes were recorded (records.ts derives theirs once, from the reasons those versions wrote).
ALTER TABLE trials ADD COLUMN cause TEXT;
-- The interrupted trial this one is a new attempt of (related_trial_id says what a trial measures or derives from).
ALTER TABLE trials ADD COLUMN retry_of INTEGER REFERENCES trials(id);
-- When a live trial's run was measured: its decision is pending, and resumes after a stop.
ALTER TABLE trials ADD COLUMN measured_at TEXT;
-- Why a study stopped (a StudyStopCause).
ALTER TABLE studies ADD COLUMN stop_cause TEXT;
`,
  },
];
