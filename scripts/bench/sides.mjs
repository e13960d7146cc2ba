// The two sides measured: the project and the floor (../shared/bench/floor: the least work
// this design can do), each a `wrangler dev` on fresh state, with the same subscriptions.
import { adminClient, startDispatcher, startFloor } from "../lib/dev-server.mjs";
import { BURST, FILTERS, SCENARIOS } from "./workloads.mjs";

/**
 * Starts both sides and subscribes their channels, all delivering to `sink` (the floor's to
 * `${sink}/floor`). Each side: { name, url, pid (its process group), headers for intake }.
 */
export async function startSides(sink) {
  const [project, floor] = await Promise.all([startDispatcher(), startFloor(`${sink}/floor`)]);
  const admin = adminClient(project);
  const sides = {
    project: {
      name: "project",
      url: project.url,
      pid: project.pid,
      headers: { Authorization: `Bearer ${project.vars.INTAKE_TOKEN}`, "Content-Type": "application/json" },
    },
    floor: { name: "floor", url: floor.url, pid: floor.pid, headers: { "Content-Type": "application/json" } },
  };

  // The same subscriptions on both sides.
  let channelNo = 0;
  for (const { type, channels } of [...SCENARIOS, BURST]) {
    const n = type === BURST.type ? 1 : channels;
    for (let i = 0; i < n; i++) {
      channelNo++;
      await admin("POST", "/webhooks", { Name: `bench ${channelNo}`, URL: `${sink}/project/${channelNo}`, Events: [type] });
      await fetch(`${floor.url}/channels`, { method: "POST", body: JSON.stringify({ id: `c${channelNo}`, event: type }) });
    }
  }
  // Filters: the project's only (the floor has none).
  for (const { type, filtered } of FILTERS) {
    for (let i = 0; i < 100; i++) {
      channelNo++;
      const Filter = filtered ? { "Message.OrgID": i % 2 ? 2 : 1 } : null;
      await admin("POST", "/webhooks", { Name: `bench ${channelNo}`, URL: `${sink}/project/${channelNo}`, Events: [type], Filter });
    }
  }
  return { ...sides, stop: () => Promise.all([project.stop(), floor.stop()]) };
}
