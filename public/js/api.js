// The admin API, with the token from this browser tab's session (never in a URL).

const KEY = "adminToken";

export class ApiError extends Error {
  constructor(status, errors) {
    super(errors.join("; "));
    this.status = status;
    this.errors = errors;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(KEY);
  },
  signIn(token) {
    sessionStorage.setItem(KEY, token);
  },
  signOut() {
    sessionStorage.removeItem(KEY);
  },
};

export async function api(method, path, body, token = session.token) {
  return (await call(method, path, body, token)).data;
}

/**
 * One page of a list: its items, and the cursor of the page after it, taken from the
 * `Link: <…>; rel="next"` header (RFC 8288), or null on the last page.
 */
export async function apiPage(path) {
  const { data, res } = await call("GET", path);
  const next = /<([^>]*)>\s*;\s*rel="next"/.exec(res.headers.get("Link") ?? "")?.[1];
  return { items: data, next: next ? new URL(next, location.href).searchParams.get("cursor") : null };
}

async function call(method, path, body, token = session.token) {
  const res = await fetch(`/portal-api${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token ?? ""}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const errors = Array.isArray(data.errors) && data.errors.length ? data.errors : [`request: ${res.status} ${res.statusText}`];
    // A session whose token stopped working (rotated, or the tab outlived it) signs out.
    if (res.status === 401 && token === session.token) window.dispatchEvent(new CustomEvent("unauthorized"));
    throw new ApiError(res.status, errors);
  }
  return { data, res };
}

/** Splits "Headers.0.Name: is reserved" into its field and message. */
export function splitError(error) {
  const at = error.indexOf(": ");
  return at < 0 ? { field: "", message: error } : { field: error.slice(0, at), message: error.slice(at + 2) };
}

/**
 * An API error as a sentence for people: "Enabled: the webhook is disabled; enable it
 * first" becomes "The webhook is disabled; enable it first." The field stays for forms,
 * which show the message beside it.
 */
export function humanError(err) {
  const errors = err?.errors ?? [err?.message ?? String(err)];
  return errors
    .map((e) => splitError(e).message)
    .map((m) => `${m.charAt(0).toUpperCase()}${m.slice(1)}${/[.!?]$/.test(m) ? "" : "."}`)
    .join(" ");
}
