import { defineConfig } from "vitest/config";

// The admin UI in a real browser, against a real `wrangler dev`: runs in Node.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
