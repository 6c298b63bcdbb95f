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
    expect(redactUrl('redis://u:secret@:99999')).toBe('redis://:99999');
    // Up to the last '@': a password with an unescaped '@' in a URL that does not parse (port out of range).
    expect(redactUrl('redis://u:p@ss@h:99999')).toBe('redis://h:99999');
  });
});

describe('redactUrl: a URL with no host (redis21)', () => {
  it('a slash short, or none: what it parses as a path holds the password — dropped up to the last @', () => {
    // Before: 'redis:/u:secret@h' came back as it was (it parses, with no host and no password).
    expect(redactUrl('redis:/u:secret@h')).toBe('redis:/h');
    expect(redactUrl('redis:u:secret@h:6379')).toBe('redis:h:6379');
    expect(redactUrl('redis:///u:secret@h')).toBe('redis:///h');
  });

  it('an unescaped / in the password of a URL that does not parse', () => {
    // Before: 'redis://u:se/cret@h:99999' as it was (its authority seemed to end at the '/').
    expect(redactUrl('redis://u:se/cret@h:99999')).toBe('redis://h:99999');
  });
});
