import { readFile } from "node:fs/promises";

import { describe, expect, it } from "vitest";
import { parse } from "yaml";

interface Service {
  image?: string;
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string }>;
  command?: string;
  volumes?: string[];
}

const root = new URL("../../", import.meta.url);
const compose = parse(await readFile(new URL("docker-compose.yml", root), "utf8")) as {
  services: Record<string, Service>;
};
const readme = await readFile(new URL("README.md", root), "utf8");

describe("docker-compose.yml", () => {
  const { postgres, worker } = compose.services;

  it("has a postgres service with a healthcheck and a data volume", () => {
    expect(postgres?.image).toMatch(/^postgres:15/);
    expect(postgres?.healthcheck?.test?.join(" ")).toContain("pg_isready");
    expect(postgres?.volumes).toContain("pgdata:/var/lib/postgresql/data");
  });

  it("starts the worker only once the database is healthy, migrating first", () => {
    expect(worker?.depends_on?.postgres?.condition).toBe("service_healthy");
    expect(worker?.command).toMatch(/rowflow\.js migrate && exec node bin\/rowflow\.js worker"?$/);
  });

  it("publishes the port and credentials the README tells people to use", () => {
    const [hostPort] = (postgres?.ports?.[0] ?? "").split(":");
    const env = postgres?.environment ?? {};
    const url = `postgres://${env.POSTGRES_USER}:${env.POSTGRES_PASSWORD}@localhost:${hostPort}/${env.POSTGRES_DB}`;
    expect(readme).toContain(url);
    expect(worker?.environment?.DATABASE_URL).toBe(
      `postgres://${env.POSTGRES_USER}:${env.POSTGRES_PASSWORD}@postgres:5432/${env.POSTGRES_DB}`,
    );
  });
});
