import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { makeDataFolder } from '../store/file-modes.js';

export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
  /** Where it came from, for the log: `AUDIT_SIGNING_KEY`, a path, or `generated:<path>`. */
  source: string;
}

/** A short stable id: the first 16 hex digits of SHA-256 over the DER public key. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

function fromPem(pem: string, source: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`AUDIT_SIGNING_KEY (${source}) is not a readable private key: ${(err as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(
      `AUDIT_SIGNING_KEY (${source}) must be an Ed25519 key, got ${privateKey.asymmetricKeyType}`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { keyId: keyIdOf(publicKey), privateKey, publicKey, publicKeyPem, source };
}

/**
 * The key that signs decisions: AUDIT_SIGNING_KEY as PEM text or a path to a PEM file; otherwise
 * `audit-signing-key.pem` beside the database, generated (mode 0600) at first start.
 */
export function loadSigningKey(setting: string | null, databasePath: string): SigningKey {
  if (setting !== null) {
    if (setting.includes('-----BEGIN')) return fromPem(setting.replace(/\\n/g, '\n'), 'AUDIT_SIGNING_KEY');
    if (!existsSync(setting))
      throw new Error(`AUDIT_SIGNING_KEY: no file at ${setting} (give PEM text or a path)`);
    return fromPem(readFileSync(setting, 'utf8'), setting);
  }
  const dir = databasePath === ':memory:' ? process.cwd() : dirname(databasePath);
  const path = join(dir, 'audit-signing-key.pem');
  if (existsSync(path)) return fromPem(readFileSync(path, 'utf8'), path);
  makeDataFolder(dir);
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return fromPem(pem, `generated:${path}`);
}

/** The key file's path when it is one (generated or named by AUDIT_SIGNING_KEY), else null (PEM text). */
function keyPathOf(key: SigningKey): string | null {
  if (key.source === 'AUDIT_SIGNING_KEY') return null;
  return key.source.startsWith('generated:') ? key.source.slice('generated:'.length) : key.source;
}

/**
 * One warning for the start when the trail can be rewritten or cut off unnoticed: no
 * COUNTERSIGN_AUDIT_CHANNEL receives checkpoints outside the database, and (worse) the signing key
 * sits in the data folder, beside the database it signs. Null when there is nothing to say.
 */
export function auditKeyWarning(
  key: SigningKey,
  databasePath: string,
  auditChannel: string | null,
): string | null {
  if (auditChannel !== null) return null;
  const dataDir = resolve(databasePath === ':memory:' ? process.cwd() : dirname(databasePath));
  const keyPath = keyPathOf(key);
  const besideData = keyPath !== null && resolve(keyPath).startsWith(`${dataDir}${sep}`);
  const channel =
    'set COUNTERSIGN_AUDIT_CHANNEL to a Slack channel that receives signed checkpoints, so a cut-off or rolled-back trail is caught (docs/audit.md)';
  if (besideData) {
    return `The audit signing key (${keyPath}) is in the data folder beside the database, and no COUNTERSIGN_AUDIT_CHANNEL is set: anyone who can read and write that folder can re-sign or cut off the audit trail without a trace. Set AUDIT_SIGNING_KEY to a key file outside the data folder, readable only by the server, and ${channel}.`;
  }
  return `No COUNTERSIGN_AUDIT_CHANNEL is set: someone who can write the database can cut off its newest audit events or restore an older copy without a trace; ${channel}.`;
}
