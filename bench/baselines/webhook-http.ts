/**
 * The HTTP half both plain webhook baselines share: GET /readyz, POST /webhooks/stripe with a 1 MiB
 * body limit and `stripe`'s constructEvent (the HMAC check and JSON.parse), then `onEvent` answers.
 * Listens on HTTP_PORT, prints {"ready":port}, and on SIGINT/SIGTERM closes, runs `close`, exits.
 */
import http from 'node:http';
import Stripe from 'stripe';

const MAX_BODY = 1024 * 1024;

export type Answer = (status: number, body: object) => void;

function answer(response: http.ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export function serveWebhook(secret: string, onEvent: (event: Stripe.Event, rawBody: string, answer: Answer) => void, close: () => Promise<void>): void {
  const server = http.createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/readyz') return answer(response, 200, { ready: true });
    if (request.method !== 'POST' || request.url !== '/webhooks/stripe') return answer(response, 404, { error: 'not found' });
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > MAX_BODY) return answer(response, 413, { error: 'too large' });
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let event: Stripe.Event;
      try {
        event = Stripe.webhooks.constructEvent(rawBody, request.headers['stripe-signature'] ?? '', secret);
      } catch {
        return answer(response, 400, { error: 'bad signature' });
      }
      onEvent(event, rawBody, (status, body) => answer(response, status, body));
    });
  });

  server.keepAliveTimeout = 65_000;
  server.listen(Number(process.env.HTTP_PORT ?? 0), '127.0.0.1', () => {
    console.log(JSON.stringify({ ready: (server.address() as { port: number }).port }));
  });

  const stop = () => {
    server.close(() => void close().then(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
