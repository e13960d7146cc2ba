// The unreliable receiver: it fails about 42% of requests on purpose, and notes what did
// arrive (each 200, and every request to the ordered channel with when it was answered).
import { freePort } from "../lib/dev-server.mjs";
import { startReceiver } from "../lib/receiver.mjs";

/** A request's fate: 500 for 30%, a hang past the timeout for 5%, 429 for 5%, a reset for 2%, else 200. */
function drawOutcome() {
  const roll = Math.random();
  return roll < 0.3 ? "error500" : roll < 0.35 ? "hang" : roll < 0.4 ? "tooMany" : roll < 0.42 ? "reset" : "ok";
}

export async function startFaultyReceiver() {
  /** "<webhook-id> <path>" → number of 200s sent. */
  const arrivals = new Map();
  const tally = { requests: 0, ok: 0, error500: 0, hang: 0, tooMany: 0, reset: 0 };
  /** The ordered channel's arrivals, every one: { id (webhook-id), lane, at, answeredAt, outcome } (ms, performance.now()). */
  const ordered = [];
  /** Each path's last 200 (performance.now()): when each channel was drained. */
  const lastSuccess = new Map();

  const { base, close } = await startReceiver(await freePort(), (req, res, body) => {
    const at = performance.now();
    tally.requests++;
    const outcome = drawOutcome();
    tally[outcome]++;
    const arrival = req.url === "/ordered" ? { id: req.headers["webhook-id"], lane: JSON.parse(body.toString()).Message?.ID, at, outcome } : {};
    if (req.url === "/ordered") ordered.push(arrival);
    // Answered when the response is out, or the connection gone (a reset, a killed worker).
    const answered = () => {
      arrival.answeredAt ??= performance.now();
    };
    res.once("finish", answered);
    res.once("close", answered);
    if (outcome === "error500") return res.writeHead(500).end("try again");
    if (outcome === "hang") return setTimeout(() => res.writeHead(200).end("too late"), 2500);
    if (outcome === "tooMany") return res.writeHead(429, { "Retry-After": "1" }).end("slow down");
    if (outcome === "reset") return req.socket.destroy();
    const key = `${req.headers["webhook-id"]} ${req.url}`;
    arrivals.set(key, (arrivals.get(key) ?? 0) + 1);
    lastSuccess.set(req.url, at);
    res.writeHead(200).end("ok");
  });
  return { base, arrivals, tally, ordered, lastSuccess, close };
}
