import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { blockedAddress } from '../../src/egress/blocked-addresses.js';
import {
  checkCallbackUrl,
  formatAllowEntry,
  normaliseUrl,
  parseAllowEntry,
} from '../../src/egress/callback-url.js';

const href = (raw: string) => {
  const n = normaliseUrl(raw);
  return n.ok ? n.value.href : `refused: ${n.message}`;
};

describe('normaliseUrl: one spelling per URL', () => {
  it.each([
    ['https://hooks.example.com/countersign/../admin', 'https://hooks.example.com/admin'],
    ['https://hooks.example.com/countersign/./x', 'https://hooks.example.com/countersign/x'],
    ['https://hooks.example.com/countersign/%2e%2e/admin', 'https://hooks.example.com/admin'],
    ['https://hooks.example.com/countersign/%2E./admin', 'https://hooks.example.com/admin'],
    ['https://hooks.example.com/countersign/.%2E/admin', 'https://hooks.example.com/admin'],
    ['https://hooks.example.com/countersign/%2e/x', 'https://hooks.example.com/countersign/x'],
    ['https://hooks.example.com\\countersign\\..\\admin', 'https://hooks.example.com/admin'],
    ['https://hooks.example.com/countersign\\..\\admin', 'https://hooks.example.com/admin'],
    ['HTTPS://HOOKS.Example.COM/countersign/X', 'https://hooks.example.com/countersign/X'],
    ['https://hooks.example.com:443/x', 'https://hooks.example.com/x'],
    ['http://hooks.example.com:80/x', 'http://hooks.example.com/x'],
    ['https://hooks.example.com/%63ountersign/%7e', 'https://hooks.example.com/countersign/~'],
    ['https://hooks.example.com/a%2fb'.replace('%2f', '%c3%a9'), 'https://hooks.example.com/a%C3%A9b'],
    ['https://hooks.example.com/x#fragment', 'https://hooks.example.com/x'],
    ['https://2130706433/', 'https://127.0.0.1/'],
    ['https://0x7f.1/', 'https://127.0.0.1/'],
    ['https://0177.0.0.1/', 'https://127.0.0.1/'],
    ['https://127.1/', 'https://127.0.0.1/'],
    ['https://[0:0:0:0:0:ffff:7f00:1]/', 'https://[::ffff:7f00:1]/'],
  ])('%s → %s', (raw, want) => {
    expect(href(raw)).toBe(want);
  });

  it.each([
    ['https://hooks.example.com/countersign/..%2Fadmin', 'encoded /'],
    ['https://hooks.example.com/countersign/..%2fadmin', 'encoded /'],
    ['https://hooks.example.com/countersign/..%5Cadmin', 'encoded /'],
    ['https://user:pass@hooks.example.com/x', 'user name or password'],
    ['https://hooks.example.com@attacker.net/x', 'user name or password'],
    ['ftp://hooks.example.com/x', 'http:// or https://'],
    ['javascript:alert(1)', 'http:// or https://'],
    ['/relative/path', 'not a valid absolute URL'],
  ])('refuses %s', (raw, why) => {
    expect(href(raw)).toContain(why);
  });
});

describe('allow-list entries', () => {
  it.each([
    ['https://', 'https://'],
    ['http://127.0.0.1', 'http://127.0.0.1'],
    ['HTTPS://Hooks.Example.COM/countersign/', 'https://hooks.example.com/countersign/'],
    ['https://hooks.example.com/countersign/../hooks/', 'https://hooks.example.com/hooks/'],
    ['https://hooks.example.com:443/x/', 'https://hooks.example.com:443/x/'],
    ['http://localhost:', 'http://localhost'],
    ['https://[::1]:8443', 'https://[::1]:8443'],
  ])('%s is kept as %s', (raw, want) => {
    const e = parseAllowEntry(raw);
    expect(e.ok && formatAllowEntry(e.value)).toBe(want);
    // The canonical form reads back the same.
    const again = parseAllowEntry(want);
    expect(again.ok && formatAllowEntry(again.value)).toBe(want);
  });

  it.each(['ftp://x', 'hooks.example.com', 'https://user@hooks.example.com/', 'https://:8443/'])(
    'refuses %s',
    (raw) => {
      expect(parseAllowEntry(raw).ok).toBe(false);
    },
  );
});

