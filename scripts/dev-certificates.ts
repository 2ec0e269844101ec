/**
 * Development and test certificates without OpenSSL or an npm dependency: a certificate authority,
 * server certificates (with subject alternative names) and client certificates, as PEM, signed with
 * ECDSA P-256 by node:crypto. The X.509 structure (RFC 5280) is written as DER by the few encoders
 * below; Node's own TLS stack verifies the result in the tests that use it.
 *
 * Not for production: keys are written unencrypted and nothing here tracks revocation.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

// ---- DER

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, ...contents: Buffer[]): Buffer => {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const octetString = (bytes: Buffer) => tlv(0x04, bytes);
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
/** [n] EXPLICIT, constructed. */
const explicit = (n: number, inner: Buffer) => tlv(0xa0 | n, inner);

/** A non-negative INTEGER from big-endian bytes (a leading zero keeps it positive). */
function unsignedInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const base128: number[] = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) base128.unshift((rest & 0x7f) | 0x80);
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

/** BIT STRING of whole bytes (keys, signatures). */
const bitString = (bytes: Buffer) => tlv(0x03, Buffer.from([0]), bytes);

/** BIT STRING of named bits (KeyUsage): bit 0 is the most significant bit of the first byte; trailing zeros dropped. */
function namedBits(bits: number[]): Buffer {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return tlv(0x03, Buffer.from([7 - (highest & 7)]), bytes);
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

// ---- X.509

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 };

function name(commonName: string, organization: string): Buffer {
  return sequence(
    set(sequence(objectIdentifier(OID.organization), utf8(organization))),
    set(sequence(objectIdentifier(OID.commonName), utf8(commonName))),
  );
}

const extension = (oid: string, critical: boolean, value: Buffer) =>
  sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value));

function subjectAltNames(dnsNames: string[], ipAddresses: string[]): Buffer {
  const ipBytes = (ip: string) => {
    if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
    if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
    const [head = '', tail = ''] = ip.split('::');
    const groups = (part: string) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
    const left = groups(head);
    const right = ip.includes('::') ? groups(tail) : [];
    const all = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
    return Buffer.from(all.flatMap((group) => [group >> 8, group & 0xff]));
  };
  return sequence(
    ...dnsNames.map((dns) => tlv(0x82, Buffer.from(dns, 'ascii'))), // dNSName [2] IMPLICIT IA5String
    ...ipAddresses.map((ip) => tlv(0x87, ipBytes(ip))), // iPAddress [7] IMPLICIT OCTET STRING
  );
}

/** RFC 5280 4.2.1.2 method 1 would hash the key bits alone; any stable unique value is allowed. */
const keyIdentifier = (spki: Buffer) => createHash('sha1').update(spki).digest();

export interface KeyAndCertificate {
  /** PKCS#8 PEM, unencrypted. */
  key: string;
  /** X.509 PEM. */
  cert: string;
}

interface Signer {
  name: Buffer;
  key: KeyObject;
  keyId: Buffer;
}

export interface CertificateOptions {
  commonName: string;
  organization?: string;
  /** Days from now; the certificate is valid from an hour ago, so clocks a little apart still agree. */
  days?: number;
  /** Subject alternative names: host names, and IP addresses (IPv4 or IPv6). */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** What the key may authenticate: a TLS server, a TLS client, or both. */
  usage: 'server' | 'client' | 'server-and-client';
}

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function issue(subject: Buffer, publicSpki: Buffer, signer: Signer, extensions: Buffer[], days: number): string {
  const algorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = new Date(Date.now() + days * 24 * 60 * 60 * 1000);
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  serial[0]! |= 0x01; // positive and never zero
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))), // v3
    unsignedInteger(serial),
    algorithm,
    signer.name,
    sequence(time(notBefore), time(notAfter)),
    subject,
    publicSpki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, signer.key); // ECDSA-Sig-Value, DER
  return toPem(sequence(tbs, algorithm, bitString(signature)));
}

const newKeyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A self-signed certificate authority that may sign certificates but not other CAs. */
export function createCertificateAuthority(commonName: string, options: { organization?: string; days?: number } = {}): KeyAndCertificate {
  const { privateKey, publicKey } = newKeyPair();
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subject = name(commonName, options.organization ?? 'credits-service development');
  const keyId = keyIdentifier(spki);
  const cert = issue(
    subject,
    spki,
    { name: subject, key: privateKey, keyId },
    [
      extension(OID.basicConstraints, true, sequence(boolean(true), unsignedInteger(Buffer.from([0])))),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
      extension(OID.subjectKeyIdentifier, false, octetString(keyId)),
    ],
    options.days ?? 3650,
  );
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert };
}

/** A leaf certificate signed by `ca`. */
export function issueCertificate(ca: KeyAndCertificate, options: CertificateOptions): KeyAndCertificate {
  const caCert = new X509Certificate(ca.cert);
  const caSpki = caCert.publicKey.export({ type: 'spki', format: 'der' });
  const caName = Buffer.from(subjectOf(caCert));
  const { privateKey, publicKey } = newKeyPair();
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const purposes = {
    server: [OID.serverAuth],
    client: [OID.clientAuth],
    'server-and-client': [OID.serverAuth, OID.clientAuth],
  }[options.usage];
  const sans = [...(options.dnsNames ?? [])];
  const ips = [...(options.ipAddresses ?? [])];
  const extensions = [
    extension(OID.basicConstraints, true, sequence()),
    extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature])),
    extension(OID.extKeyUsage, false, sequence(...purposes.map(objectIdentifier))),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
    extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, keyIdentifier(caSpki)))),
    ...(sans.length || ips.length ? [extension(OID.subjectAltName, false, subjectAltNames(sans, ips))] : []),
  ];
  const cert = issue(
    name(options.commonName, options.organization ?? 'credits-service development'),
    spki,
    { name: caName, key: createPrivateKey(ca.key), keyId: keyIdentifier(caSpki) },
    extensions,
    options.days ?? 825,
  );
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert };
}

/**
 * The issuer of a leaf must be the CA's subject byte for byte: read it from the CA's DER instead of
 * re-encoding it (the CA may come from elsewhere). TBSCertificate: version, serial, signature, issuer, validity, subject.
 */
function subjectOf(cert: X509Certificate): Buffer {
  const der = cert.raw;
  const read = (offset: number) => {
    let size = der[offset + 1]!;
    let header = 2;
    if (size & 0x80) {
      const count = size & 0x7f;
      size = 0;
      for (let i = 0; i < count; i++) size = size * 256 + der[offset + 2 + i]!;
      header += count;
    }
    return { start: offset, contentStart: offset + header, end: offset + header + size };
  };
  const certificate = read(0);
  const tbs = read(certificate.contentStart);
  let cursor = tbs.contentStart;
  const fields: { start: number; end: number }[] = [];
  while (cursor < tbs.end && fields.length < 6) {
    const field = read(cursor);
    fields.push(field);
    cursor = field.end;
  }
  // With the explicit version [0] present, subject is the sixth field.
  const subject = der[tbs.contentStart] === 0xa0 ? fields[5] : fields[4];
  if (!subject) throw new Error('cannot read the CA certificate subject');
  return der.subarray(subject.start, subject.end);
}
