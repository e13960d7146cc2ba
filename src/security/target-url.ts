import ipaddr from "ipaddr.js";

/**
 * The target-URL guard: a channel may only point at a public http(s) address that Workers
 * can reach as written, unless the deployment allows private targets (local development,
 * where `wrangler dev` fetches anything). The WHATWG URL parser has already turned every
 * IPv4 spelling (decimal, hex, octal, short forms) into dotted quads and every IPv6 one
 * into its canonical form, so what is left to judge is one normalised host and its port:
 *
 * - no IP address, public or not: Workers cannot fetch IP addresses at all ("requests can
 *   only be made to URLs, not to IP addresses directly", error 1003;
 *   https://developers.cloudflare.com/workers/platform/known-issues/);
 * - a port only from the list Cloudflare's proxy supports for the scheme
 *   (https://developers.cloudflare.com/fundamentals/reference/network-ports/). Custom ports
 *   are honoured since compatibility date 2024-09-02 (`allow_custom_ports`), but for a host
 *   behind Cloudflare's proxy any other port is ignored: the request silently goes to 443
 *   or 80 of the same host, another service, which may even answer 2xx. Whether a host is
 *   behind the proxy cannot be told from its name (nor lastingly from its DNS), so other
 *   ports are refused rather than warned about: a refusal is loud and cheap to fix, a
 *   delivery to the wrong service is neither.
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
  return hostProblem(url.hostname) ?? portProblem(url);
}

/** The ports Cloudflare's proxy forwards, by scheme (the network-ports page above). */
const CLOUDFLARE_PORTS: Record<string, readonly number[]> = {
  "http:": [80, 8080, 8880, 2052, 2082, 2086, 2095],
  "https:": [443, 2053, 2083, 2087, 2096, 8443],
};

function portProblem(url: URL): string | null {
  // The parser drops a scheme's default port, so "" is 80 or 443.
  if (!url.port) return null;
  const ports = CLOUDFLARE_PORTS[url.protocol]!;
  if (ports.includes(Number(url.port))) return null;
  const scheme = url.protocol.slice(0, -1);
  return `port ${url.port} cannot be used with ${scheme}: Cloudflare's proxy forwards only ${ports.join(", ")} (another port is ignored for a host behind it)`;
}

const IPV4_COMPATIBLE = ipaddr.parseCIDR("::/96");
const PRIVATE_SUFFIXES = [".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan"];

function hostProblem(hostname: string): string | null {
  const host = hostname.replace(/\.+$/, "").toLowerCase();
  const literal = host.startsWith("[") ? host.slice(1, -1) : host;

  if (ipaddr.isValid(literal)) {
    let address = ipaddr.parse(literal);
    if (address.kind() === "ipv6") {
      const v6 = address as ipaddr.IPv6;
      if (v6.isIPv4MappedAddress()) address = v6.toIPv4Address();
      // ipaddr.js calls the deprecated IPv4-compatible range (::a.b.c.d) unicast; it
      // embeds an IPv4 address (::127.0.0.1 is loopback), so none of it is allowed. Its
      // first two addresses have names of their own: ::1 loopback, :: unspecified.
      else if (v6.range() === "unicast" && v6.match(IPV4_COMPATIBLE)) return "must not target an IPv4-compatible IPv6 address (::/96, deprecated)";
    }
    // NAT64, 6to4, Teredo and SIIT addresses embed an IPv4 address too: their ranges are
    // not "unicast", so they are refused below with the rest.
    const range = address.range();
    if (range !== "unicast") return `must not target ${describeRange(range)}`;
    return "must name a host, not an IP address: Workers cannot fetch IP addresses (Cloudflare error 1003)";
  }
  if (host === "localhost" || PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return "must not target a local or internal host name";
  }
  if (!host.includes(".")) return "must have a fully qualified host name";
  return null;
}

/** "a loopback address", "a link local address", "an unspecified address (0.0.0.0 or ::)". */
function describeRange(range: string): string {
  const words = range.replace(/([A-Z])/g, " $1").toLowerCase();
  if (words === "unspecified") return "an unspecified address (0.0.0.0 or ::)";
  // "an rfc6052 address", "an ipv4-mapped address": the article follows the sound.
  return `${/^(?:[aeio]|u(?!ni)|rfc|ipv)/i.test(words) ? "an" : "a"} ${words} address`;
}
