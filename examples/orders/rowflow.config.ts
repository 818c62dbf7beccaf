// The example shop's rowflow config: its workflows (with their handlers and
// table attachments) and what `rowflow dev` does with it.
import { defineConfig } from "../../src/config/config.js";
import { orderCancellation } from "./cancellation.js";
import { orderDemo } from "./demo.js";
import { orderFulfilment } from "./fulfilment.js";

export default defineConfig({
  workflows: [orderFulfilment, orderCancellation],
  worker: { concurrency: 8 },
  dev: orderDemo,
});
