import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskFlag, nameWords, personalKind, suggestRule, type PersonalKind } from '../../../src/check/personal-columns.js';
import { Masker } from '../../../src/mask/masker.js';
import { planColumns, type SourceColumn } from '../../../src/mask/plan.js';

const KEY = Buffer.alloc(32, 7);

function column(table: string, name: string, columnType: string, overrides: Partial<SourceColumn> = {}): SourceColumn {
  const textual = /char|text|enum|set/i.test(columnType);
  return {
    database: 'park',
    table,
    name,
    columnType,
    characterSet: textual ? 'utf8mb4' : null,
    nullable: true,
    unique: false,
    json: false,
    generated: false,
    ...overrides,
  };
}

describe('nameWords', () => {
  it.each([
    ['first_name', ['first', 'name']],
    ['firstName', ['first', 'name']],
    ['IPAddress', ['ip', 'address']],
    ['address_line1', ['address', 'line', '1']],
    ['E-Mail', ['e', 'mail']],
    ['__dob__', ['dob']],
  ])('%s -> %j', (name, words) => {
    expect(nameWords(name)).toEqual(words);
  });
});

describe('personalKind', () => {
  it.each<[string, string, string, PersonalKind | undefined]>([
    // email-like, only where text can be
    ['visitors', 'email', 'varchar(255)', 'email'],
    ['visitors', 'e_mail', 'varchar(255)', 'email'],
    ['visitors', 'EmailAddress', 'varchar(255)', 'email'],
    ['visitors', 'mail', 'varchar(100)', 'email'],
    ['visitors', 'mail_server', 'varchar(100)', undefined],
    ['visitors', 'email_verified', 'tinyint(1)', undefined],
    ['visitors', 'email_verified_at', 'datetime', undefined],
    ['visitors', 'email_id', 'int(11)', undefined],
    ['visitors', 'email', 'int(11)', undefined],
    // phones: text or a wide integer, never a flag
    ['visitors', 'phone', 'varchar(20)', 'phone'],
    ['visitors', 'mobile', 'bigint(20)', 'phone'],
    ['visitors', 'tel', 'varchar(20)', 'phone'],
    ['visitors', 'is_mobile', 'tinyint(1)', undefined],
    ['visitors', 'mobile_app_version', 'varchar(20)', undefined],
    ['visitors', 'phone_type', 'varchar(10)', undefined],
    // names: of people anywhere, a bare `name` only in tables of people
    ['visitors', 'first_name', 'varchar(40)', 'name'],
    ['visitors', 'lastName', 'varchar(40)', 'name'],
    ['staff', 'surname', 'varchar(40)', 'name'],
    ['users', 'username', 'varchar(40)', 'name'],
    ['visitors', 'name', 'varchar(40)', 'name'],
    ['park_customers', 'name', 'varchar(40)', 'name'],
    ['rides', 'name', 'varchar(40)', undefined],
    ['rides', 'ride_name', 'varchar(40)', undefined],
    ['customers', 'company_name', 'varchar(40)', undefined],
    // addresses and postcodes, not cities
    ['users', 'address_line1', 'varchar(80)', 'address'],
    ['users', 'street', 'varchar(80)', 'address'],
    ['users', 'shipping_address', 'json', 'address'],
    ['users', 'city', 'varchar(80)', undefined],
    ['users', 'web_address', 'varchar(80)', undefined],
    ['users', 'zip', 'varchar(10)', 'postcode'],
    ['users', 'postal_code', 'varchar(10)', 'postcode'],
    // birth dates: dates, years and text
    ['users', 'date_of_birth', 'date', 'birth date'],
    ['users', 'birthday', 'timestamp', 'birth date'],
    ['users', 'birth_year', 'smallint(6)', 'birth date'],
    ['users', 'dob', 'varchar(10)', 'birth date'],
    ['users', 'birth_date', 'decimal(8,0)', undefined],
    // identifiers
    ['users', 'ssn', 'char(11)', 'national id'],
    ['users', 'social_security_number', 'varchar(11)', 'national id'],
    ['users', 'national_id', 'varchar(20)', 'national id'],
    ['users', 'tax_id', 'varchar(20)', 'national id'],
    ['users', 'user_id', 'int(11)', undefined],
    ['users', 'passport_no', 'varchar(20)', 'passport'],
    ['users', 'iban', 'varchar(34)', 'bank account'],
    ['users', 'credit_card_number', 'varchar(19)', 'card number'],
    ['users', 'cc_number', 'varchar(19)', 'card number'],
    ['users', 'card', 'varchar(19)', 'card number'],
    ['users', 'card_type', 'varchar(19)', undefined],
    ['users', 'card_title', 'varchar(19)', undefined],
    ['users', 'last_login_ip', 'varchar(45)', 'ip address'],
    ['users', 'ip', 'int(10) unsigned', 'ip address'],
    ['users', 'ip', 'inet6', 'ip address'],
    ['users', 'ip_country', 'char(2)', undefined],
    // credentials
    ['users', 'api_token', 'char(64)', 'token'],
    ['users', 'token_count', 'int(11)', undefined],
    ['users', 'password_hash', 'varchar(255)', 'password'],
    ['users', 'passwd', 'varchar(60)', 'password'],
    ['users', 'pwd', 'varbinary(60)', 'password'],
    ['users', 'password_changed_at', 'datetime', undefined],
    ['users', 'has_password', 'tinyint(1)', undefined],
    ['users', 'otp_secret', 'varchar(32)', 'secret'],
    // what names no one
    ['visitors', 'season_pass', 'varchar(10)', undefined],
    ['users', 'gender', 'char(1)', undefined],
    ['wait_times', 'wait_minutes', 'int(11)', undefined],
    ['rides', 'description', 'text', undefined],
  ])('%s.%s %s -> %s', (table, name, type, kind) => {
    expect(personalKind(table, name, type, /char|text/.test(type) ? 'utf8mb4' : null)).toBe(kind);
  });
});

