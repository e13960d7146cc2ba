/**
 * Real HTTP servers for the integrations tests, started once in Node (vitest globalSetup):
 * an OAuth 2.0 token endpoint (RFC 6749 §4.4) and targets that check what each template's
 * API requires. Each test picks a fresh key and reads back what arrived under it.
 *
 *   POST /token/<key>?expires_in=&mode=     client credentials: Basic (RFC 6749 §2.3.1) or form
 *                                           fields; mode=refuse answers 401 echoing the secret,
 *                                           mode=hang never answers
 *   GET  /__revoke?key=                     the key's tokens so far stop working (the target answers 401)
 *   *    /api/<key>/...                      200 with a token of <key> or Basic api-user:api-pass, else 401
 *   *    /<template>/<key>/<the API's path>  the template's target: 2xx if the request is what its
 *                                           API requires, else 400 saying why
 *   GET  /__log?prefix=                     what arrived under a path prefix, and the token requests
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    integrationsPort: number;
  }
}

export const CLIENT = { id: "client-1", secret: "s3cret/with+plus" };
export const BASIC = { user: "api-user", password: "api-pass-123" };

interface Arrived {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

type Check = (req: Arrived, body: any) => string | null;

// What each target's API requires of a request, as its reference says (see the template's source).
const CHECKS: Record<string, { method: string; path: RegExp; auth: "bearer-header" | "basic" | "oauth2" | "moesif"; check: Check }> = {
  lago: {
    method: "POST",
    path: /^\/api\/v1\/customers$/,
    auth: "bearer-header",
    check: (_r, b) =>
      typeof b?.customer?.external_id === "string" && b.customer.external_id && typeof b.customer.name === "string"
        ? null
        : "customer.external_id and name are required",
  },
  moesif: {
    method: "POST",
    path: /^\/v1\/users$/,
    auth: "moesif",
    check: (_r, b) => (typeof b?.user_id === "string" && b.user_id ? null : "user_id is required"),
  },
  hubspot: {
    method: "POST",
    path: /^\/crm\/v3\/objects\/contacts\/batch\/upsert$/,
    auth: "bearer-header",
    check: (_r, b) => {
      const input = b?.inputs?.[0];
      if (!Array.isArray(b?.inputs) || b.inputs.length !== 1) return "inputs must be an array";
      if (input.idProperty !== "email" || typeof input.id !== "string" || input.id !== input.properties?.email) return "idProperty email with the email as id";
      return null;
    },
  },
  salesforce: {
    method: "PATCH",
    path: /^\/services\/data\/v\d+\.\d\/sobjects\/Contact\/Tyk_User_ID__c\/[^/]+$/,
    auth: "oauth2",
    check: (_r, b) => {
      if (typeof b?.LastName !== "string" || !b.LastName) return "REQUIRED_FIELD_MISSING: LastName";
      if ("Tyk_User_ID__c" in b || "Id" in b) return "the external ID must not be in the body";
      return null;
    },
  },
  "jira-service-management": {
    method: "POST",
    path: /^\/rest\/servicedeskapi\/request$/,
    auth: "basic",
    check: (_r, b) => {
      if (typeof b?.serviceDeskId !== "string" || typeof b.requestTypeId !== "string") return "serviceDeskId and requestTypeId are required";
      const v = b.requestFieldValues;
      if (typeof v?.summary !== "string" || !v.summary || v.summary.length > 255) return "requestFieldValues.summary is required (at most 255)";
      if (!Array.isArray(v.labels) || v.labels.some((l: string) => /\s/.test(l))) return "labels must hold no spaces";
      return null;
    },
  },
  servicenow: {
    method: "POST",
    path: /^\/api\/now\/table\/incident$/,
    auth: "basic",
    check: (_r, b) =>
      typeof b?.short_description === "string" && b.short_description && typeof b.correlation_id === "string"
        ? null
        : "short_description and correlation_id are required",
  },
};

export default async function setup(project: TestProject) {
  const arrived: Arrived[] = [];
  const issued = new Map<string, { token: string; revoked: boolean }[]>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : (v ?? "");
      const body = Buffer.concat(chunks).toString("utf8");
      const answer = (status: number, payload: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(payload));
      };
      if (url.pathname === "/__log")
        return answer(
          200,
          arrived.filter((r) => r.path.startsWith(url.searchParams.get("prefix") ?? "/")),
        );
      if (url.pathname === "/__revoke") {
        for (const t of issued.get(url.searchParams.get("key") ?? "") ?? []) t.revoked = true;
        return answer(200, {});
      }
      arrived.push({ method: req.method ?? "", path: url.pathname, headers, body });
      const [, kind, key = "", ...rest] = url.pathname.split("/");
      const bearerOk = () => {
        const token = /^Bearer (.+)$/.exec(headers.authorization ?? "")?.[1];
        return (issued.get(key) ?? []).some((t) => t.token === token && !t.revoked);
      };
      const basicOk = () => headers.authorization === `Basic ${Buffer.from(`${BASIC.user}:${BASIC.password}`).toString("base64")}`;

      if (kind === "token") {
        const mode = url.searchParams.get("mode");
        if (mode === "hang") return; // never answers
        const form = new URLSearchParams(body);
        const basic = /^Basic (.+)$/.exec(headers.authorization ?? "")?.[1];
        const [id, secret] = basic
          ? Buffer.from(basic, "base64").toString("utf8").split(":").map(decodeURIComponent)
          : [form.get("client_id"), form.get("client_secret")];
        if (mode === "refuse") return answer(401, { error: "invalid_client", error_description: `client secret ${CLIENT.secret} is not valid` });
        if (form.get("grant_type") !== "client_credentials") return answer(400, { error: "unsupported_grant_type" });
        if (id !== CLIENT.id || secret !== CLIENT.secret) return answer(401, { error: "invalid_client" });
        const list = issued.get(key) ?? [];
        const token = `tok-${key}-${list.length + 1}`;
        list.push({ token, revoked: false });
        issued.set(key, list);
        const expires = url.searchParams.get("expires_in");
        return answer(200, {
          access_token: token,
          token_type: "Bearer",
          ...(expires === null ? {} : { expires_in: Number(expires) }),
          scope: form.get("scope"),
        });
      }
      if (kind === "api") return bearerOk() || basicOk() ? answer(200, { ok: true }) : answer(401, { error: "unauthorized" });

      const target = CHECKS[kind ?? ""];
      if (!target) return answer(404, { error: "no such target" });
      const path = `/${rest.join("/")}`;
      if (req.method !== target.method || !target.path.test(path)) return answer(404, { error: `no route ${req.method} ${path}` });
      if (headers["content-type"] !== "application/json") return answer(415, { error: "Content-Type must be application/json" });
      const authorized =
        target.auth === "oauth2"
          ? bearerOk()
          : target.auth === "basic"
            ? basicOk()
            : target.auth === "moesif"
              ? Boolean(headers["x-moesif-application-id"])
              : /^Bearer \S+$/.test(headers.authorization ?? "");
      if (!authorized) return answer(401, { error: "unauthorized" });
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return answer(400, { error: "body is not JSON" });
      }
      const problem = target.check({ method: req.method ?? "", path, headers, body }, parsed);
      return problem ? answer(400, { error: problem }) : answer(req.method === "PATCH" ? 201 : 200, { id: "1", success: true });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("integrationsPort", (server.address() as AddressInfo).port);
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
