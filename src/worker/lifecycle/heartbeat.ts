/**
 * The heartbeat loop: records that this worker is alive and, on the same
 * timer, releases the jobs of workers that stopped heartbeating (crash
 * recovery within the heartbeat timeout instead of graphile-worker's 4 hours)
 * and applies the workflows' retention (one worker per minute does). Between
 * beats, a cheaper probe every `livenessIntervalMs` looks for workers whose
 * liveness lock is free (their connection closed: src/db/workers/session-lock.ts)
 * and releases them at once. docs/architecture.md, "Crash recovery".
 */
import type { Registration } from "../../db/workers/register-worker.js";
import type { SessionLock } from "../../db/workers/session-lock.js";
import type { WorkerRegistry } from "../../db/workers/worker-registry.js";
import type { Logger } from "../../definition/logger.js";

export interface HeartbeatOptions {
  registry: WorkerRegistry;
  registration: Registration;
  /** The worker's token (register_worker's answer). */
  token: string;
  intervalMs: number;
  timeoutMs: number;
  /** This worker's liveness lock, (re)taken on every beat; none behind a pooler. (Default: none) */
  lock?: SessionLock | undefined;
  /** How often to probe for workers whose liveness lock is free, in ms; 0: never. (Default: 0) */
  livenessIntervalMs?: number | undefined;
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
  let lockHeld: boolean | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  let probing: Promise<void> = Promise.resolve();

  const release = async (now: Date | null) => {
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
  };

  // The liveness lock, after a re-registration (a new row has no lock key).
  const holdLock = async () => {
    if (!options.lock) return;
    try {
      const held = await options.lock.hold();
      if (!held && lockHeld !== false) {
        options.logger.warn(
          "could not take this worker's liveness lock (another session holds its key): other workers will see it dead only after the heartbeat timeout",
        );
      } else if (held && lockHeld === false) {
        options.logger.info("liveness lock taken");
      }
      lockHeld = held;
    } catch (error) {
      if (lockHeld !== false) {
        options.logger.warn(
          `liveness lock: ${(error as Error).message}; retrying on the next heartbeat`,
        );
      }
      lockHeld = false;
    }
  };

  // Cheap: one call; the release runs only when some worker's lock is free.
  // Then a lost lock connection is made again, so that after a server
  // restart this worker is not taken for dead for a whole heartbeat interval
  // (after the release: a worker whose lock was free is dead to all, itself
  // included; with no row, hold() answers false and the next beat registers).
  const probe = async () => {
    try {
      const gone = (await options.registry.disconnectedWorkers?.()) ?? [];
      if (gone.length > 0) await release(options.now?.() ?? null);
      if (options.lock && !options.lock.connected) await options.lock.hold();
    } catch (error) {
      // The beat reports a database that is away; one line here per beat would repeat it.
      options.logger.debug(`liveness probe failed: ${(error as Error).message}`);
    }
  };

  const once = async () => {
    const now = options.now?.() ?? null;
    try {
      const { token } = options;
      const alive = await options.registry.heartbeat({ id: options.registration.id, now, token });
      if (!alive) {
        options.logger.warn(
          "this worker was declared dead (no heartbeat within the timeout, or its liveness-lock connection closed): its running steps are retried, their late results refused; registering again",
        );
        await options.registry.register({ ...options.registration, now, token });
      }
      await holdLock();
      await release(now);
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
  const scheduleProbe = () => {
    if (stopped || !options.livenessIntervalMs) return;
    probeTimer = setTimeout(() => {
      probing = probe().finally(scheduleProbe);
    }, options.livenessIntervalMs);
    probeTimer.unref();
  };
  scheduleProbe();

  return {
    beat: () => {
      current = current.then(once);
      return current;
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(probeTimer);
      await current;
      await probing;
    },
  };
}
