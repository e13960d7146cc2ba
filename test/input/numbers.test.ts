/** Numbers in admin bodies that a 64-bit double cannot hold (1e400, 1e-400): refused, never read as Infinity or 0. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deployedApi } from "../api/as-deployed";
import { count, createChannel, errorsOf } from "../helpers";

describe("numbers a double cannot hold", () => {
  it.each([
    [
      "1e400 in a filter",
      '{"Message.OrgID": {"$gt": 1e400}}',
      "Filter.Message.OrgID.$gt: must be a number a 64-bit double can hold (1e400 would be read as Infinity)",
    ],
    ["-1e400 in a filter", '{"Message.OrgID": -1e400}', "Filter.Message.OrgID: must be a number a 64-bit double can hold (-1e400 would be read as -Infinity)"],
    [
      "1e400 in $in",
      '{"Message": {"OrgID": {"$in": [7, 1E+400]}}}',
      "Filter.Message.OrgID.$in.1: must be a number a 64-bit double can hold (1E+400 would be read as Infinity)",
    ],
    [
      "1e-400 in a filter",
      '{"Message.OrgID": {"$lt": 1e-400}}',
      "Filter.Message.OrgID.$lt: must be a number a 64-bit double can hold (1e-400 would be read as 0)",
    ],
  ])("%s is refused at save (422 naming where), storing nothing", async (_name, filter, error) => {
    const before = await count("channels");
    const res = await deployedApi(
      "POST",
      "/portal-api/webhooks",
      `{"Name": "CRM", "URL": "https://crm.example.com/hooks", "Events": ["UserRegistered"], "Filter": ${filter}}`,
    );
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual([error]);
    expect(await count("channels")).toBe(before);
  });

  it("PATCH and every other admin body refuse them too; the channel keeps its filter", async () => {
    const channel = await createChannel({ Filter: { "Message.OrgID": 7 } });
    const res = await deployedApi("PATCH", `/portal-api/webhooks/${channel.ID}`, '{"Filter": {"Message.OrgID": 1e400}}');
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["Filter.Message.OrgID: must be a number a 64-bit double can hold (1e400 would be read as Infinity)"]);
    const stored = await env.DB.prepare("select filter from channels where id = ?").bind(channel.ID).first<{ filter: string }>();
    expect(JSON.parse(stored!.filter)).toEqual({ "Message.OrgID": 7 });

    const timeout = await deployedApi("PATCH", `/portal-api/webhooks/${channel.ID}`, '{"Timeout": 1e400}');
    expect(timeout.status).toBe(422);
    expect((await errorsOf(timeout))[0]).toMatch(/^Timeout: must be a number a 64-bit double can hold/);
    const preview = await deployedApi("POST", "/portal-api/routing/preview", '{"Event": "UserRegistered", "Filter": {"Message.ID": {"$gte": -1e400}}}');
    expect(preview.status).toBe(422);
    expect(await errorsOf(preview)).toEqual(["Filter.Message.ID.$gte: must be a number a 64-bit double can hold (-1e400 would be read as -Infinity)"]);
    // Large numbers a double holds are fine, and so is any number inside a string.
    const ok = await deployedApi("PATCH", `/portal-api/webhooks/${channel.ID}`, '{"Filter": {"Message.OrgID": {"$lt": 1.7e308}, "Message.Email": "1e400"}}');
    expect(ok.status).toBe(200);
  });
});
