import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHash } from '../../src/audit/chain.js';
import { keyIdOf, loadSigningKey } from '../../src/audit/keys.js';
import { verifyAuditFile } from '../../src/audit/open-readonly.js';
import type { VerifyOptions, VerifyResult } from '../../src/audit/verify.js';
import {
  type AuditFixture,
  auditFixture,
  buildLog,
  events,
  newKeyPem,
  rechain,
  renumber,
  seqOf,
  signerFor,
  tamperCopy,
} from './audit-fixture.js';

let f: AuditFixture;
let n = 0;
/** Another Ed25519 key: an attacker's, or a key the server never used. */
const other = loadSigningKey(newKeyPem(), ':memory:');

beforeAll(async () => {
  f = await auditFixture();
  await buildLog(f);
  await f.close();
});
afterAll(() => f.remove());

/** Copies the pristine log, lets `tamper` change it, then verifies the copy. */
async function verifyAfter(
  tamper: (db: ReturnType<typeof tamperCopy>['db']) => void,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const copy = tamperCopy(f, `tampered-${++n}`);
  try {
    tamper(copy.db);
  } finally {
    copy.db.close();
  }
  return verifyAuditFile(copy.path, opts);
}

function failure(result: VerifyResult) {
  if (result.ok) throw new Error('expected verification to fail, but it passed');
  return result.problem;
}

/** A middle event of the pristine log: Bob's first vote on the two-approval request. */
function middleVote(db: ReturnType<typeof tamperCopy>['db']) {
  const seq = seqOf(db, 'vote.recorded', 1);
  const row = events(db).find((e) => e.seq === seq);
  if (!row) throw new Error('no middle vote');
  return row;
}

describe('an untouched log', () => {
  it('verifies, with every decision and vote signed', async () => {
    const result = await verifyAfter(() => {});
    expect(result.ok).toBe(true);
    const copy = tamperCopy(f, 'look');
    const rows = events(copy.db);
    copy.db.close();
    const decisions = rows.filter((e) =>
      /^(vote\.recorded|request\.(approved|denied|expired|cancelled))$/.test(e.type),
    );
    expect(decisions.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'vote.recorded',
        'request.approved',
        'request.denied',
        'request.expired',
        'request.cancelled',
      ]),
    );
    for (const e of decisions) {
      expect(e.key_id).toBe(f.key.keyId);
      expect(e.signature).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    }
    expect(result.summary).toMatchObject({
      events: rows.length,
      signedEvents: rows.filter((e) => e.signature !== null).length,
      keys: 1,
      checkpoints: 3,
      head: { seq: rows.length, hash: rows.at(-1)?.hash },
    });
  });

  it('verifies on worker threads too, with libsodium and with node:crypto', async () => {
    expect((await verifyAfter(() => {}, { threads: 2 })).ok).toBe(true);
    expect((await verifyAfter(() => {}, { threads: 2, libsodium: false })).ok).toBe(true);
  });

  it('matches an outside checkpoint taken from it', async () => {
    const copy = tamperCopy(f, 'outside-ok');
    const head = events(copy.db).at(-1);
    copy.db.close();
    if (!head) throw new Error('empty log');
    const result = await verifyAuditFile(copy.path, { checkpoint: { seq: head.seq, hash: head.hash } });
    expect(result).toMatchObject({ ok: true, summary: { outsideCheckpoint: true } });
  });
});

