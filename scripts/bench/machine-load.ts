// The machine's load around each measured part (these machines are shared
// and noisy): the 1-minute load average and the CPU idle share over a short
// window just before the part starts (when nothing of the bench runs: set-up
// is done, the part has not begun), and the CPU idle share during it. A rep
// is marked disturbed when, before it, less than `idleThreshold` of the CPU
// was idle: something outside the bench was running. The load average is
// recorded too but not used for the decision: it lags, and includes the
// bench's own previous reps.
import { readFile } from "node:fs/promises";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";

/** The load around one measured part. */
export interface MachineLoad {
  /** 1-minute load average when the part started. */
  load1: number;
  /** % of CPU time idle in the window before the part. */
  idleBefore: number;
  /** % of CPU time idle during the part (null if /proc/stat is unreadable). */
  idleDuring: number | null;
  /** Too little idle CPU before the part: another process was busy. */
  disturbed: boolean;
}

/** Idle share below which the machine counts as busy before a part, in %. */
export const idleThreshold = 85;
const windowMs = 500;

interface CpuTimes {
  idle: number;
  total: number;
}

async function cpuTimes(): Promise<CpuTimes | undefined> {
  try {
    const line = (await readFile("/proc/stat", "utf8")).split("\n")[0] ?? "";
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return { idle: (fields[3] ?? 0) + (fields[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

function idleShare(from: CpuTimes | undefined, to: CpuTimes | undefined): number | null {
  if (!from || !to || to.total <= from.total) return null;
  return (100 * (to.idle - from.idle)) / (to.total - from.total);
}

/** Measures `fn` with the machine's load around it. */
export async function withMachineLoad<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; load: MachineLoad }> {
  const a = await cpuTimes();
  await sleep(windowMs);
  const b = await cpuTimes();
  const idleBefore = idleShare(a, b);
  const load1 = os.loadavg()[0] ?? 0;
  const result = await fn();
  const c = await cpuTimes();
  return {
    result,
    load: {
      load1,
      idleBefore: idleBefore ?? 100,
      idleDuring: idleShare(b, c),
      disturbed: idleBefore !== null && idleBefore < idleThreshold,
    },
  };
}
