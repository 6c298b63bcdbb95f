// The one URL redaction of error messages, metric labels and the gateway's /status (store.url).
import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/brokers/broker-error.js';

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('redis://u:pw@host:6379')).toBe('redis://u:***@host:6379');
    expect(redactUrl('redis://:pw@h:6379/0')).toBe('redis://:***@h:6379/0');
    expect(redactUrl('amqp://127.0.0.1:5672')).toBe('amqp://127.0.0.1:5672');
  });

  it('hides all of a password with an unescaped @ in it', () => {
    expect(redactUrl('rediss://user:p@ss@h:6380')).toBe('rediss://user:***@h:6380');
  });

  it('drops the credentials of a URL it cannot parse', () => {
    expect(redactUrl('redis://u:secret@:99999')).toBe('redis://u:***@:99999');
    // Up to the last '@': a password with an unescaped '@' in a URL that does not parse (port out of range).
    expect(redactUrl('redis://u:p@ss@h:99999')).toBe('redis://u:***@h:99999');
  });
});

describe('redactUrl: a URL with no host (redis21)', () => {
  it('a slash short, or none: what it parses as a path holds the password — dropped up to the last @', () => {
    // Before: 'redis:/u:secret@h' came back as it was (it parses, with no host and no password).
    expect(redactUrl('redis:/u:secret@h')).toBe('redis:/u:***@h');
    expect(redactUrl('redis:u:secret@h:6379')).toBe('redis:u:***@h:6379');
    expect(redactUrl('redis:///u:secret@h')).toBe('redis:///u:***@h');
  });

  it('an unescaped / in the password of a URL that does not parse', () => {
    // Before: 'redis://u:se/cret@h:99999' as it was (its authority seemed to end at the '/').
    expect(redactUrl('redis://u:se/cret@h:99999')).toBe('redis://u:***@h:99999');
  });
});

describe('redactUrl: every shape of credentials (redis22)', () => {
  it('user and password, password only, user only, empty password', () => {
    expect(redactUrl('redis://a:b@c')).toBe('redis://a:***@c');
    expect(redactUrl('redis://:b@c:6380/2')).toBe('redis://:***@c:6380/2');
    // A user alone is a user (ioredis and the store send it as the ACL user), shown as written.
    expect(redactUrl('redis://a@c')).toBe('redis://a@c');
    expect(redactUrl('redis://a:@c')).toBe('redis://a@c');
  });

  it("an '@' in the password, percent-encoded or raw; in the user, percent-encoded", () => {
    expect(redactUrl('redis://a:b%40x@c')).toBe('redis://a:***@c');
    expect(redactUrl('redis://a:b@x@c')).toBe('redis://a:***@c');
    expect(redactUrl('redis://me%40corp:pw@c')).toBe('redis://me%40corp:***@c');
    expect(redactUrl('redis://a:b:c@h')).toBe('redis://a:***@h');
  });

  it('IPv6 hosts, bracketed or not', () => {
    expect(redactUrl('redis://a:b@[::1]:6379/1')).toBe('redis://a:***@[::1]:6379/1');
    expect(redactUrl('redis://[::1]:6379')).toBe('redis://[::1]:6379');
    // Unbracketed, it does not parse: the credentials still go.
    expect(redactUrl('redis://a:b@::1:6379')).toBe('redis://a:***@::1:6379');
  });

  it('hostless: the user kept, the password hidden, the rest as written', () => {
    expect(redactUrl('redis://a:b@')).toBe('redis://a:***@');
    expect(redactUrl('redis://a:b@/0')).toBe('redis://a:***@/0');
    expect(redactUrl('redis:///0')).toBe('redis:///0');
  });

  it("a raw '/', '?' or '#' in a password of digits first: the URL parses (host = the user, port = the digits), the password's rest after it", () => {
    // Before: 'redis://u:2024/secret@h/0' came back whole — the store's --check error showed it.
    expect(redactUrl('redis://u:2024/secret@h/0')).toBe('redis://u:***@h/0');
    expect(redactUrl('redis://u:123#q@h')).toBe('redis://u:***@h');
    expect(redactUrl('redis://u:123?x@h:6379')).toBe('redis://u:***@h:6379');
    expect(redactUrl('redis://u:p/q@h')).toBe('redis://u:***@h');
  });

  it('credentials without a colon in a URL that does not parse are dropped (they may be a password alone)', () => {
    expect(redactUrl('redis://secret@h:99999')).toBe('redis://h:99999');
    expect(redactUrl('secret@host')).toBe('host');
  });
});
