/** A local target whose answer a browser test can switch. */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Receiver {
  url: string;
  /** The status the receiver answers with from now on. */
  status: number;
  received: { method: string; path: string; headers: http.IncomingHttpHeaders; body: string; at: number }[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receiver = {
    url: "",
    status: 200,
    received: [] as Receiver["received"],
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      receiver.received.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
      res.writeHead(receiver.status).end(receiver.status < 300 ? "thanks" : `refused with ${receiver.status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/crm`;
  receiver.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return receiver;
}
