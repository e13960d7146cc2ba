/**
 * Routing within bounds: judging filters costs work in proportion to the event and the
 * filters, never their product; filters apply to operational events; chat messages stay
 * within each tool's limits and render the portal's values as plain text; echoed secrets
 * are masked in every spelling a target may re-encode them in.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../src/app";
import { compileFilter, EventIndex } from "../src/routing/filter";
import { DISCORD, renderBody, SLACK, TEAMS } from "../src/routing/formats";
import { cutToFit, displayText } from "../src/routing/plain-text";
import { MASK, maskSecrets } from "../src/security/mask";
import { countingD1, recordingQueue } from "./doubles";
import { attemptsOf, consume, createChannel, INTAKE, makeDelivery, target } from "./helpers";

afterEach(() => vi.restoreAllMocks());

const junk = (n: number, item: unknown = 0) => Array.from({ length: n }, () => item);
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("Judging filters is bounded", () => {
  // 131,000 zeros: the 256 KiB event of the report.
  const event = { Event: "RegisterInvite", Message: { Email: "a@example.com", Junk: junk(131_000) }, Timestamp: "2024-04-22T16:38:54Z" };
  const ITEMS = 131_000;

  it("judges a 131,000-item array against ten 2,035-value $in filters in one pass over the array", () => {
    const filters = junk(10).map(() => compileFilter({ "Message.Junk": { $in: upTo(2035) } }));
    const index = new EventIndex();
    expect(filters.map((f) => f(event, index))).toEqual(junk(10, false));
    // Before: 10 × 2,035 × 131,000 = 2.7 × 10⁹ comparisons. Now the array is indexed once.
    expect(index.work).toBeLessThanOrEqual(ITEMS + 10 * 2);
  });

  it.each([
    ["$nin", { "Message.Junk": { $nin: upTo(2035) } }, true],
    ["equality on an array field (contains)", { "Message.Junk": 1 }, false],
    ["$eq on an array field", { "Message.Junk": { $eq: 0 } }, true],
    ["$neq on an array field", { "Message.Junk": { $neq: 0 } }, false],
    ["$eq with an array (the whole array)", { "Message.Junk": { $eq: [0, 0] } }, false],
    ["$in of arrays", { "Message.Junk": { $in: [[0], [1], [0, 0]] } }, false],
    ["$in of objects", { "Message.Junk": { $in: [{ a: 1 }, { b: 2 }] } }, false],
    ["$or of 40 branches", { $or: upTo(40).map((i) => ({ "Message.Junk": { $in: [i, i + 100] } })) }, false],
    ["$and of $or, nested", { $and: upTo(8).map((i) => ({ $or: [{ "Message.Junk": i }, { "Message.Junk": { $nin: [i] } }] })) }, true],
    ["a nested object for the path", { Message: { Junk: { $in: upTo(500) } } }, false],
  ])("%s: within the bound", (_name, filter, matches) => {
    const index = new EventIndex();
    for (let i = 0; i < 10; i++) expect(compileFilter(filter as never)(event, index)).toBe(matches);
    // Each array indexed or keyed once; each condition a lookup per operand at most.
    expect(index.work).toBeLessThanOrEqual(2 * ITEMS + 10 * JSON.stringify(filter).length);
  });

  it("keys an array of objects once, however many filters compare with it", () => {
    const objects = { Message: { Items: junk(20_000, { SKU: "x", Qty: 1 }) } };
    const index = new EventIndex();
    for (let i = 0; i < 10; i++) {
      expect(compileFilter({ "Message.Items": { $in: [{ Qty: 1, SKU: "x" }] } })(objects, index)).toBe(true);
      expect(compileFilter({ "Message.Items": { $nin: upTo(300).map((q) => ({ SKU: "y", Qty: q })) } })(objects, index)).toBe(true);
    }
    expect(index.work).toBeLessThanOrEqual(2 * 20_000 + 10 * 2 * 302);
  });

  it("keeps JSON equality: numbers are not strings, keys in any order, arrays in order", () => {
    const e = { Message: { A: [1, "2", { x: 1, y: [2, 3] }], B: { y: [2, 3], x: 1 } } };
    const test = (f: object) => compileFilter(f as never)(e);
    expect(test({ "Message.A": "1" })).toBe(false);
    expect(test({ "Message.A": 2 })).toBe(false);
    expect(test({ "Message.A": { $in: ["2"] } })).toBe(true);
    expect(test({ "Message.A": { $eq: { y: [2, 3], x: 1 } } })).toBe(true);
    expect(test({ "Message.A": { $eq: { y: [3, 2], x: 1 } } })).toBe(false);
    expect(test({ "Message.B": { $in: [{ x: 1, y: [2, 3] }] } })).toBe(true);
    expect(test({ "Message.A": { $eq: [1, "2", { y: [2, 3], x: 1 }] } })).toBe(true);
  });

  it("routes the report's event at intake: ten paused filtered channels, a 256 KiB array", async () => {
    // The report's filter, within the 4 KiB limit.
    const filter = { "Message.Junk": { $in: upTo(800) } };
    const channels = await Promise.all(junk(10).map(() => createChannel({ URL: target(), Events: ["RegisterInvite"], Paused: true, Filter: filter })));
    const body = JSON.stringify({ ...event, Message: { ...event.Message, Email: `${crypto.randomUUID()}@example.com` } });
    expect(body.length).toBeLessThanOrEqual(256 * 1024);
    const post = () =>
      app.request("/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body }, { ...env, DELIVERIES: recordingQueue() });
    const res = await post();
    expect(res.status).toBe(202);
    const { ID } = await res.json<any>();
    const ids = channels.map((c) => c.ID);
    const rows = await env.DB.prepare("select channel_id from deliveries where event_id = ?").bind(ID).all<{ channel_id: string }>();
    expect(rows.results.filter((r) => ids.includes(r.channel_id))).toEqual([]);
  });
});

describe("Filters on operational events", () => {
  const deliveriesOf = async (channelId: string) =>
    (
      await env.DB.prepare("select e.type, e.body from deliveries d join events e on e.id = d.event_id where d.channel_id = ? order by d.id")
        .bind(channelId)
        .all<{ type: string; body: string }>()
    ).results.map((r) => `${r.type} ${JSON.parse(r.body).Message.WebhookName}`);

  it("sends an ops channel only the failures its filter matches, cache cold or warm, in 2 round trips when warm", async () => {
    const name = `Old CRM ${crypto.randomUUID()}`;
    const types = ["Dispatcher.DeliveryFailed", "Dispatcher.WebhookDisabled"];
    const miss = await createChannel({ URL: target(), Events: types, Filter: { "Message.WebhookName": "no-such-channel" } });
    const hit = await createChannel({ URL: target(), Events: types, Filter: { "Message.WebhookName": name } });
    const open = await createChannel({ URL: target(), Events: types });

    // A 410 ends the delivery failed and disables its channel: both events are raised.
    const gone = await createChannel({ Name: name, URL: target("status/410") });
    await consume([(await makeDelivery(gone.ID)).deliveryId]);
    expect(await deliveriesOf(miss.ID)).toEqual([]);
    expect((await deliveriesOf(hit.ID)).sort()).toEqual([`Dispatcher.DeliveryFailed ${name}`, `Dispatcher.WebhookDisabled ${name}`]);
    expect(await deliveriesOf(open.ID)).toHaveLength(2);

    // The filters are cached now: the consumer's batch stays one read and one write.
    const other = await createChannel({ Name: "Another", URL: target("status/410") });
    const { deliveryId } = await makeDelivery(other.ID);
    const { db, counter } = countingD1(env.DB);
    await consume([deliveryId], { DB: db });
    expect(counter.roundTrips).toBe(2);
    expect(await deliveriesOf(miss.ID)).toEqual([]);
    expect(await deliveriesOf(hit.ID)).toHaveLength(2);
    expect((await deliveriesOf(open.ID)).slice(2).sort()).toEqual(["Dispatcher.DeliveryFailed Another", "Dispatcher.WebhookDisabled Another"]);
  });
});

describe("Chat messages within the tools' limits", () => {
  const formats = ["slack", "teams", "discord"] as const;
  const render = (format: (typeof formats)[number], type: string, message: unknown) =>
    renderBody(format, JSON.stringify({ Event: type, Message: message, Timestamp: "2024-04-22T16:38:54Z" }), "https://portal.example.com");
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  const emoji = { ID: 29, First: "😀".repeat(3000), Last: "Lovelace", Email: `${"e".repeat(4988)}@example.com`, OrgID: 1 };

  it("Discord: content 2000, title 256 cut between emoji, values 1024, the embed 6000", () => {
    const m = JSON.parse(render("discord", "UserRegistered", emoji));
    expect(m.content.length).toBeLessThanOrEqual(DISCORD.content);
    expect(m.content.endsWith("…")).toBe(true);
    const embed = m.embeds[0];
    expect(embed.title.length).toBeLessThanOrEqual(256);
    expect(embed.title).toMatch(/😀…$/u);
    expect(LONE_SURROGATE.test(JSON.stringify(m))).toBe(false);
    for (const f of embed.fields) expect(f.value.length).toBeLessThanOrEqual(1024);
    expect(embed.fields.find((f: any) => f.name === "Email").value.length).toBe(1024);
  });

  it("Slack: text and section text 3000, each field 2000, at most 10", () => {
    const m = JSON.parse(render("slack", "UserRegistered", emoji));
    expect(m.text.length).toBeLessThanOrEqual(3000);
    expect(m.blocks[0].text.text.length).toBeLessThanOrEqual(3000);
    expect(m.blocks[0].text.text.length).toBeGreaterThan(2900);
    expect(m.blocks[1].fields.length).toBeLessThanOrEqual(10);
    const email = m.blocks[1].fields.find((f: any) => f.text.startsWith("*Email*"));
    expect(email.text.length).toBe(2000);
    expect(email.text.endsWith("…")).toBe(true);
    expect(LONE_SURROGATE.test(JSON.stringify(m))).toBe(false);
  });

  it("a RegisterInvite of 8 long fields keeps the Discord embed within 6000 and every tool within its limits", () => {
    const message = Object.fromEntries(upTo(8).map((i) => [`Field${i}${"k".repeat(300)}`, "v".repeat(3000)]));
    const discord = JSON.parse(render("discord", "RegisterInvite", message)).embeds[0];
    const total = discord.title.length + discord.fields.reduce((n: number, f: any) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(DISCORD.embedTotal);
    for (const f of discord.fields) expect(f.name.length).toBeLessThanOrEqual(256);
    const slack = JSON.parse(render("slack", "RegisterInvite", message));
    for (const f of slack.blocks[1].fields) expect(f.text.length).toBeLessThanOrEqual(SLACK.fieldText);
    for (const big of [message, emoji]) {
      const teams = render("teams", "RegisterInvite", big);
      expect(new TextEncoder().encode(teams).length).toBeLessThanOrEqual(TEAMS.payloadBytes);
    }
  });

  it("keeps a Teams card under 28 KB whatever the characters", () => {
    const worst = {
      ID: 1,
      First: "\\*".repeat(20_000),
      Last: "😀".repeat(20_000),
      Email: "漢".repeat(20_000),
      Status: "_".repeat(9000),
      Provider: "<".repeat(9000),
    };
    for (const type of ["UserRegistered", "RegisterInvite", "AccessRequestCreated"]) {
      expect(new TextEncoder().encode(render("teams", type, worst)).length).toBeLessThanOrEqual(TEAMS.payloadBytes);
    }
  });

  const hostile = {
    ID: 7,
    First: "*bold* _it_ ~gone~ `code`\nForged line",
    Last: "https://evil.example/x <!channel> <!here> @everyone @here <@U123> <#C1> \u202Eevil\u2066",
    Email: "first_last@example.com\r\n\u2028Another line",
  };

  it.each(formats)("%s: the portal's values are plain text (no markup, line, link, mention or bidi control)", (format) => {
    const out = render(format, "UserRegistered", hostile);
    for (const forged of ["*bold*", "_it_", "~gone~", "`code`", "\\nForged", "\\nAnother", "https://evil", "<!channel>", "<!here>", "<@U123>", "<#C1>"]) {
      expect(out).not.toContain(forged);
    }
    expect(out).not.toMatch(/@(everyone|here|channel)/);
    expect(out).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u2028\u2029]/);
    // The words are still there to read.
    expect(out).toMatch(/bold.*it.*gone.*code.*Forged line/);
  });

  it("Slack: text objects are verbatim (no auto-link or mention parsing), an email's underscore is kept", () => {
    const m = JSON.parse(render("slack", "UserRegistered", hostile));
    for (const block of m.blocks)
      for (const t of [block.text, ...(block.fields ?? []), ...(block.elements ?? [])].filter(Boolean)) expect(t.verbatim).toBe(true);
    expect(m.blocks[1].fields.find((f: any) => f.text.startsWith("*Email*")).text).toBe("*Email*\nfirst_last@example.com Another line");
  });

  it.each([[{ Team: { toString: 1 } }], [{ Email: { toString: "x" } }], [{ Teams: [{ toString: null }, 2] }], [[1, 2]], ["text"], [null]])(
    "renders any JSON value without throwing: %j",
    (message) => {
      for (const format of formats) expect(() => JSON.parse(render(format, "RegisterInvite", message))).not.toThrow();
      for (const format of formats) expect(() => JSON.parse(render(format, "UserRegistered", message))).not.toThrow();
    },
  );

  it("renders a JSON value as display text: one helper", () => {
    expect(displayText({ toString: 1 })).toBe('{"toString":1}');
    expect(displayText([{ toString: null }, 2, "a"])).toBe('{"toString":null}, 2, a');
    expect(displayText([])).toBe("none");
    expect(displayText(null)).toBe("");
    expect(displayText(12.5)).toBe("12.5");
    expect(displayText(true)).toBe("true");
    expect(displayText("x".repeat(10_000)).length).toBeLessThanOrEqual(4097);
    expect(displayText(junk(131_000)).length).toBeLessThanOrEqual(4100);
  });

  it("cuts on grapheme boundaries: never inside a family emoji, a flag or a surrogate pair", () => {
    const family = "👨‍👩‍👧";
    const cut = cutToFit(family.repeat(100), 20);
    expect(cut.length).toBeLessThanOrEqual(20);
    expect(cut).toBe(`${family}${family}…`);
    expect(cutToFit("🇫🇷".repeat(10), 7)).toBe("🇫🇷…");
    expect(cutToFit("short", 20)).toBe("short");
  });
});

describe("Echoed secrets in any spelling", () => {
  const secret = 'sk_live a+b/c=d&"<q>';
  const b64 = btoa(secret);
  const spellings = [
    secret,
    "sk_live a+b/c=d&amp;&quot;&lt;q&gt;",
    "sk_live a+b/c=d&#38;&#34;&#60;q&#62;",
    "sk_live a+b/c=d&#x26;&#x22;&#x3C;q&#x3e;",
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    new URLSearchParams({ k: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
    'sk_live a+b\\/c=d\\u0026\\"\\u003cq\\u003E',
    b64,
    b64.replace(/=+$/, ""),
    b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
    btoa(`X-Api-Key: ${secret}`),
    // Nested: one encoding on top of another.
    encodeURIComponent("sk_live a+b/c=d&amp;&quot;&lt;q&gt;"),
    encodeURIComponent(encodeURIComponent(secret)),
    btoa(JSON.stringify({ k: secret })),
    encodeURIComponent(secret).replace(/%/g, "&#37;"),
    [...new TextEncoder().encode(secret)].map((b) => b.toString(16).padStart(2, "0")).join(""),
    [...new TextEncoder().encode(secret)]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("")
      .toUpperCase(),
  ];

  it.each(spellings)("masks %s", (spelling) => {
    const masked = maskSecrets(`echo: ${spelling} end`, [secret]);
    expect(masked).toContain(MASK);
    expect(masked).not.toContain("sk_live");
    expect(masked).not.toContain(b64.slice(0, 12));
    expect(masked.endsWith(" end")).toBe(true);
  });

  it("masks a spelling cut by the 1 KiB limit, even inside an escape", () => {
    expect(maskSecrets("x sk_live a%2Bb%2", [secret])).toBe(`x ${MASK}`);
    expect(maskSecrets("x sk_live a+b/c=d&am", [secret])).toBe(`x ${MASK}`);
  });

  it("leaves text that only looks like an escape alone", () => {
    const text = "a &amp; b %zz \\u12 &#xZZ; +";
    expect(maskSecrets(text, [secret])).toBe(text);
  });

  it("leaves ordinary text, words and ids alone", () => {
    const text =
      "Request 01a2295a-527f-7abc-8def-0123456789ab failed: upstream answered 502 Bad Gateway; retry later. deadbeefcafe QWxhZGRpbjpvcGVuIHNlc2FtZQ==";
    expect(maskSecrets(text, [secret])).toBe(text);
  });

  it("stores none of them in the attempt log", async () => {
    const channel = await createChannel({ URL: target("status/500"), Headers: [{ Name: "X-Api-Key", Value: secret }] });
    const echoed = spellings.join("\n");
    expect(echoed.length).toBeLessThan(1024);
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(echoed, { status: 500, headers: { "content-type": "text/plain" } }));
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    const [attempt] = await attemptsOf(deliveryId);
    expect(attempt.status_code).toBe(500);
    const lines = attempt.response_body.split("\n");
    expect(lines).toHaveLength(spellings.length);
    for (const line of lines) {
      expect(line).toContain(MASK);
      expect(line).not.toContain("sk_live");
      expect(line).not.toContain(b64.slice(4, 16));
    }
    // Inside a longer base64 value only the characters that encode the secret are masked.
    expect(lines.slice(0, -1)).toEqual(spellings.slice(0, -1).map(() => MASK));
  });
});
