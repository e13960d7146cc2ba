import ipaddr from "ipaddr.js";

/**
 * The target-URL guard: a channel may only point at a public http(s) address, unless the
 * deployment allows private targets (local development). The WHATWG URL parser has already
 * turned every IPv4 spelling (decimal, hex, octal, short forms) into dotted quads and every
 * IPv6 one into its canonical form, so what is left to judge is one normalised host.
 *
 * Returns why the URL is refused, or null when it may be used.
 */
export function targetUrlProblem(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute http or https URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must use http or https";
  if (url.username || url.password) return "must not contain a user name or password";
  if (!url.hostname) return "must have a host";
  if (allowPrivate) return null;
  return privateHostProblem(url.hostname);
}

const IPV4_COMPATIBLE = ipaddr.parseCIDR("::/96");
const PRIVATE_SUFFIXES = [".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan"];

function privateHostProblem(hostname: string): string | null {
  const host = hostname.replace(/\.+$/, "").toLowerCase();
  const literal = host.startsWith("[") ? host.slice(1, -1) : host;

  if (ipaddr.isValid(literal)) {
    let address = ipaddr.parse(literal);
    if (address.kind() === "ipv6") {
      const v6 = address as ipaddr.IPv6;
      if (v6.isIPv4MappedAddress()) address = v6.toIPv4Address();
      // ipaddr.js calls the deprecated IPv4-compatible range (::a.b.c.d) unicast; it
      // embeds an IPv4 address (::127.0.0.1 is loopback), so none of it is allowed.
      else if (v6.match(IPV4_COMPATIBLE)) return "must not target an IPv4-compatible IPv6 address (::/96, deprecated)";
    }
    // NAT64, 6to4, Teredo and SIIT addresses embed an IPv4 address too: their ranges are
    // not "unicast", so they are refused below with the rest.
    const range = address.range();
    return range === "unicast" ? null : `must not target a ${describeRange(range)} address`;
  }
  if (host === "localhost" || PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return "must not target a local or internal host name";
  }
  if (!host.includes(".")) return "must have a fully qualified host name";
  return null;
}

function describeRange(range: string): string {
  const words = range.replace(/([A-Z])/g, " $1").toLowerCase();
  return words === "unspecified" ? "unspecified (0.0.0.0 or ::)" : words;
}
