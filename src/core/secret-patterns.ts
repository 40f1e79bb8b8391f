import type { SecretPattern } from './secret-pattern-kit.js';
import { CLOUD_PATTERNS } from './secret-patterns-cloud.js';
import { GENERIC_PATTERNS, PRIVATE_KEY_PATTERN } from './secret-patterns-generic.js';
import { SERVICE_PATTERNS } from './secret-patterns-services.js';

export {
  isPlaceholder,
  KEY_LINE_MARKER,
  KEY_MARKER,
  SECRET_KEY_NAME,
  type SecretPattern,
  TOKEN_MARKER,
  VALUE_MARKER,
} from './secret-pattern-kit.js';

/**
 * Every credential pattern redaction uses, one entry per kind of secret (how they are written and
 * kept linear: secret-pattern-kit.ts). Order matters only for ties: when two matches cover the
 * same text, the earlier entry's marker wins, so precise formats come before key-name heuristics.
 */
export const SECRET_PATTERNS: readonly SecretPattern[] = [
  PRIVATE_KEY_PATTERN,
  ...CLOUD_PATTERNS,
  ...SERVICE_PATTERNS,
  ...GENERIC_PATTERNS,
];