describe('one field of a middle event changed', () => {
  it.each([
    ['data', (e: { data: string }) => ({ data: e.data.replace('"approve"', '"deny"') })],
    ['actor', () => ({ actor: 'UMALLORY' })],
    ['at', (e: { at: number }) => ({ at: e.at + 1 })],
    ['type', () => ({ type: 'vote.refused' })],
    ['request_id', () => ({ request_id: 'req_SOMETHINGELSE' })],
  ] as const)('%s → the event is named, its hash no longer matches', async (field, change) => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      const row = middleVote(db);
      seq = row.seq;
      const value = (change as (e: typeof row) => Record<string, unknown>)(row)[field];
      expect(value).not.toEqual(row[field as keyof typeof row]);
      db.prepare(`UPDATE audit_events SET ${field} = ? WHERE seq = ?`).run(value, seq);
    });
    expect(failure(result)).toMatchObject({ seq, code: 'hash' });
    expect(result.summary.events).toBe(seq - 1);
  });

  it('data changed and every later hash recomputed (no private key) → its signature fails', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      const row = middleVote(db);
      seq = row.seq;
      db.prepare('UPDATE audit_events SET data = ? WHERE seq = ?').run(
        row.data.replace('"approve"', '"deny"'),
        seq,
      );
      rechain(db, seq);
    });
    expect(failure(result)).toMatchObject({ seq, code: 'bad_signature', type: 'vote.recorded' });
  });

  it('an unsigned event changed and the chain recomputed → the next signed event fails', async () => {
    let refused = 0;
    let nextSigned = 0;
    const result = await verifyAfter((db) => {
      refused = seqOf(db, 'vote.refused', 1);
      nextSigned = events(db).find((e) => e.seq > refused && e.signature !== null)?.seq ?? 0;
      db.prepare("UPDATE audit_events SET data = replace(data, 'already_voted', 'bot') WHERE seq = ?").run(
        refused,
      );
      rechain(db, refused);
    });
    expect(nextSigned).toBeGreaterThan(refused);
    expect(failure(result)).toMatchObject({ seq: nextSigned, code: 'bad_signature' });
  });

  it('a stored time that is not a time → malformed', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      seq = middleVote(db).seq;
      db.prepare("UPDATE audit_events SET at = 'yesterday' WHERE seq = ?").run(seq);
    });
    expect(failure(result)).toMatchObject({ seq, code: 'malformed' });
  });
});

describe('events removed or reordered', () => {
  it('a deleted middle event is named as missing', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      seq = middleVote(db).seq;
      db.prepare('DELETE FROM audit_events WHERE seq = ?').run(seq);
    });
    expect(failure(result)).toMatchObject({ seq, code: 'missing', type: null });
  });

  it('a deletion hidden by renumbering and rehashing → the first signed event from there fails', async () => {
    let expected = 0;
    const result = await verifyAfter((db) => {
      const seq = seqOf(db, 'vote.refused', 0);
      db.prepare('DELETE FROM audit_events WHERE seq = ?').run(seq);
      renumber(db);
      rechain(db, seq);
      expected = events(db).find((e) => e.seq >= seq && e.signature !== null)?.seq ?? 0;
    });
    expect(failure(result)).toMatchObject({ seq: expected, code: 'bad_signature' });
  });

  it('two events swapped (contents exchanged) → the first of them is named', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      seq = middleVote(db).seq;
      const cols = 'at, type, request_id, actor, data, prev_hash, hash, key_id, signature';
      const [a, b] = [seq, seq + 1].map((s) =>
        db.prepare(`SELECT ${cols} FROM audit_events WHERE seq = ?`).get(s),
      ) as Record<string, unknown>[];
      const set = db.prepare(
        `UPDATE audit_events SET at=@at, type=@type, request_id=@request_id, actor=@actor, data=@data, prev_hash=@prev_hash, hash=@hash, key_id=@key_id, signature=@signature WHERE seq=@seq`,
      );
      set.run({ ...b, seq });
      set.run({ ...a, seq: seq + 1 });
    });
    expect(failure(result)).toMatchObject({ seq });
    expect(['prev_hash', 'hash']).toContain(failure(result).code);
  });

  it('two events swapped (sequence numbers exchanged) → the first of them is named', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      seq = middleVote(db).seq;
      db.prepare('UPDATE audit_events SET seq = -1 WHERE seq = ?').run(seq);
      db.prepare('UPDATE audit_events SET seq = ? WHERE seq = ?').run(seq, seq + 1);
      db.prepare('UPDATE audit_events SET seq = ? WHERE seq = -1').run(seq + 1);
    });
    expect(failure(result).seq).toBe(seq);
  });
});

