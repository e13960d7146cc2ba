// A local HTTP receiver for the soak and the bench: the deliveries' target.
import http from "node:http";

/**
 * Listens on 127.0.0.1:`port` (0: any) and hands each request, once its whole body is in,
 * to `handle(req, res, body)`. Returns its base URL and `close()`.
 * @param {number} port @param {(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void} handle
 */
export async function startReceiver(port, handle) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}
