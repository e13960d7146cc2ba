import { describe, expect, it } from "vitest";
import { api } from "../helpers";

describe("POST /portal-api/integrations/preview", () => {
  it("shows the request each subscribed type would produce, secrets masked, and its errors", async () => {
    const res = await api("POST", "/portal-api/integrations/preview", {
      URL: "https://api.example.com/contacts/{Message.Email}",
      Events: ["UserRegistered", "ApplicationRegistered"],
      Transform: { Body: `{"email": Message.Email}` },
      Auth: { Type: "basic" },
      HeaderNames: ["X-Api-Key"],
    });
    expect(res.status).toBe(200);
    const [user, app] = (await res.json()) as any[];
    expect(user.Event).toBe("UserRegistered");
    expect(user.URL).toMatch(/^https:\/\/api\.example\.com\/contacts\/[^/]+$/);
    expect(JSON.parse(user.Body)).toHaveProperty("email");
    expect(user.Headers).toContainEqual(["X-Api-Key", "[redacted]"]);
    expect(user.Headers).toContainEqual(["Authorization", "Basic [redacted]"]);
    expect(user.Error).toBeNull();
    expect(app.Error).toBe("URL: the event has no value at Message.Email");
  });
});
