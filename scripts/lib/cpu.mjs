// CPU time used by a started `wrangler dev` (its process group: wrangler's Node process,
// which proxies every request, and workerd, which runs the worker, D1 and the queues).
// Far steadier than throughput on a shared machine: it does not count time spent waiting.
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100;

/** CPU seconds used so far by the processes of group `pgid`, as { workerd, wrangler }. */
export function groupCpuSeconds(pgid) {
  const used = { workerd: 0, wrangler: 0 };
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command name, which may itself hold spaces: state ppid pgrp … utime stime.
    const close = stat.lastIndexOf(")");
    const name = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    if (Number(fields[2]) !== pgid) continue;
    const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    used[name.includes("workerd") ? "workerd" : "wrangler"] += seconds;
  }
  return used;
}
