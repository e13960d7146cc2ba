/** src/http/outbound.ts: the final answer read behind interim (1xx) responses. */
import { describe, expect, it } from "vitest";
import { finalAfterInterim } from "../../src/http/outbound";

describe("finalAfterInterim: the answer behind an interim response", () => {
  it("reads the final status, headers and de-chunked body after any number of 1xx", () => {
    const raw =
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nslow \r\n4\r\ndown\r\n0\r\n\r\n";
    const final = finalAfterInterim(raw)!;
    expect(final.status).toBe(429);
    expect(final.headers.get("retry-after")).toBe("7");
    expect(final.body).toBe("slow down");
  });

  it("finds nothing in bytes that hold no final response", () => {
    expect(finalAfterInterim("")).toBeUndefined();
    expect(finalAfterInterim("HTTP/1.1 100 Continue\r\n\r\n")).toBeUndefined();
    expect(finalAfterInterim("not http at all")).toBeUndefined();
  });
});
