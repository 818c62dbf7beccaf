/**
 * The heartbeat loop: records that this worker is alive and, on the same
 * timer, releases the jobs of workers that stopped heartbeating (crash
 * recovery within the heartbeat timeout instead of graphile-worker's 4 hours)
 * and applies the workflows' retention (one worker per minute does).
 */
import type { Registration } from "../../db/workers/register-worker.js";
import type { WorkerRegistry } from "../../db/workers/worker-registry.js";
import type { Logger } from "../../definition/logger.js";

export interface HeartbeatOptions {
  registry: WorkerRegistry;
  registration: Registration;
  /** The worker's token (register_worker's answer). */
  token: string;
  intervalMs: number;
  timeoutMs: number;
  logger: Logger;
  now: (() => Date) | undefined;
  /** Called with the ids of dead workers whose jobs were just released. */
  onReleased: (ids: string[]) => void;
  /** Called on every beat (refreshes this worker's waiter row). Errors are logged by the callee. (Default: none) */
  onBeat?: () => Promise<void> | undefined;
}

/** A running heartbeat loop. */
export interface Heartbeat {
  /** One beat now: heartbeat + release dead workers. Errors are logged, not thrown. */
  beat(): Promise<void>;
  /** Stops the loop and waits for a beat in progress. */
  stop(): Promise<void>;
}

/** Starts beating every `intervalMs` (the first beat is the caller's `beat()`). */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let failing = false;

  const once = async () => {
    const now = options.now?.() ?? null;
    try {
      const { token } = options;
      const alive = await options.registry.heartbeat({ id: options.registration.id, now, token });
      if (!alive) {
        options.logger.warn(
          "this worker was declared dead by another worker (no heartbeat for longer than the timeout); registering again",
        );
        await options.registry.register({ ...options.registration, now, token });
      }
      const released = await options.registry.releaseDeadWorkers({
        timeoutMs: options.timeoutMs,
        now,
      });
      if (released.length > 0) {
        options.logger.warn(
          `released the jobs of ${released.length} dead worker(s): ${released.join(", ")}`,
        );
        options.onReleased(released);
      }
      // Retention: the one worker per period that claims it purges; the others answer at once.
      const retention = await options.registry.applyRetention?.({
        workerId: options.registration.id,
        now,
      });
      if (retention?.deleted) {
        options.logger.info(
          `retention: purged ${retention.deleted} finished run(s) (${Object.entries(
            retention.workflows ?? {},
          )
            .map(([workflow, n]) => `${workflow} ${n}`)
            .join(", ")})`,
        );
      }
      await options.onBeat?.();
      if (failing) options.logger.info("heartbeat recovered");
      failing = false;
    } catch (error) {
      // One line per failed beat: a database restart shows up here and heals itself.
      options.logger.warn(`heartbeat failed: ${(error as Error).message}`);
      failing = true;
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = once().finally(schedule);
    }, options.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    beat: () => {
      current = current.then(once);
      return current;
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
