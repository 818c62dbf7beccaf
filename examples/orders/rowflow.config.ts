// The example shop's rowflow config: its workflows (with their handlers and
// table attachments), its schedule, and what `rowflow dev` does with it.
import { defineConfig } from "../../src/config/config.js";
import { orderCancellation } from "./cancellation.js";
import { orderDemo } from "./demo.js";
import { orderFulfilment } from "./fulfilment.js";
import { salesReport, salesReportSchedule } from "./report.js";

export default defineConfig({
  workflows: [orderFulfilment, orderCancellation, salesReport],
  schedules: [salesReportSchedule],
  worker: { concurrency: 8 },
  dev: orderDemo,
});
