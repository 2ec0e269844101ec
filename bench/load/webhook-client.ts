import http from 'node:http';
import type { Delivery } from './webhook-events';

export interface WebhookTarget {
  name: string;
  port: number;
  path: string;
}

/** 0 when no HTTP answer came (connection error or timeout). */
export type HttpStatus = number;

const TIMEOUT_MS = 10_000;

/** A keep-alive connection pool; the closed loop sizes it to its concurrency so connections stay put. */
export function webhookAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/** POSTs one signed delivery as Stripe does and marks its event answered on a 2xx. */
export function deliver(agent: http.Agent, target: WebhookTarget, delivery: Delivery): Promise<HttpStatus> {
  const { event, signature } = delivery;
  event.deliveries++;
  return new Promise((resolve) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.path,
        method: 'POST',
        agent,
        timeout: TIMEOUT_MS,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': event.body.length,
          'stripe-signature': signature,
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          accept: '*/*; q=0.5, application/xml',
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) event.answered = true;
          resolve(status);
        });
        response.on('error', () => resolve(0));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(0));
    request.end(event.body);
  });
}
