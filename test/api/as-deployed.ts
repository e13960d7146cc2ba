import { recordingQueue } from "../doubles";
import { ADMIN, api, type Bindings, postEvent } from "../helpers";

/*
 * The worker configured as a deployment is (private targets refused, which the tests' own
 * config allows), called through helpers.ts: shared by the tests of test/api, test/input,
 * test/security and test/channels' headers and event types.
 */

/** Bindings for the worker as deployed: private targets refused (the tests' own config allows them), deliveries only recorded. */
export const asDeployed = (bindings: Bindings = {}): Bindings => ({ DELIVERIES: recordingQueue(), ALLOW_PRIVATE_TARGETS: "false", ...bindings });

/** An admin API call to the worker as deployed (a string body is sent as it is, e.g. numbers JSON.stringify cannot write). */
export const deployedApi = (method: string, path: string, body?: unknown, headers: Record<string, string> = ADMIN) =>
  api(method, path, body, headers, asDeployed());

/** A portal event posted to the worker as deployed. */
export const deployedIntake = (body: string, headers: Record<string, string> = {}) => postEvent(body, headers, asDeployed());
