import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Ledger } from '../../ledger/ledger.ts';
import type { StudyRecord } from '../../ledger/records.ts';
import { openLedgerForOversight, studyNamed } from '../../oversight/control-request.ts';
import { ledgerPathFor } from '../../workspace/state-dir.ts';
import { loadConfig } from '../load-config.ts';

/** Where an oversight command acts: the config's study (or --study NAME) in the repository's ledger. */
export interface OversightTargetOptions {
  config: string;
  cwd: string;
  study?: string;
}

/** Open the ledger for writing and find the study; the caller closes the ledger. */
export function openOversightTarget(options: OversightTargetOptions): { ledger: Ledger; study: StudyRecord; configPath: string } {
  const configPath = resolve(options.cwd, options.config);
  const ledgerPath = ledgerPathFor(options.study === undefined || existsSync(configPath) ? dirname(configPath) : options.cwd);
  const name = options.study ?? loadConfig(options.config, options.cwd).config.name;
  const ledger = openLedgerForOversight(ledgerPath);
  try {
    return { ledger, study: studyNamed(ledger, name), configPath };
  } catch (error) {
    ledger.close();
    throw error;
  }
}
