// Throwaway certificates for TLS tests, made with the openssl command line:
// a CA, a server certificate for 127.0.0.1 signed by it, a server certificate
// for another name, and a second CA nobody trusts.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Signed by the same CA, but for wrong.example only (VERIFY_IDENTITY must refuse it on 127.0.0.1). */
  wrongNameCert: string;
  wrongNameKey: string;
  /** A CA that signed nothing we serve. */
  otherCa: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function serverCertificate(dir: string, name: string, altNames: string): { cert: string; key: string } {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${altNames}\n`);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

export function makeCertificates(dir: string): TestCertificates {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=binlog-sync test CA']);
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=someone else']);
  const server = serverCertificate(dir, 'server', 'IP:127.0.0.1,DNS:localhost');
  const wrong = serverCertificate(dir, 'wrong', 'DNS:wrong.example');
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    serverCert: server.cert,
    serverKey: server.key,
    wrongNameCert: wrong.cert,
    wrongNameKey: wrong.key,
    otherCa: join(dir, 'other.pem'),
  };
}
