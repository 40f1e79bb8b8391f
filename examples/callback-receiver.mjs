// Receives Countersign's signed callbacks instead of waiting on a long poll.
//
//   COUNTERSIGN_SECRET=whsec_... PORT=8787 node examples/callback-receiver.mjs
//
// Give requests `"callback_url": "https://<this host>/countersign"` (allowed by the server's
// COUNTERSIGN_CALLBACK_ALLOW). Delivery is retried until a 2xx, with the same webhook-id each
// time, so answer 2xx only once the outcome is safely recorded, and ignore a webhook-id already seen.
import { createServer } from 'node:http';
import { CountersignError, verifyCallback } from 'countersign';

const seen = new Set();

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let event;
    try {
      // Verify the raw bytes, before any JSON parsing.
      event = verifyCallback(Buffer.concat(chunks), req.headers, process.env.COUNTERSIGN_SECRET);
    } catch (err) {
      if (!(err instanceof CountersignError)) throw err;
      res.writeHead(401).end();
      return;
    }
    const id = req.headers['webhook-id'];
    if (!seen.has(id)) {
      seen.add(id);
      const r = event.data;
      console.log(`${event.type}: ${r.id} ${r.action} "${r.title}" payload_sha256=${r.payload_sha256}`);
    }
    res.writeHead(204).end();
  });
}).listen(Number(process.env.PORT ?? 8787));
