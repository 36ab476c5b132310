// Pure: which columns look like they hold personal data, judged by their
// names, and the `--mask` rule that would mask each one. `check` warns about
// the ones no rule covers. A heuristic, tuned to flag too little rather than
// bury the real columns in noise:
//
// - names are split into words (snake_case, camelCase, digits: `e_mail`,
//   `firstName`, `address_line1`), and a word or two adjacent words joined
//   (`first`+`name`, `e`+`mail`) is looked up in a list of personal words;
// - `name` alone is personal only in tables that hold people (`users`,
//   `customers`, `visitors`...): `rides.name` is a ride. Elsewhere only the
//   names of people count (`first_name`, `last_name`, `full_name`, `surname`,
//   `username`...), never `company_name` or `ride_name`;
// - what is about the data rather than the data is not (`email_verified`,
//   `password_changed_at`, `phone_type`, `user_id`, `is_mobile`);
// - the type must be able to hold it (an `email` is text, a birth date a
//   DATE or text, a phone may be a BIGINT, never a TINYINT);
// - `city`, `country` and `gender` are not flagged: alone they name no one.
import { columnFit, type ColumnFit } from '../mask/column-type.js';
import { compileMask } from '../mask/methods.js';
import { columnProblem, type SourceColumn } from '../mask/plan.js';
import { parseMaskRule, type MaskMethod } from '../mask/rules.js';

export type PersonalKind =
  | 'email'
  | 'ip address'
  | 'password'
  | 'secret'
  | 'token'
  | 'card number'
  | 'bank account'
  | 'national id'
  | 'passport'
  | 'birth date'
  | 'phone'
  | 'name'
  | 'address'
  | 'postcode';

/** Words (or two adjacent words joined) and their kind; the first kind found in PRIORITY order wins. */
const WORDS: Record<string, PersonalKind> = {
  email: 'email', emails: 'email', emailaddress: 'email', mailaddress: 'email',
  ip: 'ip address', ipaddress: 'ip address', ipv: 'ip address', ipaddr: 'ip address', remoteaddr: 'ip address', macaddress: 'ip address',
  password: 'password', passwd: 'password', pwd: 'password', passcode: 'password', passphrase: 'password',
  secret: 'secret', secretkey: 'secret', privatekey: 'secret', cvv: 'secret', cvc: 'secret', totp: 'secret', otp: 'secret', securityanswer: 'secret',
  token: 'token', apikey: 'token', accesskey: 'token',
  creditcard: 'card number', debitcard: 'card number', paymentcard: 'card number', cardnumber: 'card number', cardno: 'card number',
  cardnum: 'card number', ccnumber: 'card number', ccnum: 'card number', ccno: 'card number',
  iban: 'bank account', bankaccount: 'bank account',
  ssn: 'national id', socialsecurity: 'national id', nationalid: 'national id', nationalinsurance: 'national id', taxid: 'national id',
  driverlicense: 'national id', driverslicense: 'national id', drivinglicence: 'national id', drivinglicense: 'national id',
  passport: 'passport',
  birth: 'birth date', birthday: 'birth date', birthdate: 'birth date', dob: 'birth date', birthyear: 'birth date',
  phone: 'phone', phones: 'phone', telephone: 'phone', tel: 'phone', cellphone: 'phone', fax: 'phone', msisdn: 'phone', phonenumber: 'phone',
  phoneno: 'phone', telno: 'phone', mobilenumber: 'phone', mobilephone: 'phone', mobileno: 'phone',
  firstname: 'name', lastname: 'name', fullname: 'name', surname: 'name', forename: 'name', givenname: 'name', familyname: 'name',
  middlename: 'name', maidenname: 'name', nickname: 'name', displayname: 'name', username: 'name', realname: 'name', legalname: 'name',
  contactname: 'name', customername: 'name', visitorname: 'name', guestname: 'name', membername: 'name', holdername: 'name',
  cardholder: 'name', accountholder: 'name', personname: 'name', patientname: 'name', employeename: 'name',
  address: 'address', addresses: 'address', addr: 'address', street: 'address', streetaddress: 'address', addressline: 'address',
  zip: 'postcode', zipcode: 'postcode', postcode: 'postcode', postalcode: 'postcode',
};

/** Words that are personal only as the whole name (`mobile`, not `mobile_app`; `card`, not `card_title`). */
const WHOLE_NAMES: Record<string, PersonalKind> = { mail: 'email', mobile: 'phone', cell: 'phone', card: 'card number' };

