/** The hostile-input batteries' shared parts: a case, a deeply nested body, and the runner that makes each case a test. */
import { describe, expect, it } from "vitest";
import { rowCounts } from "./row-counts";

export type Case = [name: string, send: () => Promise<Response>, status: number, field: RegExp];

export const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

/** Each case a test: the right 4xx, naming the field, storing nothing. */
export function runBattery(subject: string, battery: Case[]) {
  describe(`${subject}: a battery of ${battery.length} cases`, () => {
    const titled = battery.map(([name, send, status, field]) => [`${name} → ${status}`, send, status, field] as const);
    it.each(titled)("%s, naming the field, storing nothing", async (_title, send, status, field) => {
      const before = await rowCounts();
      const res = await send();
      expect(res.status).toBe(status);
      const body = await res.json<{ errors: string[] }>();
      expect(body.errors.length).toBeGreaterThan(0);
      expect(body.errors.some((e) => field.test(e))).toBe(true);
      expect(await rowCounts()).toEqual(before);
    });
  });
}
