type DispatcherEnv = import("../src/env").Env;

declare namespace Cloudflare {
  interface Env extends DispatcherEnv {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
  interface GlobalProps {
    mainModule: typeof import("../src/index");
  }
}
