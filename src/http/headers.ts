import pkg from "../../package.json";

/*
 * What the dispatcher's outbound requests may carry: the methods a channel may use, the
 * syntax of a custom header, the headers only the dispatcher sets, and its User-Agent.
 * Channels' input schemas and the request builder both follow these.
 */

/** The methods a channel may deliver with (contract: `Method`). */
export const methods = ["POST", "PUT", "PATCH"] as const;

/** The contract names the project in the User-Agent of every request. */
export const USER_AGENT = `${pkg.name}/${pkg.version}`;

// RFC 9110 token characters.
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII, space and tab: no control character reaches a receiver's logs or parser.
export const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * Names the dispatcher sets or the HTTP layer owns. User-Agent is the dispatcher's own
 * (the contract names the project in it), so a channel cannot replace it.
 */
const RESERVED = new Set(["host", "content-length", "content-type", "transfer-encoding", "connection", "expect", "te", "upgrade", "keep-alive", "user-agent"]);
const RESERVED_PREFIXES = ["webhook-", "proxy-"];
export const RESERVED_TEXT =
  "Host, Content-Length, Content-Type, Transfer-Encoding, Connection, Expect, TE, Upgrade, Keep-Alive, User-Agent, Proxy-*, webhook-*";

/** Whether a custom header of this name is refused (and dropped, were one stored before the rule). */
export const isReservedHeader = (name: string) => {
  const lower = name.toLowerCase();
  return RESERVED.has(lower) || RESERVED_PREFIXES.some((prefix) => lower.startsWith(prefix));
};