describe('the tail cut off', () => {
  it('is detected against a stored checkpoint', async () => {
    let cut = 0;
    const result = await verifyAfter((db) => {
      // Keep everything up to the first checkpoint; the later ones still cover what is gone.
      cut = seqOf(db, 'audit.checkpoint', 0) + 2;
      db.prepare('DELETE FROM audit_events WHERE seq > ?').run(cut);
    });
    const p = failure(result);
    expect(p).toMatchObject({ seq: cut + 1, code: 'truncated', type: null });
    expect(p.message).toMatch(/the log ends at #\d+, but checkpoint \d+ .* covers up to #\d+/);
  });

  it('with the checkpoint rows removed as well, only an outside checkpoint shows it', async () => {
    const copy = tamperCopy(f, 'outside-source');
    const head = events(copy.db).at(-1);
    copy.db.close();
    if (!head) throw new Error('empty log');
    const cutTail = (db: ReturnType<typeof tamperCopy>['db']) => {
      const cut = seqOf(db, 'audit.checkpoint', 1);
      db.prepare('DELETE FROM audit_events WHERE seq > ?').run(cut);
      db.prepare('DELETE FROM audit_checkpoints WHERE seq > ?').run(cut);
      return cut;
    };
    expect((await verifyAfter(cutTail)).ok).toBe(true);
    const result = await verifyAfter(cutTail, { checkpoint: { seq: head.seq, hash: head.hash } });
    expect(failure(result)).toMatchObject({ code: 'truncated' });
    expect(failure(result).message).toMatch(/outside checkpoint covers up to/);
  });

  it('a log rewritten from the start under a new key is caught only by an outside checkpoint', async () => {
    // The attacker removes a refusal, renumbers, drops the checkpoints, swaps in a key of their own
    // (in audit_keys and in the registration event) and re-signs everything: a self-consistent log.
    const rewrite = (db: ReturnType<typeof tamperCopy>['db']) => {
      db.prepare('DELETE FROM audit_events WHERE seq = ?').run(seqOf(db, 'vote.refused', 0));
      db.prepare("DELETE FROM audit_events WHERE type = 'audit.checkpoint'").run();
      db.prepare('DELETE FROM audit_checkpoints').run();
      renumber(db);
      db.prepare('UPDATE audit_keys SET public_key = ?, key_id = ?').run(other.publicKeyPem, other.keyId);
      db.prepare(
        "UPDATE audit_events SET data = json_set(data, '$.key_id', ?, '$.public_key', ?) WHERE type = 'audit.key_registered'",
      ).run(other.keyId, other.publicKeyPem);
      rechain(db, 1, signerFor(other));
    };
    expect((await verifyAfter(rewrite)).ok).toBe(true);
    const copy = tamperCopy(f, 'pristine-denial');
    const denial = events(copy.db).find((e) => e.type === 'request.denied');
    copy.db.close();
    if (!denial) throw new Error('no denial');
    const result = await verifyAfter(rewrite, { checkpoint: { seq: denial.seq, hash: denial.hash } });
    expect(failure(result)).toMatchObject({ seq: denial.seq, code: 'outside_checkpoint' });
  });
});

describe('re-signed with another key', () => {
  it('a key id that is not in audit_keys → unknown key, at that event', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      seq = middleVote(db).seq;
      db.prepare('UPDATE audit_events SET key_id = ? WHERE seq = ?').run(other.keyId, seq);
      rechain(db, seq); // hashes relinked; the tampered event re-signed below
      const row = events(db).find((e) => e.seq === seq);
      db.prepare('UPDATE audit_events SET signature = ? WHERE seq = ?').run(
        signHash(row?.hash ?? '', other.privateKey),
        seq,
      );
    });
    expect(failure(result)).toMatchObject({ seq, code: 'unknown_key' });
    expect(failure(result).message).toContain(other.keyId);
  });

  it('the attacker key slipped into audit_keys → not registered by the log', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      seq = middleVote(db).seq;
      db.prepare('INSERT INTO audit_keys (key_id, public_key, created_at) VALUES (?, ?, ?)').run(
        other.keyId,
        other.publicKeyPem,
        Date.now(),
      );
      db.prepare('UPDATE audit_events SET key_id = ? WHERE seq = ?').run(other.keyId, seq);
      rechain(db, seq);
      const row = events(db).find((e) => e.seq === seq);
      db.prepare('UPDATE audit_events SET signature = ? WHERE seq = ?').run(
        signHash(row?.hash ?? '', other.privateKey),
        seq,
      );
    });
    expect(failure(result)).toMatchObject({ seq, code: 'key_not_registered' });
  });

  it('the signature replaced by one from another key, key id kept → bad signature', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      const row = middleVote(db);
      seq = row.seq;
      db.prepare('UPDATE audit_events SET signature = ? WHERE seq = ?').run(
        signHash(row.hash, other.privateKey),
        seq,
      );
    });
    expect(failure(result)).toMatchObject({ seq, code: 'bad_signature', type: 'vote.recorded' });
  });

  it.each([
    ['libsodium', true],
    ['node:crypto', false],
  ])('the same, found by the worker threads (%s)', async (_, libsodium) => {
    let seq = 0;
    const result = await verifyAfter(
      (db) => {
        const row = middleVote(db);
        seq = row.seq;
        db.prepare('UPDATE audit_events SET signature = ? WHERE seq = ?').run(
          signHash(row.hash, other.privateKey),
          seq,
        );
      },
      { threads: 2, libsodium },
    );
    expect(failure(result)).toMatchObject({ seq, code: 'bad_signature' });
  });

  it('a signature of the wrong length, found by the worker threads', async () => {
    let seq = 0;
    const result = await verifyAfter(
      (db) => {
        const row = middleVote(db);
        seq = row.seq;
        const sig = Buffer.from(row.signature ?? '', 'base64');
        db.prepare('UPDATE audit_events SET signature = ? WHERE seq = ?').run(
          Buffer.concat([sig, Buffer.from([0])]).toString('base64'),
          seq,
        );
      },
      { threads: 2 },
    );
    expect(failure(result)).toMatchObject({ seq, code: 'bad_signature' });
  });

  it('the signature removed from a decision → signature missing', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      seq = seqOf(db, 'request.denied');
      db.prepare('UPDATE audit_events SET signature = NULL WHERE seq = ?').run(seq);
    });
    expect(failure(result)).toMatchObject({ seq, code: 'signature_missing', type: 'request.denied' });
  });

  it('the public key in audit_keys swapped for another → named at its registration', async () => {
    const result = await verifyAfter((db) => {
      db.prepare('UPDATE audit_keys SET public_key = ?').run(other.publicKeyPem);
    });
    expect(failure(result)).toMatchObject({ seq: 1, code: 'bad_key', type: 'audit.key_registered' });
  });

  it('the key deleted from audit_keys → named at its registration', async () => {
    const result = await verifyAfter((db) => {
      db.prepare('DELETE FROM audit_keys').run();
    });
    expect(failure(result)).toMatchObject({ seq: 1, code: 'unknown_key' });
  });

  it('the key id names another public key → bad key at the first signed event', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      seq = events(db).find((e) => e.signature !== null)?.seq ?? 0;
      db.prepare('UPDATE audit_keys SET public_key = ?').run(other.publicKeyPem);
      db.prepare(
        "UPDATE audit_events SET data = json_set(data, '$.public_key', ?) WHERE type = 'audit.key_registered'",
      ).run(other.publicKeyPem);
      rechain(db, 1);
    });
    expect(keyIdOf(other.publicKey)).not.toBe(f.key.keyId);
    expect(failure(result)).toMatchObject({ seq, code: 'bad_key' });
  });
});

