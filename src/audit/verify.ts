import { createPublicKey, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { AuditCheckpointRow, AuditReader } from '../store/audit-reader.js';
import { GENESIS_HASH, SIGNED_TYPES, storedEventHash, verifyHashSignature } from './chain.js';
import { keyIdOf } from './keys.js';
import { InlineSignatureChecker, type SignatureChecker, WorkerSignatureChecker } from './signature-check.js';

export type ProblemCode =
  /** An event is missing from the sequence (deleted, or the tail cut off). */
  | 'missing'
  /** The tail is shorter than a checkpoint says it was. */
  | 'truncated'
  /** prev_hash does not link to the event before. */
  | 'prev_hash'
  /** The stored content no longer gives the stored hash. */
  | 'hash'
  /** A column holds something the writer never writes (wrong type, invalid time). */
  | 'malformed'
  | 'signature_missing'
  | 'unknown_key'
  /** An `audit_keys` row is not an Ed25519 key, or not the key its id names. */
  | 'bad_key'
  /** Signed with a key the log had not registered (no `audit.key_registered` before it). */
  | 'key_not_registered'
  /** Signed with a registered key that is not one of those the verifier was told to trust. */
  | 'untrusted_key'
  | 'bad_signature'
  /** A stored checkpoint does not match the event it names. */
  | 'checkpoint_mismatch'
  | 'checkpoint_signature'
  /** An `audit.checkpoint` event whose `audit_checkpoints` row was removed. */
  | 'checkpoint_missing'
  /** The event does not have the hash an outside checkpoint recorded. */
  | 'outside_checkpoint';

export interface VerifyProblem {
  /** The first bad event (for a missing event: the seq that should be there). */
  seq: number;
  /** Its type as stored; null when the event is missing. */
  type: string | null;
  code: ProblemCode;
  message: string;
}

export interface VerifySummary {
  /** Events checked (all of them when the log verifies). */
  events: number;
  signedEvents: number;
  keys: number;
  checkpoints: number;
  head: { seq: number; hash: string };
  /** Whether an outside checkpoint was given and matched. */
  outsideCheckpoint: boolean;
}

export type VerifyResult =
  | { ok: true; summary: VerifySummary }
  | { ok: false; problem: VerifyProblem; summary: VerifySummary };

export interface OutsideCheckpoint {
  seq: number;
  hash: string;
}

export interface VerifyOptions {
  /** A `<seq>:<hash>` kept outside the database (e.g. from the audit Slack channel). */
  checkpoint?: OutsideCheckpoint;
  /**
   * Worker threads for signature checks; 0 checks in this thread. By default the available cores
   * (at most 8) once the log has a few thousand events.
   */
  threads?: number;
  /** Whether the worker threads may use libsodium when it is installed (default true; see signature-check.ts). */
  libsodium?: boolean;
  /**
   * Key ids (see `keyIdOf`) of the only keys whose signatures count (`--trusted-key`): without it,
   * any key the log registers is trusted, so someone who can write the database can register a key
   * of their own and sign with it.
   */
  trustedKeyIds?: ReadonlySet<string>;
}

/** Parses `<seq>:<hash>` (64 hex digits); returns an error text when it is not one. */
export function parseOutsideCheckpoint(text: string): OutsideCheckpoint | string {
  const m = /^\s*#?(\d{1,15}):([0-9a-fA-F]{64})\s*$/.exec(text);
  if (!m?.[1] || !m[2] || Number(m[1]) < 1)
    return `--checkpoint takes <seq>:<hash>, e.g. 1234:${'ab'.repeat(32)} (as posted in the audit channel), got "${text}"`;
  return { seq: Number(m[1]), hash: m[2].toLowerCase() };
}

interface KeyEntry {
  pem: string;
  key: KeyObject | null;
  problem: string | null;
}

type CheckpointRow = AuditCheckpointRow;

type EventRow = [
  seq: unknown,
  at: unknown,
  type: unknown,
  requestId: unknown,
  actor: unknown,
  data: unknown,
  prevHash: unknown,
  hash: unknown,
  keyId: unknown,
  signature: unknown,
];

const short = (h: string) => (h.length > 16 ? `${h.slice(0, 12)}…` : h);
const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));
const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

