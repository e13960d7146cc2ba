import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export const TEST_SECRETS = {
  ADMIN_TOKEN: "test-admin-token",
  INTAKE_TOKEN: "test-intake-token",
  // base64 of 32 bytes; tests only.
  ENCRYPTION_KEY: "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy1sbmc=",
};

// The browser and script tests run in Node (vitest.node.config.ts).
const EXCLUDED = ["test/browser/**", "test/scripts/**"];

/** Test files that read lists across everything stored, so need a database of their own. */
const FRESH_DATABASE = [
  "test/storage/key-ranges.test.ts",
  "test/storage/ids.test.ts",
  "test/routing/channel-filters.test.ts",
  "test/paging/cursors.test.ts",
  "test/intake/connection.test.ts",
  "test/events/search.test.ts",
  "test/events/list.test.ts",
  "test/delivery/end-to-end.test.ts",
  "test/delivery-api/search.test.ts",
  "test/security/secrets.test.ts",
];

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          // A database of its own for the migration test, which starts from an older schema,
          // and one filled with a month of traffic for the rows-read test.
          d1Databases: { MIGRATION_DB: "migration-test", FILLED_DB: "filled-test" },
          bindings: {
            ...TEST_SECRETS,
            TEST_MIGRATIONS: migrations,
            // The tests' targets are local servers.
            ALLOW_PRIVATE_TARGETS: "true",
          },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup.ts"],
      globalSetup: ["./test/receiver.ts", "./test/integration-targets.ts"],
      testTimeout: 30_000,
      // The worker logs failed attempts and errors, some on purpose here: show them only where a test failed.
      silent: "passed-only" as const,
      // Starting a runtime for each file costs about 2 s, most of this suite's time: files
      // that read only what they made share one runtime and its database; those that read
      // whole lists (every event, every channel's deliveries) get a fresh one each.
      projects: [
        { extends: true as const, test: { name: "fresh-database", include: FRESH_DATABASE } },
        { extends: true as const, test: { name: "shared", include: ["test/**/*.test.ts"], exclude: [...EXCLUDED, ...FRESH_DATABASE], isolate: false } },
      ],
    },
  };
});