/** The kind a column is taken for when several match (`email_address` is an email, `card_holder_name` a name). */
const PRIORITY: readonly PersonalKind[] = [
  'email', 'ip address', 'password', 'secret', 'token', 'name', 'card number', 'bank account', 'national id', 'passport',
  'birth date', 'phone', 'address', 'postcode',
];

/** Joined pairs that are not personal although their words are (`web_address`). */
const NOT_PERSONAL = new Set(['webaddress', 'serveraddress', 'hostaddress', 'mailserver', 'passwordpolicy']);

/** A last word saying the column is about the data, not the data (`email_verified`, `phone_type`, `user_id`). */
const ABOUT = new Set([
  'id', 'ids', 'verified', 'confirmed', 'status', 'state', 'type', 'types', 'kind', 'count', 'flag', 'enabled', 'disabled', 'sent', 'at', 'on',
  'format', 'template', 'subject', 'preference', 'preferences', 'opt', 'optin', 'in', 'out', 'consent', 'length', 'len', 'expires', 'expiry',
  'expired', 'updated', 'changed', 'created', 'policy', 'strength', 'algo', 'algorithm', 'version', 'provider', 'mode', 'required',
  'visible', 'visibility', 'attempts', 'failures', 'valid', 'validated', 'bounced', 'bounces', 'domain', 'lifetime', 'ttl', 'scope',
  'scopes', 'issued', 'used', 'revoked', 'reminder', 'frequency', 'locale', 'language', 'country', 'prefix', 'extension',
]);

/** A first word that makes a flag or a count (`is_mobile`, `has_password`, `num_cards`). */
const FLAG_PREFIX = new Set(['is', 'has', 'can', 'allow', 'allows', 'use', 'uses', 'num', 'needs', 'show', 'hide', 'requires', 'n']);

/** Table words of tables that hold people, where a bare `name` is a person's. */
const PEOPLE_TABLES = new Set([
  'user', 'users', 'customer', 'customers', 'visitor', 'visitors', 'employee', 'employees', 'member', 'members', 'account', 'accounts',
  'guest', 'guests', 'person', 'persons', 'people', 'contact', 'contacts', 'patient', 'patients', 'client', 'clients', 'staff',
  'student', 'students', 'subscriber', 'subscribers', 'profile', 'profiles', 'passenger', 'passengers', 'applicant', 'applicants',
  'resident', 'residents', 'tenant', 'tenants', 'buyer', 'buyers', 'owner', 'owners', 'author', 'authors', 'driver', 'drivers',
  'attendee', 'attendees', 'participant', 'participants', 'recipient', 'recipients', 'traveler', 'travelers', 'traveller', 'travellers',
]);

/** The words of a name: `address_line1` → address, line, 1; `firstName` → first, name; `IPAddress` → ip, address. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])(\d)/g, '$1 $2')
    .replace(/(\d)([A-Za-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

/** What the column's type can hold of each kind (a TINYINT is a flag, never a phone number). */
function typeHolds(kind: PersonalKind, fit: ColumnFit): boolean {
  switch (fit.kind) {
    case 'text':
    case 'binary':
      return true;
    case 'json':
      return kind === 'name' || kind === 'address';
    case 'integer':
      if (kind === 'birth date') return fit.bits >= 16;
      return fit.bits >= 32 && ['ip address', 'card number', 'bank account', 'national id', 'phone', 'postcode'].includes(kind);
    case 'decimal':
      return false;
    case 'other':
      if (kind === 'birth date') return ['date', 'datetime', 'timestamp', 'year'].includes(fit.type);
      return kind === 'ip address' && fit.type === 'inet'; // MariaDB's INET4 and INET6
  }
}

/** The kind of personal data a column's name says it holds, or undefined. */
export function personalKind(table: string, column: string, columnType: string, characterSet: string | null = null): PersonalKind | undefined {
  const words = nameWords(column);
  if (words.length === 0 || FLAG_PREFIX.has(words[0]!)) return undefined;
  const pairs = words.slice(1).map((w, i) => words[i]! + w);
  if (pairs.some((p) => NOT_PERSONAL.has(p))) return undefined;
  const last = words[words.length - 1]!;
  const lastPair = pairs[pairs.length - 1];
  if (ABOUT.has(last) && !(lastPair !== undefined && lastPair in WORDS)) return undefined;
  const found = new Set<PersonalKind>();
  for (const w of [...words, ...pairs]) {
    const kind = WORDS[w];
    if (kind) found.add(kind);
  }
  if (words.length === 1) {
    const whole = WHOLE_NAMES[words[0]!];
    if (whole) found.add(whole);
    if ((words[0] === 'name' || words[0] === 'names') && nameWords(table).some((w) => PEOPLE_TABLES.has(w))) found.add('name');
  }
  const kind = PRIORITY.find((k) => found.has(k));
  if (!kind) return undefined;
  return typeHolds(kind, columnFit(columnType, characterSet)) ? kind : undefined;
}