async function loadKeys(reader: AuditReader): Promise<Map<string, KeyEntry>> {
  const keys = new Map<string, KeyEntry>();
  for (const row of await reader.keys()) {
    let key: KeyObject | null = null;
    let problem: string | null = null;
    try {
      key = createPublicKey(row.public_key);
      if (key.asymmetricKeyType !== 'ed25519') problem = `is a ${key.asymmetricKeyType} key, not Ed25519`;
      else if (keyIdOf(key) !== row.key_id) problem = `holds a public key whose id is ${keyIdOf(key)}`;
    } catch {
      problem = 'does not hold a readable public key';
    }
    keys.set(row.key_id, { pem: row.public_key, key: problem ? null : key, problem });
  }
  return keys;
}

async function loadCheckpoints(reader: AuditReader): Promise<Map<number, CheckpointRow[]>> {
  const bySeq = new Map<number, CheckpointRow[]>();
  for (const row of await reader.checkpoints()) {
    const list = bySeq.get(row.seq);
    if (list) list.push(row);
    else bySeq.set(row.seq, [row]);
  }
  return bySeq;
}

const samePem = (a: string, b: string) => a.replace(/\s+/g, '') === b.replace(/\s+/g, '');

/**
 * Recomputes the whole chain from seq 1, streaming rows: a gap-free sequence, each prev_hash
 * linking to the event before, each hash recomputed from the stored content, each signature (every
 * event of a SIGNED_TYPES type must carry one) checked with the key its key id names in
 * `audit_keys` (which must be a key the log registered earlier); then every stored checkpoint and
 * the optional outside one (the event exists, has that hash, the signature holds), which also
 * catches a log cut shorter than a checkpoint. Reports the first bad event.
 *
 * Reads through `reader` (one consistent snapshot, on a connection of its own: see
 * `Store.openAuditReader`); the caller closes it.
 */
