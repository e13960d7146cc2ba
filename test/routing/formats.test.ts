/** Chat formats: every type in every format, each tool's required fields, escaping, golden files, signed over the bytes sent. */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { eventTypes } from "../../src/portal/catalog";
import { sampleEvent } from "../../src/portal/samples";
import { type Format, renderBody } from "../../src/routing/formats";
import goldenFiles from "../fixtures/golden/formats.json";
import { api, consume, createChannel, makeDelivery, receivedAt, seed, target } from "../helpers";
import { event } from "./sample-data";

/** Each tool's required fields and limits, from its documentation. */
const SCHEMA: Record<Exclude<Format, "raw">, (m: any) => void> = {
  // Slack incoming webhooks: `text` (the notification fallback) and Block Kit `blocks`; a
  // section's text is at most 3000 characters, at most 10 fields of 2000 each.
  slack: (m) => {
    expect(typeof m.text).toBe("string");
    expect(m.text.length).toBeGreaterThan(0);
    expect(m.text.length).toBeLessThanOrEqual(40_000);
    expect(Array.isArray(m.blocks)).toBe(true);
    for (const block of m.blocks) {
      expect(["section", "context"]).toContain(block.type);
      if (block.text) {
        expect(block.text.type).toBe("mrkdwn");
        expect(block.text.text.length).toBeLessThanOrEqual(3000);
      }
      if (block.fields) expect(block.fields.length).toBeLessThanOrEqual(10);
      for (const f of block.fields ?? []) {
        expect(f.type).toBe("mrkdwn");
        expect(f.text.length).toBeLessThanOrEqual(2000);
      }
    }
  },
  // Teams Workflows: {"type": "message", "attachments": [{contentType adaptive, content: AdaptiveCard}]}.
  teams: (m) => {
    expect(m.type).toBe("message");
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0].contentType).toBe("application/vnd.microsoft.card.adaptive");
    const card = m.attachments[0].content;
    expect(card.type).toBe("AdaptiveCard");
    expect(card.version).toMatch(/^1\.\d$/);
    expect(card.$schema).toBe("http://adaptivecards.io/schemas/adaptive-card.json");
    for (const el of card.body) expect(["TextBlock", "FactSet"]).toContain(el.type);
    // A Teams message is at most about 28 KB.
    expect(new TextEncoder().encode(JSON.stringify(m)).length).toBeLessThanOrEqual(28_000);
  },
  // Discord: `content` at most 2000 characters, at most 10 embeds; a title at most 256, at
  // most 25 fields, a name 256 and a value 1024, both non-empty.
  discord: (m) => {
    expect(typeof m.content).toBe("string");
    expect(m.content.length).toBeLessThanOrEqual(2000);
    expect(m.embeds.length).toBeGreaterThanOrEqual(1);
    expect(m.embeds.length).toBeLessThanOrEqual(10);
    for (const e of m.embeds) {
      expect(e.title.length).toBeLessThanOrEqual(256);
      expect(e.fields.length).toBeLessThanOrEqual(25);
      for (const f of e.fields) {
        expect(f.name.length).toBeGreaterThan(0);
        expect(f.value.length).toBeGreaterThan(0);
        expect(f.name.length).toBeLessThanOrEqual(256);
        expect(f.value.length).toBeLessThanOrEqual(1024);
      }
      // All of an embed's text together: at most 6000.
      expect(e.title.length + e.fields.reduce((n: number, f: any) => n + f.name.length + f.value.length, 0)).toBeLessThanOrEqual(6000);
    }
    expect(m.allowed_mentions).toEqual({ parse: [] });
  },
};

describe("Format", () => {
  const formats = ["slack", "teams", "discord"] as const;
  const cases = eventTypes.flatMap((type) => formats.map((format) => [type, format] as const));

  it.each(cases)("%s as %s: a sentence, the key fields and the time, in the tool's format", (type, format) => {
    const message = JSON.parse(renderBody(format, sampleEvent(type, new Date("2026-01-02T03:04:05Z")), "https://portal.example.com"));
    SCHEMA[format](message);
    const text = JSON.stringify(message);
    expect(text).toContain("2026-01-02T03:04:05");
    expect(text).not.toContain(`${type} event`); // every type has a sentence of its own
  });

  it("writes the sentence the issue asks for", () => {
    const slack = JSON.parse(renderBody("slack", JSON.stringify(event)));
    expect(slack.text).toBe("New access request #12 for app 3 (plan 7, products 1, 2) by user 5");
  });

  it.each(formats)("escapes hostile names in %s so nobody is pinged and no markup is made", (format) => {
    const hostile = seed.find((s) => s.type === "UserRegistered")!;
    const parsed = JSON.parse(hostile.body);
    parsed.Message.First = "<!here> @channel <@U123>";
    parsed.Message.Last = "*bold* _it_ [x](http://evil.example) @everyone";
    const message = renderBody(format, JSON.stringify(parsed));
    expect(message).not.toContain("<!here>");
    expect(message).not.toContain("<@U123>");
    expect(message).not.toMatch(/@(channel|everyone|here)/);
    if (format !== "slack") expect(message).not.toContain("[x](http");
  });

  // Regenerate after a deliberate change: see the README (Routing).
  it("matches the golden files", () => {
    const now = new Date("2026-01-02T03:04:05Z");
    const rendered = Object.fromEntries(
      formats.map((f) => [f, JSON.parse(renderBody(f, sampleEvent("AccessRequestCreated", now), "https://portal.example.com"))]),
    );
    expect(rendered).toEqual(goldenFiles);
  });

  it("delivers a Slack message, signed over the bytes sent", async () => {
    const url = target();
    const channel = await createChannel({ URL: url, Format: "slack" });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    const [arrived] = await receivedAt(url);
    const { Secret } = await (await api("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json<any>();
    const verified = new Webhook(Secret).verify(arrived!.body, arrived!.headers) as any;
    expect(verified.text).toMatch(/^New user registered: Ada Lovelace/);
    expect(arrived!.headers["content-type"]).toBe("application/json");
  });

  it("refuses an unknown format", async () => {
    const res = await api("POST", "/portal-api/webhooks", { Name: "x", URL: "https://crm.example.com/", Events: ["UserRegistered"], Format: "irc" });
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors).toEqual(["Format: must be one of raw, slack, teams, discord"]);
  });
});
