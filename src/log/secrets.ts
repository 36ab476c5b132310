// Passwords are registered here the moment they are read, and every line the
// program writes (logs, errors) passes through `redactSecrets`. Redacting at
// the output catches a secret however it got into a message: a driver error,
// an echoed URL, a nested object.

const secrets = new Set<string>();
export const REDACTED = '[REDACTED]';

export function registerSecret(secret: string | undefined): void {
  if (!secret) return;
  secrets.add(secret);
  // The same secret as it appears inside JSON strings and URLs.
  const jsonForm = JSON.stringify(secret).slice(1, -1);
  if (jsonForm !== secret) secrets.add(jsonForm);
  const urlForm = encodeURIComponent(secret);
  if (urlForm !== secret) secrets.add(urlForm);
}

export function redactSecrets(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  // Passwords in URLs we were never told about (e.g. echoed from input).
  return out.replace(/(mysql|mariadb|nats|tls):\/\/([^:@\s/]+):([^@\s]+)@/gi, `$1://$2:${REDACTED}@`);
}

/** For tests: forget everything registered. */
export function clearSecrets(): void {
  secrets.clear();
}
