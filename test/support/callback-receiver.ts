import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as received. */
  body: string;
  /** What the receiver answered. */
  answered: number;
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
}

/**
 * A pipeline's callback endpoint on 127.0.0.1: records every POST it receives and answers from a
 * script (`failWith`), then 200. Any other path is recorded under `elsewhere` (e.g. a redirect
 * target that must never be followed).
 */
export class CallbackReceiver {
  readonly deliveries: Delivery[] = [];
  readonly elsewhere: Delivery[] = [];
  private readonly script: Answer[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const onHook = path === '/hook';
        const answer = onHook ? (this.script.shift() ?? { status: 200 }) : { status: 200 };
        const delivery = {
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          answered: answer.status,
          at: Date.now(),
        };
        (onHook ? this.deliveries : this.elsewhere).push(delivery);
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.status < 300 ? 'ok' : 'nope');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The callback_url to give a request. */
  get hook(): string {
    return `${this.url}/hook`;
  }

  /** The next POSTs to /hook get these answers, in order; later ones get 200. */
  failWith(...answers: Answer[]): void {
    this.script.push(...answers);
  }

  /** The first delivery that was answered 2xx. */
  accepted(): Delivery | undefined {
    return this.deliveries.find((d) => d.answered >= 200 && d.answered < 300);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
