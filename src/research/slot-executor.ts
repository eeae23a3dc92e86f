import type { ExecutionRequest, ExecutionResult, Executor } from '../core/executor.ts';
import { chaosPoint } from '../study/chaos-point.ts';
import type { StudyTrials } from '../study/study-trials.ts';
import type { DeviceLease, DevicePool } from './device-pool.ts';

/** One place a trial can run: a name for the ledger, a worktree, and what the trial may see of the machine. */
export interface Slot {
  index: number;
  /** `slot-0`, `slot-1`, …; recorded on each trial. */
  name: string;
  worktree: string;
  /** Added to the trial's environment: the slot's devices and its name. */
  env: Record<string, string>;
}

/**
 * The environment that pins a trial to its devices: CUDA and ROCm read these
 * before any device is opened, so a trial sees only its own GPU(s).
 *
 * @example
 * deviceEnvironment('1'); // { CUDA_VISIBLE_DEVICES: '1', HIP_VISIBLE_DEVICES: '1', ROCR_VISIBLE_DEVICES: '1' }
 */
export function deviceEnvironment(devices: string): Record<string, string> {
  return { CUDA_VISIBLE_DEVICES: devices, HIP_VISIBLE_DEVICES: devices, ROCR_VISIBLE_DEVICES: devices };
}

/** The slots of a study: one per GPU when `gpus` is given, else `count` plain slots. */
export function makeSlots(worktreesDir: string, count: number, gpus?: readonly string[]): Slot[] {
  return Array.from({ length: count }, (_, index) => {
    const name = `slot-${index}`;
    const devices = gpus?.[index];
    return { index, name, worktree: `${worktreesDir}/${name}`, env: { STRATA_SLOT: String(index), ...(devices !== undefined ? deviceEnvironment(devices) : {}) } };
  });
}

/**
 * An executor as one slot sees it: the slot's environment is laid over the
 * trial's, and an external job id is written to the ledger the moment the
 * executor has one (that is what a restarted orchestrator re-attaches to).
 * With `pool`, the device is held per process, not per trial: the first run
 * uses `slot` and gives it back when the process (or job) ends, so the device
 * takes the next trial while this one is judged; any later run of the same
 * trial (a rerun the acceptance rule asks for while deciding) waits for a
 * device of its own.
 */
export function slotExecutor(
  inner: Executor,
  slot: Slot,
  trials: StudyTrials,
  hooks: { pool?: { devices: DevicePool; lease: DeviceLease | undefined; signal: AbortSignal } } = {},
): Executor {
  let first = true;
  return {
    kind: inner.kind,
    async run(request: ExecutionRequest): Promise<ExecutionResult> {
      const pool = hooks.pool;
      let lease: DeviceLease | undefined = pool?.lease;
      // A resumed decision starts without a device (no lease): each of its runs waits for one.
      if (pool && (!first || !lease)) lease = await pool.devices.acquire(pool.signal);
      first = false;
      if (pool && !lease) return { status: 'interrupted', exitCode: null, signal: null, wallMs: 0, peakRssKb: null, logTail: [], output: '' };
      const device = lease?.slot ?? slot;
      let result: ExecutionResult;
      try {
        result = await inner.run({
          ...request,
          env: { ...request.env, ...device.env },
          onExternalId: (externalId) => {
            trials.submitted(request.trialId, externalId);
            // The job id is in the ledger: a kill from here on must re-attach to the job, never submit it again.
            void chaosPoint('submitted');
            request.onExternalId?.(externalId);
          },
        });
      } finally {
        // Serial loop (no pool): the trial keeps its device until it is judged.
        if (pool && lease) pool.devices.release(lease);
      }
      return result;
    },
    ...(inner.isActive ? { isActive: inner.isActive.bind(inner) } : {}),
    ...(inner.cancel ? { cancel: inner.cancel.bind(inner) } : {}),
  };
}
