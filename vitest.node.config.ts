import { defineConfig } from "vitest/config";

// What runs in Node rather than the Workers runtime: the admin UI in a real browser
// against a real `wrangler dev`, and the scripts (deploy) against a stand-in wrangler.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts", "test/scripts/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two files at once: each starts its own `wrangler dev` (or a stand-in API) on free ports,
    // and most of their time is waiting on it; on CI's 2 cores this halves the suite.
    fileParallelism: true,
    maxWorkers: 2,
    // A ceiling for expect.poll, not a wait: a poll ends as soon as its state is there. On a
    // busy machine (CI beside other test runs) the default second is not enough for a view.
    expect: { poll: { timeout: 20_000 } },
  },
});
