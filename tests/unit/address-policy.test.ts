/** The address policy of the http tool: which addresses are restricted, the allowlist syntax, and what it allows. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AllowlistSyntaxError, parseAllowlist, parseIp, refusedRange, restrictedRange } from '../../common/address-policy.ts';

const range = (address: string): string | undefined => restrictedRange(parseIp(address)!);

describe('address policy', () => {
  it('names the range of every restricted address, in IPv4, IPv6 and the IPv6 forms that embed IPv4', () => {
    const restricted: Record<string, RegExp> = {
      '127.0.0.1': /loopback/,
      '127.255.1.2': /loopback/,
      '10.0.0.1': /private/,
      '172.16.0.1': /private/,
      '172.31.255.255': /private/,
      '192.168.1.1': /private/,
      '100.64.0.1': /CGNAT/,
      '100.127.255.254': /CGNAT/,
      '169.254.169.254': /link-local.*metadata/,
      '0.0.0.0': /unspecified/,
      '224.0.0.1': /multicast/,
      '239.255.255.250': /multicast/,
      '255.255.255.255': /broadcast/,
      '240.0.0.1': /reserved/,
      '::1': /loopback/,
      '::': /unspecified/,
      'fd00::1': /unique local/,
      'fc00::': /unique local/,
      'fe80::1': /link-local/,
      'fe80::1%eth0': /link-local/,
      'ff02::1': /multicast/,
      '::ffff:127.0.0.1': /loopback.* in IPv4-mapped .*form/,
      '::ffff:7f00:1': /loopback.* in IPv4-mapped .*form/,
      '::ffff:169.254.169.254': /link-local.* in IPv4-mapped .*form/,
      '::ffff:a00:1': /private.* in IPv4-mapped .*form/,
      '0:0:0:0:0:ffff:c0a8:0101': /private.* in IPv4-mapped .*form/,
      '::127.0.0.1': /IPv4-compatible/,
      '64:ff9b::a9fe:a9fe': /link-local.* in NAT64 .*form/,
      '2002:7f00:1::': /loopback.* in 6to4 .*form/,
    };
    for (const [address, name] of Object.entries(restricted)) assert.match(range(address) ?? 'public', name, address);
    for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1']) {
      assert.equal(range(address), undefined, address);
    }
  });

  it('parses IPv6 in every spelling, and refuses what is no address', () => {
    assert.equal(parseIp('0:0:0:0:0:0:0:1')!.value, 1n);
    assert.equal(parseIp('::ffff:1.2.3.4')!.value, parseIp('::ffff:102:304')!.value);
    assert.equal(parseIp('FE80::ABCD')!.value, parseIp('fe80::abcd')!.value);
    for (const bad of ['1.2.3', '256.1.1.1', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'example.com', '', ':::', '1:2:3:4:5:6:7::8:9']) assert.equal(parseIp(bad), undefined, bad);
  });

  it('parses networks, addresses with or without a port, and host names; a bad entry is named', () => {
    const list = parseAllowlist(' 10.0.0.0/8, 127.0.0.1:8099 ,[::1]:9000, ::1, fd00::/8, localhost:5000, api.internal ');
    assert.deepEqual(list.map((e) => [e.kind, e.port]), [['network', undefined], ['address', 8099], ['address', 9000], ['address', undefined], ['network', undefined], ['host', 5000], ['host', undefined]]);
    assert.deepEqual(parseAllowlist(''), []);
    for (const bad of ['10.0.0.0/33', '10.0.0.0/x', 'fd00::/129', '127.0.0.1:0', '127.0.0.1:70000', '[10.0.0.1]:80', 'bad host', 'host:port', '-x.example']) {
      assert.throws(() => parseAllowlist(`127.0.0.1, ${bad}`), (e: unknown) => e instanceof AllowlistSyntaxError && e.message.includes(`"${bad}"`), bad);
    }
  });

  it('allows a public address always, a restricted one only when an entry names it (and its port)', () => {
    const allow = parseAllowlist('127.0.0.1:8099, 10.1.0.0/16, localhost:5000, fd00::/8');
    assert.equal(refusedRange([], 'example.com', 443, '93.184.216.34'), undefined);
    assert.equal(refusedRange(allow, '127.0.0.1', 8099, '127.0.0.1'), undefined);
    assert.match(refusedRange(allow, '127.0.0.1', 8100, '127.0.0.1')!, /loopback/, 'another port');
    assert.equal(refusedRange(allow, '[::ffff:127.0.0.1]', 8099, '::ffff:7f00:1'), undefined, 'the mapped form of an allowed address');
    assert.equal(refusedRange(allow, '10.1.2.3', 80, '10.1.2.3'), undefined);
    assert.match(refusedRange(allow, '10.2.0.1', 80, '10.2.0.1')!, /private/);
    assert.equal(refusedRange(allow, 'localhost', 5000, '127.0.0.1'), undefined, 'a host entry allows the name');
    assert.match(refusedRange(allow, 'localhost', 5001, '127.0.0.1')!, /loopback/);
    assert.match(refusedRange(allow, 'evil.example', 5000, '127.0.0.1')!, /loopback/, 'another name resolving to loopback');
    assert.equal(refusedRange(allow, '[fd00::5]', 443, 'fd00::5'), undefined);
    assert.match(refusedRange(allow, '169.254.169.254', 80, '169.254.169.254')!, /metadata/);
    assert.match(refusedRange(parseAllowlist('0.0.0.0/0'), 'x', 80, '::1')!, /loopback/, 'an IPv4 network allows no IPv6 address');
  });

  it('refuses every address in a restricted IPv4 range and its IPv4-mapped form, whatever the allowlist names elsewhere', () => {
    const allow = parseAllowlist('203.0.113.0/24, public.example');
    const octet = fc.integer({ min: 0, max: 255 });
    const restrictedV4 = fc.oneof(
      fc.tuple(fc.constant(10), octet, octet, octet),
      fc.tuple(fc.constant(127), octet, octet, octet),
      fc.tuple(fc.constant(169), fc.constant(254), octet, octet),
      fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), octet, octet),
      fc.tuple(fc.constant(192), fc.constant(168), octet, octet),
      fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), octet, octet),
      fc.tuple(fc.integer({ min: 224, max: 255 }), octet, octet, octet),
    );
    fc.assert(
      fc.property(restrictedV4, (parts) => {
        const address = parts.join('.');
        const mapped = `::ffff:${((parts[0] << 8) | parts[1]).toString(16)}:${((parts[2] << 8) | parts[3]).toString(16)}`;
        assert.ok(refusedRange(allow, address, 80, address), address);
        assert.ok(refusedRange(allow, 'host.example', 80, mapped), mapped);
      }),
      { numRuns: 500 },
    );
  });
});
