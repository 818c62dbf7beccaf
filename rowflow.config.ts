// The config `rowflow dev` and `rowflow worker` load from the repository root:
// the example shop in examples/orders. Point --config elsewhere for your app.
export { default } from "./examples/orders/rowflow.config.js";
