/**
 * Fake credentials for the redaction tests, built from pieces at run time so that no
 * real-looking secret literal sits in the source (secret scanners stay quiet).
 */
export const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const UPPER_ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const BASE64 = `${ALPHANUMERIC}+/`;

/** Deterministic pseudo-random text over `alphabet` (a small LCG; same seed, same text). */
export function filler(length: number, seed = 1, alphabet = ALPHANUMERIC): string {
  let x = seed;
  let out = '';
  for (let i = 0; i < length; i++) {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    out += alphabet[Math.floor((x / 2_147_483_648) * alphabet.length)];
  }
  // Make sure it mixes cases and digits, as real tokens do.
  return `${out.slice(0, -3)}${alphabet === ALPHANUMERIC ? 'a7Z' : out.slice(-3)}`;
}

export const upper = (length: number, seed = 1) => filler(length, seed, UPPER_ALPHANUMERIC);
export const base64 = (length: number, seed = 1) => filler(length, seed, BASE64);

export const fake = {
  awsKeyId: (seed = 1) => `AKIA${upper(16, seed)}`,
  awsTempKeyId: (seed = 1) => `ASIA${upper(16, seed)}`,
  awsSecret: (seed = 1) => base64(40, seed),
  gcpApiKey: (seed = 1) => `AIza${filler(35, seed)}`,
  github: (prefix: string, seed = 1) => `${prefix}_${filler(36, seed)}`,
  githubPat: (seed = 1) => `github_pat_${filler(22, seed)}_${filler(59, seed + 1)}`,
  gitlab: (seed = 1) => `glpat-${filler(20, seed)}`,
  slack: (prefix: string, seed = 1) => `${prefix}-${'1234567890'}-${'0987654321'}-${filler(24, seed)}`,
  slackApp: (seed = 1) => `xapp-1-A0${upper(9, seed)}-1234567890123-${filler(64, seed).toLowerCase()}`,
  slackWebhook: (seed = 1) =>
    `https://hooks.slack.com/services/T0${upper(8, seed)}/B0${upper(8, seed + 1)}/${filler(24, seed)}`,
  stripe: (prefix: string, seed = 1) => `${prefix}_${filler(24, seed)}`,
  openai: (seed = 1) => `sk-${filler(48, seed)}`,
  openaiProject: (seed = 1) => `sk-proj-${filler(64, seed)}`,
  anthropic: (seed = 1) => `sk-ant-api03-${filler(93, seed)}AA`,
  npm: (seed = 1) => `npm_${filler(36, seed)}`,
  webhookSecret: (seed = 1) => `whsec_${base64(32, seed)}`,
  vault: (seed = 1) => `hvs.${filler(90, seed)}`,
  sendgrid: (seed = 1) => `SG.${filler(22, seed)}.${filler(43, seed + 1)}`,
  jwt: (seed = 1) =>
    `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(`{"sub":"${seed}","name":"Jo"}`).toString('base64url')}.${filler(43, seed)}`,
  azureKey: (seed = 1) => `${base64(86, seed)}==`,
  /** PEM body lines of 64 columns, as RFC 7468 writes them, plus a short last line. */
  pemBody: (lines = 4, seed = 1) => [
    ...Array.from({ length: lines }, (_, i) => `MII${base64(61, seed + i)}`),
    `${base64(20, seed + 99)}==`,
  ],
  pem: (label = 'RSA PRIVATE KEY', lines = 4, seed = 1) =>
    [`-----BEGIN ${label}-----`, ...fake.pemBody(lines, seed), `-----END ${label}-----`].join('\n'),
};
