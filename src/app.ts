import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import pkg from "../package.json";
import { headerRoutes } from "./channels/headers-routes";
import { channelRoutes } from "./channels/routes";
import { secretRoutes } from "./channels/secret-routes";
import { channelTestRoutes } from "./channels/test-routes";
import { requireToken } from "./core/auth";
import type { AppEnv } from "./core/env";
import { config } from "./core/env";
import { errorResponse } from "./core/error-response";
import { ApiError } from "./core/errors";
import { router } from "./core/openapi";
import { deliveryRoutes } from "./delivery-api/routes";
import { deliverySearchRoutes } from "./delivery-api/search-routes";
import { eventRoutes } from "./events/routes";
import { laneRoutes } from "./flow/routes";
import { allowedMethods } from "./http/allowed-methods";
import { checkedJsonBody } from "./http/json-body";
import { intakeAdminRoutes } from "./intake/admin-routes";
import { intakeRoutes, postEventsDocument } from "./intake/routes";
import { integrationRoutes } from "./integrations/routes";
import { replayRoutes } from "./replay/routes";
import { routingRoutes } from "./routing/routes";
import { statsRoutes } from "./stats/routes";

export const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

// Every admin route needs the token, checked before anything reads the body.
const portalApi = router();
portalApi.use(
  "*",
  requireToken("ADMIN_TOKEN"),
  bodyLimit({
    maxSize: MAX_ADMIN_BODY_BYTES,
    onError: () => {
      throw new ApiError(413, ["body: larger than 1 MiB"]);
    },
  }),
  checkedJsonBody,
);
portalApi.route("/webhooks", channelRoutes);
portalApi.route("/webhooks", headerRoutes);
portalApi.route("/webhooks", channelTestRoutes);
portalApi.route("/webhooks", secretRoutes);
portalApi.route("/webhooks", replayRoutes);
portalApi.route("/webhooks", laneRoutes);
portalApi.route("/", deliverySearchRoutes);
portalApi.route("/", deliveryRoutes);
portalApi.route("/", eventRoutes);
portalApi.route("/", intakeAdminRoutes);
portalApi.route("/", statsRoutes);
portalApi.route("/", routingRoutes);
portalApi.route("/", integrationRoutes);
portalApi.openAPIRegistry.registerComponent("securitySchemes", "AdminToken", {
  type: "http",
  scheme: "bearer",
  description: "The ADMIN_TOKEN secret, as `Bearer <token>` or bare.",
});
portalApi.openAPIRegistry.registerComponent("securitySchemes", "IntakeToken", {
  type: "http",
  scheme: "bearer",
  description: "The INTAKE_TOKEN secret, as `Bearer <token>` or bare.",
});
// The route the portal calls, served outside this router (it reads raw bytes), documented here.
portalApi.openAPIRegistry.registerPath(postEventsDocument);

// Built on first use: the routes are all registered by then.
let openApiDocument: ReturnType<typeof portalApi.getOpenAPI31Document> | undefined;
const describeApi = () =>
  (openApiDocument ??= portalApi.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Tyk portal webhook dispatcher: admin API",
      version: pkg.version,
      description:
        'Errors are `{"errors": ["Field: why", ...]}`. A path asked with a method it does not take answers 405, its `Allow` header naming those it does; an unknown path 404.',
    },
    servers: [{ url: "/portal-api" }],
  }));

// The admin UI loads nothing but its own files, and no script that is not one of them.
const strictHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
  referrerPolicy: "no-referrer",
});

export const app = new Hono<AppEnv>()
  .use("*", requestId())
  // Every response names its request, those a handler builds itself too (the static files,
  // the events' spliced JSON), which the context's headers never reach.
  .use("*", async (c, next) => {
    await next();
    if (c.res.headers.has("X-Request-Id")) return;
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set("X-Request-Id", c.get("requestId"));
  })
  .use("*", strictHeaders)
  // The contract's liveness check: no auth, no binding, no var read.
  .get("/healthz", (c) => c.json({ status: "ok" }))
  // A bad var fails every other request loudly (503, the var named) instead of running on a guess.
  .use("*", async (c, next) => {
    config(c.env);
    await next();
  })
  .route("/events", intakeRoutes)
  // The one public path under /portal-api, declared before the API and its token check.
  .get("/portal-api/openapi.json", (c) => c.json(describeApi()))
  .route("/portal-api", portalApi)
  // Everything else is the admin UI's static files, served with the headers above.
  .get("*", async (c, next) => {
    const res = await c.env.ASSETS.fetch(c.req.raw);
    if (res.status === 404) return next();
    return new Response(res.body, res);
  })
  // A known path asked with a method it does not take is a 405 naming those it does.
  .notFound((c) => {
    const allow = allowedMethods(app.router, c.req.path);
    if (!allow.length) throw ApiError.notFound("path");
    c.header("Allow", allow.join(", "));
    throw new ApiError(405, [`method: ${c.req.method} is not allowed here; allowed: ${allow.join(", ")}`]);
  })
  .onError(errorResponse);