describe('suggestRule', () => {
  it.each<[string, SourceColumn, string | undefined]>([
    ['email on text', column('visitors', 'email', 'varchar(255)'), 'park.visitors.email=email'],
    ['hash where an email does not fit', column('visitors', 'email', 'varchar(8)'), 'park.visitors.email=hash'],
    ['hash for a password', column('users', 'password_hash', 'varchar(255)', { nullable: false }), 'park.users.password_hash=hash'],
    ['hash for a phone in a BIGINT', column('visitors', 'mobile', 'bigint(20)'), 'park.visitors.mobile=hash'],
    ['redact for a name', column('visitors', 'first_name', 'varchar(40)'), 'park.visitors.first_name=redact'],
    ['hash for a unique name (redact would collide)', column('users', 'username', 'varchar(40)', { unique: true }), 'park.users.username=hash'],
    ['null for a nullable birth date', column('visitors', 'birth_date', 'date'), 'park.visitors.birth_date=null'],
    ['a date for a NOT NULL birth date', column('visitors', 'birth_date', 'date', { nullable: false }), 'park.visitors.birth_date=fixed:1970-01-01'],
    ['a date past the epoch in every zone for a TIMESTAMP', column('visitors', 'born', 'timestamp', { nullable: false }), 'park.visitors.born=fixed:2000-01-01'],
    ['a year for a NOT NULL YEAR', column('visitors', 'birth_year', 'year(4)', { nullable: false }), 'park.visitors.birth_year=fixed:1970'],
    ['fixed:{} for a NOT NULL JSON address', column('users', 'address', 'longtext', { nullable: false, json: true }), 'park.users.address=fixed:{}'],
    ['null for a nullable INET6', column('users', 'ip', 'inet6'), 'park.users.ip=null'],
    ['the unspecified address for a NOT NULL INET4', column('users', 'ip', 'inet4', { nullable: false }), 'park.users.ip=fixed:0.0.0.0'],
    ['nothing for a unique NOT NULL INET6', column('users', 'ip', 'inet6', { nullable: false, unique: true }), undefined],
    ['nothing for a generated column', column('users', 'email', 'varchar(255)', { generated: true }), undefined],
    ['a * for the dot a rule cannot hold', column('users', 'e.mail', 'varchar(255)'), 'park.users.e*mail=email'],
  ])('%s', (_, c, rule) => {
    expect(suggestRule(c, personalKind(c.table, c.name, c.columnType, c.characterSet))).toBe(rule);
  });

  it('leaves out the method that was refused', () => {
    expect(suggestRule(column('visitors', 'email', 'varchar(255)'), 'email', 'email')).toBe('park.visitors.email=hash');
    expect(suggestRule(column('visitors', 'note', 'varchar(255)', { nullable: false }), undefined, 'hash')).toBe('park.visitors.note=redact');
  });

  it('suggests only rules that the masking plan accepts, for any column', () => {
    const types = ['varchar(255)', 'varchar(6)', 'char(11)', 'text', 'tinytext', 'varbinary(16)', 'binary(16)', 'blob', 'int(11)', 'bigint(20) unsigned',
      'tinyint(1)', 'smallint(6)', 'decimal(10,2)', 'date', 'datetime(6)', 'timestamp', 'year(4)', 'time', "enum('a','b')", 'inet4', 'inet6', 'longtext', 'json'];
    const names = ['email', 'phone', 'first_name', 'name', 'address', 'zip', 'birth_date', 'ssn', 'passport', 'iban', 'card', 'api_token', 'password', 'secret', 'ip', 'note'];
    const charsets = ['utf8mb4', 'latin1', 'utf16', 'big5'];
    fc.assert(
      fc.property(
        fc.constantFrom(...types),
        fc.constantFrom(...names),
        fc.constantFrom(...charsets),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (type, name, charset, nullable, unique, json) => {
          const c = column('visitors', name, type, { nullable, unique, json: json && type === 'longtext', characterSet: /char|text|enum/.test(type) ? charset : null });
          const rule = suggestRule(c, personalKind(c.table, c.name, c.columnType, c.characterSet));
          if (rule === undefined) return;
          const plan = planColumns([c], new Masker({ rules: [rule], key: KEY }));
          expect(plan.problems).toEqual([]);
          expect(plan.masked).toEqual([{ column: `park.visitors.${name}`, rule }]);
        },
      ),
    );
  });
});

describe('maskFlag', () => {
  it('quotes a rule only when a shell would read something in it', () => {
    expect(maskFlag('park.visitors.email=email')).toBe('--mask park.visitors.email=email');
    expect(maskFlag('park.visitors.born=fixed:1970-01-01')).toBe('--mask park.visitors.born=fixed:1970-01-01');
    expect(maskFlag('park.users.address=fixed:{}')).toBe("--mask 'park.users.address=fixed:{}'");
    expect(maskFlag("park.users.e*mail=fixed:it's")).toBe("--mask 'park.users.e*mail=fixed:it'\\''s'");
  });
});
