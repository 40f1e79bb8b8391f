import type { ServerResponse } from 'node:http';
import { refuse } from './respond.js';
import type { RoutedRequest } from './router.js';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than ${limit} bytes`);
  }
}

/** Too many bodies are being received at once (the server's body budget is spent). */
export class ServerBusyError extends Error {
  constructor() {
    super('the server is receiving too many request bodies at once');
  }
}

/** The client went away (or was cut off by a timeout) before the body was complete. */
export class BodyAbortedError extends Error {
  constructor() {
    super('the request body did not arrive whole');
  }
}

/** "1 MiB", "256 KiB", "512 bytes". */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/**
 * Reads the raw body within the route's limit. Before a byte is read it reserves, from the server's
 * body budget, what it may buffer (the declared length, or the limit for a chunked body); the
 * reservation is given back once the body is read or refused. Past the limit it stops at once,
 * without buffering the rest.
 */
export function readBody(req: RoutedRequest): Promise<Buffer> {
  const limit = req.bodyLimit;
  const declaredHeader = req.headers['content-length'];
  const declared = declaredHeader === undefined ? null : Number(declaredHeader);
  if (declared !== null && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  const chunked = req.headers['transfer-encoding'] !== undefined;
  const reserved = chunked ? limit : (declared ?? 0);
  if (!req.bodyBudget.take(reserved)) return Promise.reject(new ServerBusyError());
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      req.bodyBudget.give(reserved);
      req.off('data', onData);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        req.pause();
        settle(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => settle(null));
    req.once('error', () => settle(new BodyAbortedError()));
    req.once('close', () => settle(req.complete ? null : new BodyAbortedError()));
  });
}

/**
 * The body, or null after answering why not: `413` past the route's limit, `503` when the server's
 * body budget is spent (both with `Connection: close`, the rest unread), nothing when the client
 * is gone.
 */
export async function readBodyOrRefuse(req: RoutedRequest, res: ServerResponse): Promise<Buffer | null> {
  try {
    return await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      refuse(req, res, 413, 'payload_too_large', {
        message: `the body may be at most ${sizeText(err.limit)}`,
      });
      return null;
    }
    if (err instanceof ServerBusyError) {
      refuse(
        req,
        res,
        503,
        'server_busy',
        { message: 'the server is receiving too many requests at once; retry shortly' },
        { 'retry-after': '1' },
      );
      return null;
    }
    if (err instanceof BodyAbortedError) return null;
    throw err;
  }
}
