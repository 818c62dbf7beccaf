// Child process: drains diamond workflows (a, then b and c concurrently, then
// d: four no-op steps) enqueued by the parent on a DBOS queue with the bench's
// concurrency (children/dbos.ts). DBOS checkpoints each step's result in its
// system database, so the diamond is durable: a recovered workflow skips the
// steps already recorded. Counts every step execution; prints
// { executed, firstToLastMs, maxRssMb } after `count` of them.
import { DBOS } from "@dbos-inc/dbos-sdk";

import { dbosSettings } from "../peer-settings.js";
import { countdown } from "./countdown.js";
import { launchDbos } from "./dbos.js";

const [url, countArg, concurrencyArg] = process.argv.slice(2);
const counter = countdown(Number(countArg));
const step = async () => counter.tick();

async function diamond(_input: { run: number }): Promise<void> {
  await DBOS.runStep(step, { name: "a" });
  await Promise.all([DBOS.runStep(step, { name: "b" }), DBOS.runStep(step, { name: "c" })]);
  await DBOS.runStep(step, { name: "d" });
}
DBOS.registerWorkflow(diamond, { name: dbosSettings.diamondWorkflow });

const stop = await launchDbos(url as string, Number(concurrencyArg));
await counter.done;
await stop();
process.stdout.write(`${JSON.stringify(counter.result())}\n`);
process.exit(0);
