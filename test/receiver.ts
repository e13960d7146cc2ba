/**
 * A real HTTP target for the tests, started once in Node (vitest globalSetup). The path
 * says how it behaves, so each test picks a fresh path and reads back what arrived there:
 *
 *   /ok/<key>                 200
 *   /status/<code>/<key>      that status (Retry-After from ?retry_after=)
 *   /flaky/<n>/<key>          500 for the first n requests, then 200
 *   /sleep/<ms>/<key>         answers 200 after <ms>
 *   /redirect/<key>           302 to /ok/<key>
 *   /big/<key>                200 with a 5,000-byte body
 *   /echo/<code>/<key>        that status, with the request's headers as the body (an error page that echoes)
 *   /hold/<code>/<key>        that status, once GET /__release?path=<the request's path> is called
 *   /slowbody/<ms>/<key>      200 and one byte of its body at once, the rest after <ms>
 *   /interim/<code>/<key>     an interim response of that code (100, 102 or 103) first, then 200
 *   /interimslow/<ms>/<key>   102 Processing first, then 200 after <ms>
 *   /lottery/<pct>/<key>      500 for about <pct>% of requests (at random), else 200
 *   GET /__requests?prefix=   the requests received under a path prefix
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

export interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** When the request arrived, and when its answer was sent (ms since the epoch). */
  at: number;
  done?: number;
}

declare module "vitest" {
  export interface ProvidedContext {
    receiverPort: number;
    closedPort: number;
  }
}

export default async function setup(project: TestProject) {
  const received: Received[] = [];
  const counters = new Map<string, number>();

  // Held answers by request path, waiting for their release.
  const held = new Map<string, () => void>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/__release") {
      const path = url.searchParams.get("path") ?? "";
      const release = held.get(path);
      held.delete(path);
      release?.();
      res.writeHead(release ? 200 : 404);
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (url.pathname === "/__requests") {
        const prefix = url.searchParams.get("prefix") ?? "/";
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(received.filter((r) => r.path.startsWith(prefix))));
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : (v ?? "");
      const request: Received = { method: req.method ?? "", path: url.pathname, headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      received.push(request);
      res.on("finish", () => {
        request.done = Date.now();
      });

      const [, kind, arg] = url.pathname.split("/");
      const count = (counters.get(url.pathname) ?? 0) + 1;
      counters.set(url.pathname, count);
      switch (kind) {
        case "status": {
          const extra: Record<string, string> = {};
          const retryAfter = url.searchParams.get("retry_after");
          if (retryAfter) extra["retry-after"] = retryAfter;
          res.writeHead(Number(arg), extra);
          res.end(`status ${arg}`);
          return;
        }
        case "flaky":
          if (count <= Number(arg)) {
            res.writeHead(500);
            res.end(`failure ${count}`);
          } else {
            res.writeHead(200);
            res.end("ok");
          }
          return;
        case "lottery": {
          const fail = Math.random() * 100 < Number(arg);
          res.writeHead(fail ? 500 : 200);
          res.end(fail ? "unlucky" : "ok");
          return;
        }
        case "sleep":
          setTimeout(() => {
            res.writeHead(200);
            res.end("slept");
          }, Number(arg));
          return;
        case "redirect":
          res.writeHead(302, { location: url.pathname.replace("/redirect/", "/ok/") });
          res.end();
          return;
        case "echo":
          res.writeHead(Number(arg), { "content-type": "text/plain" });
          res.end(
            Object.entries(headers)
              .map(([k, v]) => `${k}: ${v}`)
              .join("\n"),
          );
          return;
        case "hold":
          held.set(url.pathname, () => {
            res.writeHead(Number(arg));
            res.end(`held ${arg}`);
          });
          return;
        case "slowbody":
          res.writeHead(200, { "content-type": "text/plain" });
          res.write("a");
          setTimeout(() => res.end("bcdef"), Number(arg));
          return;
        case "interim":
          if (arg === "100") res.writeContinue();
          else if (arg === "102") res.writeProcessing();
          else res.writeEarlyHints({ link: "</style.css>; rel=preload; as=style" });
          res.writeHead(200);
          res.end("ok after interim");
          return;
        case "interimslow":
          res.writeProcessing();
          setTimeout(() => {
            res.writeHead(200);
            res.end("ok after a wait");
          }, Number(arg));
          return;
        case "big":
          res.writeHead(200);
          res.end("x".repeat(5000));
          return;
        default:
          res.writeHead(200);
          res.end("ok");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  // A port that was free a moment ago and has nothing listening on it.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));

  project.provide("receiverPort", (server.address() as AddressInfo).port);
  project.provide("closedPort", closedPort);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
