import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { normalisedPath } from '../../src/http/listener.js';
import { type Route, Router } from '../../src/http/router.js';

const noop = (_req: unknown, _res: ServerResponse) => {};
const routes: Route[] = [
  { method: 'POST', path: '/api/v1/requests', handler: noop },
  { method: 'GET', path: '/api/v1/requests/:id', handler: noop },
  { method: 'POST', path: '/api/v1/requests/:id/cancel', handler: noop },
];
const router = new Router(routes);

describe('Router', () => {
  it('matches literal segments and decodes parameters', () => {
    expect(router.match('GET', '/api/v1/requests/req_1%2F2')).toMatchObject({
      kind: 'found',
      route: routes[1],
      params: { id: 'req_1/2' },
    });
    expect(router.match('POST', '/api/v1/requests/req_1/cancel')).toMatchObject({ kind: 'found' });
  });

  it('tells a wrong method from an unknown path', () => {
    expect(router.match('DELETE', '/api/v1/requests/req_1')).toEqual({
      kind: 'method_not_allowed',
      allow: ['GET'],
    });
    expect(router.match('GET', '/api/v1/requests/req_1/extra')).toEqual({ kind: 'not_found' });
    expect(router.match('GET', '/api/v1/requests/')).toEqual({ kind: 'not_found' });
  });

  it('refuses a parameter that is not valid percent-encoding', () => {
    expect(router.match('GET', '/api/v1/requests/%E0%A4%A')).toEqual({ kind: 'not_found' });
  });
});

describe('normalisedPath', () => {
  it('resolves dot segments and drops the query, as every router downstream would', () => {
    expect(normalisedPath('/slack/./events')).toBe('/slack/events');
    expect(normalisedPath('/slack/x/../events?y=1')).toBe('/slack/events');
    expect(normalisedPath('/api/v1/requests/req_1?wait=5')).toBe('/api/v1/requests/req_1');
  });

  it('refuses targets that are not an origin-form path', () => {
    expect(normalisedPath(undefined)).toBeNull();
    expect(normalisedPath('http://elsewhere.example/slack/events')).toBeNull();
    expect(normalisedPath('*')).toBeNull();
  });
});
