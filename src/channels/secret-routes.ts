import { createRoute } from "@hono/zod-openapi";
import { admin, errorResponses, IdParam, json, router } from "../core/openapi";
import { database, iso } from "../db/client";
import { previousSecretLive } from "../delivery/sign";
import { secretBox } from "../security/secret-box";
import { getChannel } from "./queries";
import { Secret } from "./schemas";
import { rotateSecret } from "./secrets";

/** A channel's signing secret: read it, and rotate it with a 24-hour overlap (src/channels/secrets.ts). */

const tags = ["Webhooks"];

const readSecret = createRoute({
  method: "get",
  path: "/{id}/secret",
  tags,
  security: admin,
  summary: "The signing secret",
  request: { params: IdParam },
  responses: { 200: json(Secret, "The secret, and the previous one while it still signs"), ...errorResponses },
});
const rotate = createRoute({
  method: "post",
  path: "/{id}/secret/rotate",
  tags,
  security: admin,
  summary: "New signing secret; the old one keeps signing beside it for 24 hours",
  request: { params: IdParam },
  responses: { 200: json(Secret, "The new secret"), ...errorResponses },
});

export const secretRoutes = router()
  .openapi(readSecret, async (c) => {
    const box = await secretBox(c.env);
    const { row } = await getChannel(database(c.env.DB), c.req.valid("param").id);
    const previousLive = previousSecretLive(row, Date.now());
    return c.json(
      {
        Secret: await box.decrypt(row.secret),
        PreviousSecret: previousLive ? await box.decrypt(row.previousSecret!) : null,
        PreviousSecretExpiresAt: previousLive ? iso(row.previousSecretExpiresAt) : null,
      },
      200,
    );
  })
  .openapi(rotate, async (c) => {
    const box = await secretBox(c.env);
    const db = database(c.env.DB);
    const secret = await rotateSecret(db, box, await getChannel(db, c.req.valid("param").id));
    return c.json({ Secret: secret }, 200);
  });