/** The methods to try for a kind, best first. */
const PREFERRED: Record<PersonalKind, readonly string[]> = {
  email: ['email', 'hash', 'redact'],
  password: ['hash', 'null', 'redact'],
  secret: ['hash', 'null', 'redact'],
  token: ['hash', 'null', 'redact'],
  // Kept apart (joins, unique keys) and unreadable: the identifiers.
  'ip address': ['hash', 'null'],
  'card number': ['hash', 'redact'],
  'bank account': ['hash', 'redact'],
  'national id': ['hash', 'redact'],
  passport: ['hash', 'redact'],
  phone: ['hash', 'redact'],
  postcode: ['hash', 'redact'],
  // Read by people: a run of x as long as the original, obviously fake.
  name: ['redact', 'hash'],
  address: ['redact', 'hash'],
  // A date, or no date at all.
  'birth date': ['null', 'fixed', 'redact', 'hash'],
};

/** A value every column of this type takes, for fixed:VALUE (undefined: none is suggested). */
function fixedValue(fit: ColumnFit, columnType: string, kind: PersonalKind | undefined): string | undefined {
  switch (fit.kind) {
    case 'json':
      return '{}';
    case 'integer':
      return kind === 'birth date' ? '1970' : undefined;
    case 'text':
      return kind === 'birth date' && fit.maxChars >= 10 ? '1970-01-01' : undefined;
    case 'other':
      switch (fit.type) {
        case 'date':
        case 'datetime':
          return '1970-01-01';
        case 'timestamp':
          return '2000-01-01'; // 1970-01-01 is before a TIMESTAMP's first second in zones east of UTC
        case 'year':
          return '1970';
        case 'inet':
          return /^inet4/i.test(columnType.trim()) ? '0.0.0.0' : '::';
        default:
          return undefined;
      }
    default:
      return undefined;
  }
}

/** Any key: what a method accepts does not depend on the key, only its outputs do. */
const PROBE_KEY = Buffer.alloc(32);

/** Why `method` cannot mask the column, as `start` would refuse it; undefined when it can. */
export function methodRefusal(method: MaskMethod, column: SourceColumn): string | undefined {
  const text = `${column.database}.${column.table}.${column.name}=${method.name === 'fixed' ? `fixed:${method.value}` : method.name}`;
  const problem = columnProblem({ text, method }, column);
  if (problem) return problem;
  const compiled = compileMask(method, columnFit(column.columnType, column.characterSet), PROBE_KEY);
  return compiled.ok ? undefined : compiled.reason;
}

/** The rule's name part for a column: `.` and `=` cannot be written in one, so a `*` stands for them. */
function rulePart(name: string): string {
  return name.replace(/[.=]/g, '*');
}

/** A `--mask` argument ready for a shell: quoted when it holds anything a shell would read. */
export function maskFlag(rule: string): string {
  return /^[\w.=:@+/-]+$/.test(rule) ? `--mask ${rule}` : `--mask '${rule.replace(/'/g, "'\\''")}'`;
}

/**
 * The rule that masks a column the way its kind wants, among the methods the
 * column takes (checked as `start` checks them), leaving out `exclude` (a
 * method that was refused); undefined when none fits.
 */
export function suggestRule(column: SourceColumn, kind: PersonalKind | undefined, exclude?: MaskMethod['name']): string | undefined {
  const fit = columnFit(column.columnType, column.characterSet);
  const order = [...(kind ? PREFERRED[kind] : ['hash', 'redact']), 'null', 'fixed'];
  const fixed = column.json ? '{}' : fixedValue(fit, column.columnType, kind);
  for (const name of new Set(order)) {
    if (name === exclude) continue;
    if (name === 'fixed' && fixed === undefined) continue;
    const text = `${rulePart(column.database)}.${rulePart(column.table)}.${rulePart(column.name)}=${name === 'fixed' ? `fixed:${fixed}` : name}`;
    const rule = parseMaskRule(text);
    if (methodRefusal(rule.method, column) === undefined) return rule.text;
  }
  return undefined;
}
