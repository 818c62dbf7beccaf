/**
 * Writes docs/spec.schema.json, the JSON Schema of a workflow spec, generated
 * from the zod schema in src/definition/. Run `npx tsx scripts/gen-spec-schema.ts`
 * after changing the schema; test/definition/spec-json-schema.test.ts fails when
 * the committed file is stale.
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

import { renderSpecJsonSchema } from "../src/definition/spec-json-schema.js";

/** Where the schema is committed. */
export const SPEC_SCHEMA_PATH = fileURLToPath(new URL("../docs/spec.schema.json", import.meta.url));

async function main(): Promise<void> {
  await writeFile(SPEC_SCHEMA_PATH, await renderSpecJsonSchema());
  console.log(`wrote ${SPEC_SCHEMA_PATH}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
