import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { verifyHashSignature } from './chain.js';

/**
 * Checks Ed25519 signatures over event hashes, either in this thread or spread over worker threads
 * (an Ed25519 verification costs far more than the SHA-256 of the chain, so this is where the time
 * of `audit verify` goes). Jobs name known keys only; the caller deals with unknown ones.
 */
export interface SignatureChecker {
  submit(seq: number, hash: string, signature: string, keyId: string): void | Promise<void>;
  /** The smallest seq seen failing so far (lets the caller stop early). */
  readonly firstFailure: number | null;
  /** Waits for every submitted job; returns the smallest seq whose signature did not verify. */
  finish(): Promise<number | null>;
  close(): Promise<void>;
}

export class InlineSignatureChecker implements SignatureChecker {
  firstFailure: number | null = null;

  constructor(private readonly keys: ReadonlyMap<string, KeyObject>) {}

  submit(seq: number, hash: string, signature: string, keyId: string): void {
    const key = this.keys.get(keyId);
    if (key && verifyHashSignature(hash, signature, key)) return;
    if (this.firstFailure === null || seq < this.firstFailure) this.firstFailure = seq;
  }

  async finish(): Promise<number | null> {
    return this.firstFailure;
  }

  async close(): Promise<void> {}
}

/**
 * Where libsodium's bindings are (the optional dependency `sodium-native`), or null. Its Ed25519
 * verification takes ~50 µs where OpenSSL 3's (node:crypto) takes ~105 µs on the bench machine,
 * which is what bounds `audit verify`. Without it the workers use node:crypto; both reject a
 * signature that is not a valid Ed25519 signature of the hash by the key.
 */
function sodiumPath(): string | null {
  try {
    return createRequire(import.meta.url).resolve('sodium-native');
  } catch {
    return null;
  }
}

/** The raw 32 bytes of an Ed25519 public key (what libsodium takes), as hex. */
function rawKeyHex(pem: string): string {
  const jwk = createPublicKey(pem).export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url').toString('hex');
}

/**
 * Plain CommonJS run by each worker (eval'd, so it works from `src/` under vitest and from `dist/`).
 * A batch is a flat array of [seq, hash hex, signature base64, key id] quadruples; the answer is
 * the seqs whose signature does not verify.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
let check;
try {
  if (!workerData.sodium) throw new Error('no libsodium');
  const sodium = require(workerData.sodium);
  const keys = new Map(workerData.keys.map(([id, , raw]) => [id, Buffer.from(raw, 'hex')]));
  check = (hash, signature, keyId) => {
    const key = keys.get(keyId);
    const sig = Buffer.from(signature, 'base64');
    return key !== undefined && sig.length === 64 && sodium.crypto_sign_verify_detached(sig, Buffer.from(hash, 'hex'), key);
  };
} catch {
  const keys = new Map(workerData.keys.map(([id, pem]) => [id, createPublicKey(pem)]));
  check = (hash, signature, keyId) => {
    const key = keys.get(keyId);
    return key !== undefined && verify(null, Buffer.from(hash, 'hex'), key, Buffer.from(signature, 'base64'));
  };
}
parentPort.on('message', (batch) => {
  const failed = [];
  for (let i = 0; i < batch.length; i += 4) {
    let ok = false;
    try {
      ok = check(batch[i + 1], batch[i + 2], batch[i + 3]);
    } catch {}
    if (!ok) failed.push(batch[i]);
  }
  parentPort.postMessage(failed);
});
`;

const BATCH = 256;

interface Pending {
  resolve: (failed: number[]) => void;
  reject: (err: unknown) => void;
}

export class WorkerSignatureChecker implements SignatureChecker {
  firstFailure: number | null = null;
  private readonly workers: Worker[] = [];
  private readonly queues: Pending[][] = [];
  private readonly inFlight: Promise<void>[] = [];
  private batch: (string | number)[] = [];
  private next = 0;
  private failure: unknown = null;

  /** `keys`: key id → public key PEM; `libsodium: false` keeps to node:crypto even when libsodium is there. */
  constructor(keys: ReadonlyMap<string, string>, threads: number, opts: { libsodium?: boolean } = {}) {
    const workerData = {
      keys: [...keys].map(([id, pem]) => [id, pem, rawKeyHex(pem)]),
      sodium: opts.libsodium === false ? null : sodiumPath(),
    };
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
      const queue: Pending[] = [];
      worker.on('message', (failed: number[]) => queue.shift()?.resolve(failed));
      worker.on('error', (err) => {
        this.failure = err;
        for (const p of queue.splice(0)) p.reject(err);
      });
      this.workers.push(worker);
      this.queues.push(queue);
    }
  }

  async submit(seq: number, hash: string, signature: string, keyId: string): Promise<void> {
    if (this.failure) throw this.failure;
    this.batch.push(seq, hash, signature, keyId);
    if (this.batch.length < BATCH * 4) return;
    this.dispatch();
    // Backpressure: a few batches per thread in flight, so memory stays flat on any log size.
    const first = this.inFlight[0];
    if (this.inFlight.length > this.workers.length * 4 && first) await first;
  }

  async finish(): Promise<number | null> {
    if (this.batch.length > 0) this.dispatch();
    while (this.inFlight.length > 0) await this.inFlight[0];
    return this.firstFailure;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    const batch = this.batch;
    this.batch = [];
    const index = this.next;
    this.next = (this.next + 1) % this.workers.length;
    const done = new Promise<number[]>((resolve, reject) => {
      this.queues[index]?.push({ resolve, reject });
      this.workers[index]?.postMessage(batch);
    }).then((failed) => {
      for (const seq of failed)
        if (this.firstFailure === null || seq < this.firstFailure) this.firstFailure = seq;
    });
    const tracked: Promise<void> = done.finally(() => {
      this.inFlight.splice(this.inFlight.indexOf(tracked), 1);
    });
    tracked.catch(() => {}); // a failure surfaces through finish() or submit()
    this.inFlight.push(tracked);
  }
}
