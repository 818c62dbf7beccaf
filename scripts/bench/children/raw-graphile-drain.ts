// Child process: drains `count` no-op jobs with plain graphile-worker and prints
// one JSON line { executed, firstToLastMs, maxRssMb } on stdout.
import { countdown } from "./countdown.js";
import { runRawGraphile } from "./raw-graphile.js";

const [url, countArg, concurrencyArg, localQueueArg] = process.argv.slice(2);
const counter = countdown(Number(countArg));
const runner = await runRawGraphile(url as string, Number(concurrencyArg), Number(localQueueArg), {
  noop: async () => counter.tick(),
});
await counter.done;
await runner.stop();
process.stdout.write(`${JSON.stringify(counter.result())}\n`);
process.exit(0);
