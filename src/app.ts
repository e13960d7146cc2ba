import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { requireToken } from "./auth";
import { channelRoutes } from "./channels/routes";
import { deliveryRoutes } from "./delivery/routes";
import { ApiError, errorResponse } from "./errors";
import { eventRoutes } from "./events/routes";
import { intakeRoutes } from "./intake/routes";
import { router, type AppEnv } from "./openapi";
import pkg from "../package.json";

const portalApi = router();
portalApi.use("*", async (c, next) => {
  // The API description is public; everything else needs the admin token.
  if (c.req.path.endsWith("/openapi.json")) return next();
  return requireToken("ADMIN_TOKEN")(c, next);
});
portalApi.route("/webhooks", channelRoutes);
portalApi.route("/", deliveryRoutes);
portalApi.route("/", eventRoutes);
portalApi.openAPIRegistry.registerComponent("securitySchemes", "AdminToken", {
  type: "http",
  scheme: "bearer",
  description: "The ADMIN_TOKEN secret, as `Bearer <token>` or bare.",
});
portalApi.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: { title: "Tyk portal webhook dispatcher: admin API", version: pkg.version },
  servers: [{ url: "/portal-api" }],
});

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
  .use("*", strictHeaders)
  .get("/healthz", (c) => c.json({ status: "ok" }))
  .route("/events", intakeRoutes)
  .route("/portal-api", portalApi)
  // Everything else is the admin UI's static files, served with the headers above.
  .get("*", async (c, next) => {
    const res = await c.env.ASSETS.fetch(c.req.raw);
    if (res.status === 404) return next();
    return new Response(res.body, res);
  })
  .notFound(() => {
    throw ApiError.notFound("path");
  })
  .onError(errorResponse);
