import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';

/**
 * One HTTP/1.1 exchange on a raw TCP connection, for what a well-behaved client never does: send
 * only the headers of a large body and stall, stall inside the headers, or use a request target
 * that `fetch` would normalise away.
 */
export interface RawExchange {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with the status code once a whole head (status line and headers) has arrived. */
  head: Promise<{ status: number; headers: Record<string, string>; raw: string }>;
  /** Resolves when the server ends its side (FIN) or the connection closes. */
  ended: Promise<void>;
  /** Resolves when the connection is closed; `data` is what arrived on it. */
  closed: Promise<{ data: string }>;
  /** Sends more bytes (e.g. the rest of a body). */
  write(bytes: string | Buffer): void;
  close(): void;
}

/** `keepOpen`: do not close our side when the server closes its own (a client that lingers). */
export function rawExchange(port: number, text: string, opts: { keepOpen?: boolean } = {}): RawExchange {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: opts.keepOpen === true });
  socket.on('error', () => {});
  let data = '';
  let onHead: (h: { status: number; headers: Record<string, string>; raw: string }) => void = () => {};
  const head = new Promise<{ status: number; headers: Record<string, string>; raw: string }>((resolve) => {
    onHead = resolve;
  });
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString('latin1');
    const end = data.indexOf('\r\n\r\n');
    if (end < 0) return;
    const lines = data.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    onHead({ status: Number(lines[0]?.split(' ')[1]), headers, raw: data });
  });
  const ended = new Promise<void>((resolve) => {
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
  });
  const closed = new Promise<{ data: string }>((resolve) => socket.once('close', () => resolve({ data })));
  socket.write(text);
  return {
    socket,
    received: () => data,
    head,
    ended,
    closed,
    write: (bytes) => socket.write(bytes),
    close: () => socket.destroy(),
  };
}

/** The request head of a POST, CRLF-terminated, with the given headers. */
export function postHead(target: string, headers: Record<string, string | number>): string {
  const lines = [`POST ${target} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export function connectionCount(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );
}
