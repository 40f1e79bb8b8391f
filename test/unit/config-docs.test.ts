import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/config.js';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const envExample = readFileSync(new URL('.env.example', root), 'utf8');

/** The variables named in the first column of README's "Configuration" table. */
function readmeTable(): string[] {
  const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? '';
  const names: string[] = [];
  for (const line of section.split('\n')) {
    const first = /^\|([^|]+)\|/.exec(line)?.[1] ?? '';
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) if (m[1]) names.push(m[1]);
  }
  return names;
}

/** The variables .env.example sets or shows commented out (`NAME=` or `# NAME=` at a line's start). */
function envExampleNames(): string[] {
  return [...envExample.matchAll(/^(?:# )?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] ?? '');
}

describe('the configuration is documented where the README says it is', () => {
  it('has a README table row for every variable the server reads, and no row for one it does not', () => {
    const table = readmeTable();
    expect(table.length).toBeGreaterThan(10);
    expect(CONFIG_VARIABLES.filter((v) => !table.includes(v))).toEqual([]);
    expect(table.filter((v) => !CONFIG_VARIABLES.includes(v))).toEqual([]);
  });

  it('explains every variable the server reads in .env.example', () => {
    const names = envExampleNames();
    expect(CONFIG_VARIABLES.filter((v) => !names.includes(v))).toEqual([]);
  });

  it('puts each variable in .env.example once', () => {
    const names = envExampleNames();
    expect(names.filter((v, i) => names.indexOf(v) !== i)).toEqual([]);
  });
});
