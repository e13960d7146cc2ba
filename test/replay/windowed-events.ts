import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { recordingQueue } from "../doubles";
import { appWith } from "../helpers";

/* Shared by the replay and the search tests: events posted in a window that holds only this test's. */

/** The app with a queue that records what it is sent. */
export function withQueue() {
  const queue = recordingQueue();
  return { queue, ...appWith({ DELIVERIES: queue }) };
}

/**
 * A time after everything earlier tests stored: the clock moves on with I/O, so a window
 * that starts here holds this test's events only.
 */
export async function freshSince(): Promise<string> {
  const start = Date.now();
  while (Date.now() <= start) await env.DB.prepare("select 1").run();
  return new Date(Date.now()).toISOString();
}

export async function postAll(post: (body: string) => Response | Promise<Response>, bodies: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const body of bodies) {
    const res = await post(body);
    expect(res.status).toBe(202);
    ids.push((await res.json<{ ID: string }>()).ID);
  }
  return ids;
}
