import { STALE_OWNER_MS } from '../../ledger/ledger.ts';
import type { StudyRecord } from '../../ledger/records.ts';

/** What every study page shows at the top. */
export interface StudyHeader {
  id: number;
  name: string;
  kind: string;
  state: string;
  stop_reason: string | null;
  branch: string | null;
  base_commit: string | null;
  created_at: string;
  updated_at: string;
  heartbeat_at: string | null;
  owner_host: string | null;
  /** `running` in the ledger but no heartbeat for a while: the orchestrator is probably gone. */
  stale: boolean;
}

/** The header fields of a study; `now` decides whether a running study's heartbeat is stale. */
export function studyHeader(study: StudyRecord, now = Date.now()): StudyHeader {
  const beat = study.heartbeatAt === null ? null : Date.parse(study.heartbeatAt);
  return {
    id: study.id,
    name: study.name,
    kind: study.kind,
    state: study.state,
    stop_reason: study.stopReason,
    branch: study.branch,
    base_commit: study.baseCommit,
    created_at: study.createdAt,
    updated_at: study.updatedAt,
    heartbeat_at: study.heartbeatAt,
    owner_host: study.ownerHost,
    stale: study.state === 'running' && (beat === null || now - beat > STALE_OWNER_MS),
  };
}