describe('checkpoints tampered with', () => {
  it('a checkpoint row with another hash', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      seq = seqOf(db, 'audit.checkpoint', 1);
      db.prepare('UPDATE audit_checkpoints SET head_hash = ? WHERE seq = ?').run('0'.repeat(64), seq);
    });
    expect(failure(result)).toMatchObject({ seq, code: 'checkpoint_mismatch' });
  });

  it('a checkpoint row re-signed with another key', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      seq = seqOf(db, 'audit.checkpoint', 0);
      const row = events(db).find((e) => e.seq === seq);
      db.prepare('UPDATE audit_checkpoints SET signature = ? WHERE seq = ?').run(
        signHash(row?.hash ?? '', other.privateKey),
        seq,
      );
    });
    expect(failure(result)).toMatchObject({ seq, code: 'checkpoint_signature' });
  });

  it('a checkpoint row deleted', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      seq = seqOf(db, 'audit.checkpoint', 0);
      db.prepare('DELETE FROM audit_checkpoints WHERE seq = ?').run(seq);
    });
    expect(failure(result)).toMatchObject({ seq, code: 'checkpoint_missing' });
  });

  it('a moved checkpoint row leaves its event without a row', async () => {
    let seq = 0;
    const result = await verifyAfter((db) => {
      seq = seqOf(db, 'audit.checkpoint', 0);
      db.prepare('UPDATE audit_checkpoints SET seq = 0 WHERE seq = ?').run(seq);
    });
    expect(failure(result)).toMatchObject({ seq, code: 'checkpoint_missing' });
  });

  it('an extra checkpoint row naming a seq no event can have', async () => {
    const result = await verifyAfter((db) => {
      db.prepare(
        'INSERT INTO audit_checkpoints (seq, head_hash, at, key_id, signature) SELECT 0, head_hash, at, key_id, signature FROM audit_checkpoints LIMIT 1',
      ).run();
    });
    expect(failure(result)).toMatchObject({ code: 'checkpoint_mismatch' });
    expect(failure(result).message).toMatch(/names seq 0/);
  });

  it('an outside checkpoint whose hash the log does not have', async () => {
    const result = await verifyAfter(() => {}, { checkpoint: { seq: 5, hash: 'f'.repeat(64) } });
    expect(failure(result)).toMatchObject({ seq: 5, code: 'outside_checkpoint' });
  });
});