export async function verifyAudit(reader: AuditReader, opts: VerifyOptions = {}): Promise<VerifyResult> {
  let checker: SignatureChecker | null = null;
  try {
    const keys = await loadKeys(reader);
    const checkpoints = await loadCheckpoints(reader);
    let checkpointCount = 0;
    let lastCheckpoint: CheckpointRow | null = null;
    for (const list of checkpoints.values()) {
      checkpointCount += list.length;
      const last = list[list.length - 1];
      if (last && (lastCheckpoint === null || last.seq > lastCheckpoint.seq)) lastCheckpoint = last;
    }
    const maxSeq = await reader.maxSeq();
    const threads = opts.threads ?? (maxSeq >= 4000 ? Math.min(availableParallelism(), 8) : 0);
    const usable = new Map<string, KeyEntry>([...keys].filter(([, k]) => k.key !== null));
    checker =
      threads > 0
        ? new WorkerSignatureChecker(new Map([...usable].map(([id, k]) => [id, k.pem])), threads, {
            libsodium: opts.libsodium !== false,
          })
        : new InlineSignatureChecker(new Map([...usable].map(([id, k]) => [id, k.key as KeyObject])));

    const outside = opts.checkpoint ?? null;
    const registered = new Set<string>();
    let problem: VerifyProblem | null = null;
    let expected = 1;
    let prevHash = GENESIS_HASH;
    let signed = 0;
    const fail = (seq: number, type: string | null, code: ProblemCode, message: string) => {
      problem = { seq, type, code, message };
    };

    scan: for await (const batch of reader.events()) {
      for (const row of batch as EventRow[]) {
        const [seq, at, type, requestId, actor, data, prev, hash, keyId, signature] = row;
        const typeName = isStr(type) ? type : null;
        if (seq !== expected) {
          fail(expected, null, 'missing', `event #${expected} is missing: the next stored event is #${seq}`);
          break scan;
        }
        if (
          !isStr(type) ||
          !isStr(actor) ||
          !isStr(data) ||
          !isStr(prev) ||
          !isStr(hash) ||
          !isStrOrNull(requestId) ||
          !isStrOrNull(keyId) ||
          !isStrOrNull(signature) ||
          !Number.isSafeInteger(at)
        ) {
          fail(seq, typeName, 'malformed', 'a column holds a value of the wrong type');
          break scan;
        }
        if (prev !== prevHash) {
          fail(
            seq,
            type,
            'prev_hash',
            seq === 1
              ? `prev_hash is ${short(prev)}, not the genesis hash: events before it were removed`
              : `prev_hash ${short(prev)} is not the hash of event #${seq - 1} (${short(prevHash)}): an event before it was removed, reordered or changed`,
          );
          break scan;
        }
        let computed: string;
        try {
          computed = storedEventHash(prev, {
            seq,
            at: at as number,
            type,
            request_id: requestId,
            actor,
            data,
            key_id: keyId,
          });
        } catch {
          fail(seq, type, 'malformed', `its time (${at}) is not a valid time`);
          break scan;
        }
        if (computed !== hash) {
          fail(
            seq,
            type,
            'hash',
            `its content does not give its hash (stored ${short(hash)}, computed ${short(computed)}): its time, type, actor, request, data or key id was changed after it was written`,
          );
          break scan;
        }
        if (keyId === null && signature === null) {
          if (SIGNED_TYPES.has(type)) {
            fail(seq, type, 'signature_missing', `a ${type} event must be signed, but it has no signature`);
            break scan;
          }
        } else if (keyId === null || signature === null) {
          fail(
            seq,
            type,
            'signature_missing',
            keyId === null
              ? 'it has a signature but no key id'
              : `it names key ${keyId} but has no signature`,
          );
          break scan;
        } else {
          const entry = keys.get(keyId);
          if (!entry) {
            fail(seq, type, 'unknown_key', `it is signed with key ${keyId}, which is not in audit_keys`);
            break scan;
          }
          if (entry.problem !== null) {
            fail(
              seq,
              type,
              'bad_key',
              `it is signed with key ${keyId}, but that audit_keys row ${entry.problem}`,
            );
            break scan;
          }
          if (opts.trustedKeyIds && !opts.trustedKeyIds.has(keyId)) {
            fail(
              seq,
              type,
              'untrusted_key',
              `it is signed with key ${keyId}, which is not one of the keys given with --trusted-key`,
            );
            break scan;
          }
          if (!registered.has(keyId)) {
            fail(
              seq,
              type,
              'key_not_registered',
              `it is signed with key ${keyId}, which no audit.key_registered event before it registered`,
            );
            break scan;
          }
          signed++;
          await checker.submit(seq, hash, signature, keyId);
        }
        if (type === 'audit.key_registered') {
          let d: { key_id?: unknown; public_key?: unknown } = {};
          try {
            d = JSON.parse(data) as typeof d;
          } catch {}
          if (isStr(d.key_id)) {
            const entry = keys.get(d.key_id);
            if (!entry) {
              fail(
                seq,
                type,
                'unknown_key',
                `it registers key ${d.key_id}, which is missing from audit_keys`,
              );
              break scan;
            }
            if (isStr(d.public_key) && !samePem(d.public_key, entry.pem)) {
              fail(
                seq,
                type,
                'bad_key',
                `audit_keys holds another public key for ${d.key_id} than this event`,
              );
              break scan;
            }
            registered.add(d.key_id);
          }
        }
        const here = checkpoints.get(seq);
        if (here) {
          for (const cp of here) {
            if (cp.head_hash !== hash || type !== 'audit.checkpoint' || cp.at !== at) {
              const what =
                cp.head_hash !== hash
                  ? `says its hash is ${short(cp.head_hash)}, but it is ${short(hash)}: the log was rewritten at or before #${seq}`
                  : type !== 'audit.checkpoint'
                    ? `points at a ${type} event instead of an audit.checkpoint event`
                    : `has time ${iso(cp.at)}, the event ${iso(at as number)}`;
              fail(seq, type, 'checkpoint_mismatch', `checkpoint ${cp.id} (taken ${iso(cp.at)}) ${what}`);
              break;
            }
            // The row repeats the event's own signature, which the chain check covers; anything else
            // in the row must verify on its own.
            if (cp.key_id === keyId && cp.signature === signature) continue;
            const key = keys.get(cp.key_id)?.key;
            if (!key || !verifyHashSignature(cp.head_hash, cp.signature, key)) {
              fail(seq, type, 'checkpoint_signature', `the signature of checkpoint ${cp.id} does not verify`);
              break;
            }
          }
          if (problem) break scan;
        } else if (type === 'audit.checkpoint') {
          fail(seq, type, 'checkpoint_missing', 'its audit_checkpoints row was removed');
          break scan;
        }
        if (outside && outside.seq === seq && outside.hash !== hash) {
          fail(
            seq,
            type,
            'outside_checkpoint',
            `the outside checkpoint says its hash is ${short(outside.hash)}, but it is ${short(hash)}: the log was rewritten at or before #${seq}`,
          );
          break scan;
        }
        if (checker.firstFailure !== null) break scan;
        prevHash = hash;
        expected++;
      }
    }

    const lastSeq = expected - 1;
    if (problem === null && checker.firstFailure === null) {
      const impossible = [...checkpoints.values()]
        .flat()
        .find((cp) => !Number.isSafeInteger(cp.seq) || cp.seq < 1);
      if (impossible)
        fail(
          1,
          null,
          'checkpoint_mismatch',
          `checkpoint ${impossible.id} names seq ${impossible.seq}, which no event can have`,
        );
      else if (lastCheckpoint && lastCheckpoint.seq > lastSeq)
        fail(
          lastSeq + 1,
          null,
          'truncated',
          `event #${lastSeq + 1} is missing: the log ends at #${lastSeq}, but checkpoint ${lastCheckpoint.id} (taken ${iso(lastCheckpoint.at)}) covers up to #${lastCheckpoint.seq}; the tail was cut off`,
        );
      else if (outside && outside.seq > lastSeq)
        fail(
          lastSeq + 1,
          null,
          'truncated',
          `event #${lastSeq + 1} is missing: the log ends at #${lastSeq}, but the outside checkpoint covers up to #${outside.seq}; the tail was cut off or rolled back`,
        );
    }
    const badSignature = await checker.finish();
    const found = problem as VerifyProblem | null;
    const summary: VerifySummary = {
      events: lastSeq,
      signedEvents: signed,
      keys: keys.size,
      checkpoints: checkpointCount,
      head: { seq: lastSeq, hash: prevHash },
      outsideCheckpoint: outside !== null && found === null && badSignature === null,
    };
    if (badSignature !== null && (found === null || badSignature <= found.seq)) {
      const ev = (await reader.event(badSignature)) ?? { type: 'unknown', key_id: null };
      summary.events = badSignature - 1;
      return {
        ok: false,
        summary,
        problem: {
          seq: badSignature,
          type: ev.type,
          code: 'bad_signature',
          message: `its signature does not verify with key ${ev.key_id}: it was re-signed or its hash replaced`,
        },
      };
    }
    if (found) return { ok: false, problem: found, summary };
    return { ok: true, summary };
  } finally {
    await checker?.close();
  }
}

/** One line naming the first bad event and what is wrong with it. */
export function describeProblem(p: VerifyProblem): string {
  return `event #${p.seq} (${p.type ?? 'missing'}): ${p.message} [${p.code}]`;
}

/** What `audit verify` prints: a summary when the log holds, the first bad event otherwise. */
export function verifyResultText(result: VerifyResult, outside?: OutsideCheckpoint): string {
  const s = result.summary;
  if (!result.ok)
    return `audit trail FAILED verification at ${describeProblem(result.problem)}\n${s.events} event(s) before it verified.`;
  const lines = [
    `audit trail verified: ${s.events} events (${s.signedEvents} signed), ${s.keys} key(s), ${s.checkpoints} checkpoint(s)`,
    `head: ${s.head.seq}:${s.head.hash}`,
  ];
  if (outside) lines.push(`outside checkpoint ${outside.seq}:${outside.hash} matches`);
  return lines.join('\n');
}
