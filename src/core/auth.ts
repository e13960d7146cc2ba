import { createMiddleware } from "hono/factory";
import type { Env } from "./env";
import { ApiError } from "./errors";

const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

// The configured tokens' digests, computed once per isolate.
const expectedDigests = new Map<string, Promise<ArrayBuffer>>();

/** Constant-time comparison; hashing first makes the lengths equal. */
export async function tokensMatch(given: string, expected: string): Promise<boolean> {
  let expectedDigest = expectedDigests.get(expected);
  if (!expectedDigest) {
    expectedDigest = digest(expected);
    expectedDigests.set(expected, expectedDigest);
  }
  const [a, b] = await Promise.all([digest(given), expectedDigest]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** The token from `Authorization: Bearer <token>` or a bare `Authorization: <token>`. */
export function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const token = header.replace(/^Bearer\s+/i, "").trim();
  return token || undefined;
}

/**
 * Requires the secret named `secret` in the Authorization header. A deployment without
 * that secret refuses everyone (fails closed).
 */
export function requireToken(secret: "ADMIN_TOKEN" | "INTAKE_TOKEN") {
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const expected = c.env[secret];
    const given = presentedToken(c.req.header("Authorization"));
    if (!expected || !given || !(await tokensMatch(given, expected))) {
      throw new ApiError(401, [`Authorization: missing or wrong ${secret === "ADMIN_TOKEN" ? "admin" : "intake"} token`]);
    }
    await next();
  });
}
