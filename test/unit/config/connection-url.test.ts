import { describe, expect, it } from 'vitest';
import { describeEndpoint, parseConnectionUrl } from '../../../src/config/connection-url.js';
import { ConfigError } from '../../../src/errors.js';

describe('parseConnectionUrl', () => {
  it('reads user, password, host and port', () => {
    expect(parseConnectionUrl('mysql://repl_user:s3cret@db.example.com:3307', '--source')).toEqual({
      host: 'db.example.com',
      port: 3307,
      user: 'repl_user',
      password: 's3cret',
    });
  });

  it('defaults the port to 3306, accepts mariadb:// and leaves the password out when absent', () => {
    expect(parseConnectionUrl('mariadb://root@127.0.0.1', '--replica')).toEqual({ host: '127.0.0.1', port: 3306, user: 'root' });
  });

  it('decodes percent-encoded credentials and bare IPv6 hosts', () => {
    expect(parseConnectionUrl('mysql://us%40er:p%3Aw%2Fd@[::1]:3310', '--source')).toEqual({
      host: '::1',
      port: 3310,
      user: 'us@er',
      password: 'p:w/d',
    });
  });

  it.each([
    ['not a url', /--source is not a valid URL/],
    ['postgres://u@h', /--source must start with mysql:\/\/ or mariadb:\/\//],
    ['mysql://h:3306', /--source has no user name/],
    ['mysql://u@h:99999', /--source is not a valid URL/],
    ['mysql://u@h/themepark_tracker', /names a database \(themepark_tracker\).*--databases/],
  ])('rejects %s with a message that names the setting', (input, message) => {
    expect(() => parseConnectionUrl(input, '--source')).toThrow(ConfigError);
    expect(() => parseConnectionUrl(input, '--source')).toThrow(message);
  });

  it('never echoes the password in an error', () => {
    try {
      parseConnectionUrl('mysql://u:topsecret@h/db', '--source');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('topsecret');
    }
  });
});

describe('describeEndpoint', () => {
  it('shows user@host:port and brackets IPv6', () => {
    expect(describeEndpoint({ user: 'u', host: 'h', port: 1 })).toBe('u@h:1');
    expect(describeEndpoint({ user: 'u', host: '::1', port: 3306 })).toBe('u@[::1]:3306');
  });
});
