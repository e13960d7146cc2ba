/** Chat messages stay within each tool's limits, and render the portal's values as plain text. */
import { describe, expect, it } from "vitest";
import { DISCORD, renderBody, SLACK, TEAMS } from "../../src/routing/formats";
import { cutToFit, displayText } from "../../src/routing/plain-text";
import { junk, upTo } from "./sample-data";

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