describe('checkCallbackUrl: compared after normalising, with the host boundary kept', () => {
  const allow = ['https://hooks.example.com/countersign/', 'http://127.0.0.1'];
  const ok = (url: string, list = allow) => checkCallbackUrl(url, list).ok;

  it('refuses every way out of a path prefix', () => {
    for (const url of [
      'https://hooks.example.com/countersign/../admin',
      'https://hooks.example.com/countersign/%2e%2e/admin',
      'https://hooks.example.com/countersign/%2E%2E/admin',
      'https://hooks.example.com/countersign/.%2e/admin',
      'https://hooks.example.com/countersign\\..\\admin',
      'https://hooks.example.com/countersign/..%2Fadmin',
      'https://hooks.example.com/countersign/..%5cadmin',
      'https://hooks.example.com/countersignX',
      'https://hooks.example.com:8443/countersign/x',
      'https://countersign@hooks.example.com/countersign/x',
      'https://hooks.example.com.attacker.net/countersign/x',
      'http://hooks.example.com/countersign/x',
    ]) {
      expect({ url, ok: ok(url) }).toEqual({ url, ok: false });
    }
  });

  it('accepts the same URL in any spelling that normalises into the prefix', () => {
    for (const url of [
      'https://hooks.example.com/countersign/x',
      'HTTPS://HOOKS.EXAMPLE.COM/countersign/x',
      'https://hooks.example.com:443/countersign/x',
      'https://hooks.example.com/other/../countersign/x',
      'https://hooks.example.com/%63ountersign/x',
      'https://hooks.example.com\\countersign\\x',
      'http://127.0.0.1:8080/anything',
      'http://2130706433:8080/anything',
    ]) {
      expect({ url, ok: ok(url) }).toEqual({ url, ok: true });
    }
  });

  it('keeps the host boundary of a host-only entry, whatever its port', () => {
    expect(ok('http://127.0.0.1.attacker.net/x')).toBe(false);
    expect(ok('http://127.0.0.10/x')).toBe(false);
    expect(ok('https://hooks.example.com:8443/x', ['https://hooks.example.com'])).toBe(true);
    expect(ok('https://hooks.example.com:84/x', ['https://hooks.example.com:8443'])).toBe(false);
    expect(ok('https://hooks.example.com/x', ['https://hooks.example.com:443'])).toBe(true);
  });

  const internal = [
    'https://127.0.0.1/',
    'https://127.0.0.2:8443/x',
    'https://localhost/',
    'https://LOCALHOST./',
    'https://api.localhost/',
    'https://[::1]/',
    'https://2130706433/',
    'https://0x7f.1/',
    'https://0x7f000001/',
    'https://017700000001/',
    'https://127.1/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:7f00:1]/',
    'https://[0:0:0:0:0:ffff:127.0.0.1]/',
    'https://[64:ff9b::127.0.0.1]/',
    'https://[2002:7f00:1::]/',
    'https://[::127.0.0.1]/',
    'https://0/',
    'https://0.0.0.0/',
    'https://[::]/',
    'https://10.1.2.3/',
    'https://172.16.0.1/',
    'https://172.31.255.255/',
    'https://192.168.0.1/',
    'https://100.64.0.1/',
    'https://169.254.169.254/latest/meta-data/',
    'https://[::ffff:169.254.169.254]/',
    'https://[fd00:ec2::254]/',
    'https://100.100.100.200/',
    'https://169.254.1.1/',
    'https://[fe80::1]/',
    'https://[fc00::1]/',
    'https://[fd12:3456::1]/',
    'https://224.0.0.1/',
    'https://[ff02::1]/',
    'https://255.255.255.255/',
    'https://198.18.0.1/',
  ];

  it('refuses a literal internal address in any notation, or a loopback name, when no entry names the host', () => {
    for (const url of internal) {
      const checked = checkCallbackUrl(url, ['https://']);
      expect({ url, ok: checked.ok }).toEqual({ url, ok: false });
      expect(checked.ok || checked.message).toMatch(/COUNTERSIGN_CALLBACK_ALLOW names the host/);
    }
    for (const url of ['https://hooks.example.com/', 'https://8.8.8.8/', 'https://[2606:4700::1111]/']) {
      expect({ url, ok: checkCallbackUrl(url, ['https://']).ok }).toEqual({ url, ok: true });
    }
  });

  it('allows an internal host that an entry names explicitly', () => {
    expect(checkCallbackUrl('http://127.0.0.1:9000/hook', ['http://127.0.0.1'])).toMatchObject({
      ok: true,
      hostNamed: true,
    });
    expect(checkCallbackUrl('https://10.0.0.5/hook', ['https://', 'https://10.0.0.5/'])).toMatchObject({
      ok: true,
      hostNamed: true,
    });
    // Naming another host, or a scheme alone, does not.
    expect(checkCallbackUrl('https://10.0.0.6/hook', ['https://', 'https://10.0.0.5/']).ok).toBe(false);
  });
});

describe('blockedAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['2002:a00:1::1', 'private'],
    ['169.254.169.254', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['::ffff:a9fe:a9fe', 'cloud metadata'],
    ['10.0.0.1', 'private'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['::', 'unspecified'],
    ['0.0.0.0', 'unspecified ("this network")'],
    ['ff02::1', 'multicast'],
  ])('%s is %s', (ip, kind) => {
    expect(blockedAddress(ip)).toBe(kind);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    '%s is public',
    (ip) => {
      expect(blockedAddress(ip)).toBeNull();
    },
  );
});

describe('COUNTERSIGN_CALLBACK_ALLOW at start', () => {
  const env = {
    SLACK_BOT_TOKEN: 'xoxb-1',
    SLACK_SIGNING_SECRET: 'abcdef123456',
    COUNTERSIGN_CLIENTS: `ci=whsec_${Buffer.from('0123456789abcdef0123').toString('base64')}`,
    COUNTERSIGN_DEFAULT_CHANNEL: 'C0123',
  };

  it('keeps each entry normalised, the way callback URLs are compared', () => {
    const config = loadConfig({
      ...env,
      COUNTERSIGN_CALLBACK_ALLOW: 'HTTPS://Hooks.Example.com/a/../countersign/, http://127.0.0.1 ,https://',
    });
    expect(config.callbackAllow).toEqual([
      'https://hooks.example.com/countersign/',
      'http://127.0.0.1',
      'https://',
    ]);
  });

  it('stops the start naming a malformed entry', () => {
    try {
      loadConfig({ ...env, COUNTERSIGN_CALLBACK_ALLOW: 'https://,https://user@hooks.example.com/' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        expect.stringMatching(/^COUNTERSIGN_CALLBACK_ALLOW: "https:\/\/user@hooks.example.com\/" must be/),
      ]);
    }
  });
});
