import { FormatError, type NamedTensors } from '@bigr/core';
import { OFFICIAL_SCHEDULER_PREFIX, officialScheduleBuffers, type ScheduleBuffers } from '@bigr/transcoder';

/** Names of the official scheduler buffers (`diffusion_processor.scheduler.*`, docs/algorithm.md §10.1). */
export const SCHEDULER_BUFFERS = ['k_final', 'b_final', 'beta', 'cumbeta'] as const;

/** Largest accepted |stored − recomputed| of a scheduler buffer (float32 rounding of the torch recursion). */
export const SCHEDULE_TOLERANCE = 1e-6;

/**
 * Checks the scheduler buffers present in `tensors` against the 'linear' schedule recomputed for T steps
 * (docs/algorithm.md §4.1: k_t = 1 − t/T, b_t = t/2T, β̄_t = 1 − 1/(T−t+1), cumbeta = running product). Our sampler
 * recomputes the schedule, so a checkpoint whose buffers differ (another schedule type, or corruption) would be
 * sampled wrongly: that is a {@link FormatError} naming the buffer, the first bad index and both values.
 * Returns the names that were checked.
 */
export function verifyScheduleBuffers(tensors: NamedTensors, T: number, source: string): string[] {
  const expected: ScheduleBuffers = officialScheduleBuffers(T);
  const checked: string[] = [];
  for (const name of SCHEDULER_BUFFERS) {
    const key = `${OFFICIAL_SCHEDULER_PREFIX}.${name}`;
    const got = tensors.get(key);
    if (!got) continue;
    const want = expected[name];
    if (got.size !== want.length) {
      throw new FormatError(
        `${source}: ${key} has ${got.size} entries but T = ${T} needs ${want.length}. The scheduler buffers are inconsistent; re-export the checkpoint.`,
      );
    }
    const data = got.data;
    for (const [i, w] of want.entries()) {
      const v = Number(data[i]);
      if (!(Math.abs(v - w) <= SCHEDULE_TOLERANCE)) {
        throw new FormatError(
          `${source}: ${key}[${i}] is ${v} but the linear Bernoulli schedule with T = ${T} gives ${w} (docs/algorithm.md §4.1). ` +
            "Only the released 'linear' schedule is supported; this checkpoint uses another schedule or is corrupt.",
        );
      }
    }
    checked.push(key);
  }
  return checked;
}
