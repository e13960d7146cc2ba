type DispatcherEnv = import("../src/core/env").Env;

declare namespace Cloudflare {
  interface Env extends DispatcherEnv {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    MIGRATION_DB: D1Database;
    FILLED_DB: D1Database;
  }
  interface GlobalProps {
    mainModule: typeof import("../src/index");
  }
}

/** A file's text, as Vite imports it (`import text from "../wrangler.toml?raw"`). */
declare module "*?raw" {
  const text: string;
  export default text;
}
