// Keeps the README true: a code block marked `<!-- from: path -->` must be that
// file, verbatim (the files are run by test/e2e/tour.test.ts and
// sql-only.test.ts); every other block is shell, and its commands must exist.
// The docs' marked blocks are checked the same way (docs/examples/ is
// compiled by npm run typecheck).
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";

import { describe, expect, it } from "vitest";

import { runCli } from "../helpers/run-cli.js";

const root = new URL("../../", import.meta.url);
const readme = await readFile(new URL("README.md", root), "utf8");
const pkg = JSON.parse(await readFile(new URL("package.json", root), "utf8")) as {
  scripts: Record<string, string>;
};

interface Block {
  from: string | undefined;
  lang: string;
  body: string;
}

const blocksOf = (text: string): Block[] =>
  [...text.matchAll(/(?:<!-- from: (\S+) -->\n\n?)?```(\w*)\n([\s\S]*?)```/g)].map((m) => ({
    from: m[1],
    lang: m[2] ?? "",
    body: m[3] ?? "",
  }));
const blocks = blocksOf(readme);
const docs = (await readdir(new URL("docs/", root))).filter((f) => f.endsWith(".md"));
const docBlocks = (
  await Promise.all(
    docs.map(async (doc) => blocksOf(await readFile(new URL(`docs/${doc}`, root), "utf8"))),
  )
)
  .flat()
  .filter((b) => b.from);

describe("README", () => {
  it("has code blocks", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
  });

  it.each(blocks.filter((b) => b.from).map((b) => [b.from as string, b] as const))(
    "block from %s is that file, verbatim",
    async (file, block) => {
      expect(await readFile(new URL(file, root), "utf8")).toBe(block.body);
    },
  );

  it("has no unmarked block other than shell commands", () => {
    expect(blocks.filter((b) => !b.from && b.lang !== "sh").map((b) => b.body)).toEqual([]);
  });

  it("names only npm scripts, rowflow commands and files that exist", async () => {
    const { stdout } = await runCli(["--help"]);
    const commands = [...stdout.matchAll(/^ {2}([a-z-]+)(?: \[options\])?/gm)].map((m) => m[1]);
    for (const block of blocks.filter((b) => b.lang === "sh")) {
      for (const line of block.body.split("\n").map((l) => l.replace(/#.*/, "").trim())) {
        for (const m of line.matchAll(/npm run ([a-z:-]+)/g))
          expect(pkg.scripts).toHaveProperty([m[1] as string]);
        for (const m of line.matchAll(/npx rowflow ([a-z-]+)/g)) expect(commands).toContain(m[1]);
        for (const m of line.matchAll(/--config (\S+)/g))
          expect(existsSync(new URL(m[1] as string, root))).toBe(true);
      }
    }
    for (const m of readme.matchAll(/\]\(((?:docs|examples)\/[^)]+)\)/g)) {
      expect(existsSync(new URL(m[1] as string, root)), m[1]).toBe(true);
    }
  });
});

describe("docs", () => {
  it("have marked blocks", () => {
    expect(docBlocks.length).toBeGreaterThanOrEqual(5);
  });

  it.each(docBlocks.map((b) => [b.from as string, b] as const))(
    "block from %s is that file, verbatim",
    async (file, block) => {
      expect(await readFile(new URL(file, root), "utf8")).toBe(block.body);
    },
  );
});
