// A stand-in for Google Cloud Storage's JSON API, its OAuth token endpoint and the GCE metadata
// server, in one process on one port, so that Rivet's GCS code is tested against the answers and
// the refusals Google gives, without the network. Objects live in files under --data (tests
// upload hundreds of MB); open resumable sessions live in memory, their bytes in files there.
//
//  - POST /token: the JWT-bearer grant of a service-account key (RS256 checked with the public
//    half of --service-account; typ, when present, must be JWT and kid, when present, the key's
//    private_key_id; iss = client_email, aud = its token_uri exactly, a devstorage.read_write,
//    devstorage.full_control or cloud-platform scope, iat within 5 minutes of now, exp in the
//    future and at most 3600 s after iat), and the refresh_token grant of the authorized_user
//    file --adc. Refusals as Google's: 400 invalid_grant ("Invalid JWT Signature." for a key it
//    does not know), 401 invalid_client for a wrong client id or secret, 400
//    unsupported_grant_type. Tokens live --token-ttl seconds (3600 unless changed, see below) and
//    are refused with 401 once past it.
//  - GET /computeMetadata/v1/instance/service-accounts/default/{token,email}, /computeMetadata/v1/
//    and /project/project-id, as on GCE: 403 without "Metadata-Flavor: Google", the header on
//    every answer; its tokens open the storage API too.
//  - The storage JSON API at storage.googleapis.com's paths: bucket get; object list (prefix,
//    delimiter, maxResults, pageToken; "items" absent when nothing matches, as Google does);
//    object get (resource, or ?alt=media honouring Range, also under /download/); delete; rewriteTo
//    (a server-side copy answered done in one call); uploads
//    uploadType=media, multipart and resumable. Resumable: POST opens a session (Location header
//    with upload_id), PUT with Content-Range "bytes S-E/T", "bytes S-E/*" or the status query
//    "bytes */T" / "bytes */*" (308 with "Range: bytes=0-N" or no Range when nothing is persisted;
//    200 and the resource once complete); a non-final chunk must end on a 262144-byte boundary;
//    bytes before the persisted size are skipped, a start past it is 400; DELETE cancels (499);
//    an unknown, cancelled or lost session is 404 "No such upload session". md5Hash / crc32c in
//    the metadata and an X-Goog-Hash header are checked against the bytes (400 on a mismatch);
//    ifGenerationMatch (0: must not exist) is checked on every upload, for resumable ones at the
//    start and again at the end (412 conditionNotMet). Every request needs a live Bearer token of
//    this server (401 authError otherwise), except on --public-bucket, which also takes none, and
//    on a session URL, which is its own credential (a token sent there must still be live). On
//    --denied-bucket every object write and delete is 403 forbidden.
//
// Control (unsigned, never logged): POST /__rivet/faults with a JSON list of rules
//   {"method": "PUT", "path": "/upload/", "query": "upload_id", "name": "prefix/", "skip": 0,
//    "count": 1, "action": "reset" | "reset-mid" | "status" | "slow" | "lose-session",
//    "status": 503, "reason": "backendError", "delay_ms": 2000}
// (every match field optional: path is a prefix of the request path, query a query parameter
// name, name a prefix of the object name; a rule fires `count` times after skipping `skip`
// matches. "reset" cuts the connection once the request arrived, logged with status -1;
// "reset-mid" half-way through its body, logged with status -2, and a resumable chunk cut so
// keeps what a real server would: its received half rounded down to 262144 bytes; "status"
// answers that status with a JSON error of that reason; "slow" waits, then answers;
// "lose-session" forgets the session the request names and answers 404);
// GET /__rivet/requests -> [{method, path, query (parameter names joined by &), status, auth:
// "none" | "valid" | "invalid", contentRange ("" when absent), bytes, grant (on /token only)}],
// never a token or a secret; GET /__rivet/sessions -> {"open": [{bucket, name, upload_id,
// persisted}]}; POST /__rivet/token-ttl with a number of seconds, for tokens issued afterwards;
// POST /__rivet/expire-sessions forgets every session; POST /__rivet/reset clears rules and the
// log and restores the token lifetime (objects stay); GET, PUT (body = bytes) and DELETE
// /__rivet/object?bucket=B&name=N; GET /__rivet/list?bucket=B&prefix=P -> [names].
//
// Usage: node gcs-fake.mjs --listen PORT --data DIR --service-account SA.json --adc ADC.json
//   --metadata-email EMAIL --bucket NAME [--bucket ...] [--public-bucket NAME]
//   [--denied-bucket NAME] [--token-ttl 3600] [--lifetime-s 7200]
// Listens on 127.0.0.1 only; exits on SIGTERM or after --lifetime-s.
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { URL } from 'node:url';

const args = process.argv.slice(2);
const opt = { buckets: [], ttl: 3600, lifetime: 7200 };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const v = () => args[++i];
  if (a === '--listen') opt.port = Number(v());
  else if (a === '--data') opt.data = v();
  else if (a === '--service-account') opt.serviceAccount = v();
  else if (a === '--adc') opt.adc = v();
  else if (a === '--metadata-email') opt.metadataEmail = v();
  else if (a === '--bucket') opt.buckets.push(v());
  else if (a === '--public-bucket') { opt.publicBucket = v(); opt.buckets.push(opt.publicBucket); }
  else if (a === '--denied-bucket') { opt.deniedBucket = v(); opt.buckets.push(opt.deniedBucket); }
  else if (a === '--token-ttl') opt.ttl = Number(v());
  else if (a === '--lifetime-s') opt.lifetime = Number(v());
  else throw new Error(`unknown option ${a}`);
}

// Of the key file only the public half is kept: the fake verifies, it never signs.
const sa = (() => {
  const f = JSON.parse(fs.readFileSync(opt.serviceAccount, 'utf8'));
  return { email: f.client_email, keyId: f.private_key_id, tokenUri: f.token_uri,
    publicKey: crypto.createPublicKey(f.private_key) };
})();
const adc = JSON.parse(fs.readFileSync(opt.adc, 'utf8'));
const ADC_PRINCIPAL = 'rivet-adc-user@rivet-test.example';
const SCOPES = ['https://www.googleapis.com/auth/devstorage.read_write',
  'https://www.googleapis.com/auth/devstorage.full_control', 'https://www.googleapis.com/auth/cloud-platform'];
const CHUNK = 262144;

let rules = [];
let log = [];
let ttl = opt.ttl;
let base = '';                // http://127.0.0.1:PORT once listening
const tokens = new Map();     // access token -> {expires (ms), principal}
const sessions = new Map();   // upload_id -> session (open, or done with its resource)

// ---- checksums ----------------------------------------------------------------------------------
// CRC32C (Castagnoli, reflected 0x82F63B78), sliced by 8 so that hundreds of MB take about a second.
const T = Array.from({ length: 8 }, () => new Uint32Array(256));
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82F63B78 : c >>> 1;
  T[0][i] = c >>> 0;
}
for (let i = 0; i < 256; i++) for (let s = 1; s < 8; s++) T[s][i] = (T[s - 1][i] >>> 8) ^ T[0][T[s - 1][i] & 0xff];
function crc32c(crc, buf) {  // continues `crc` (0 to start) over buf
  let c = ~crc >>> 0;
  let i = 0;
  for (; i + 8 <= buf.length; i += 8) {
    const a = (c ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24))) >>> 0;
    c = T[7][a & 0xff] ^ T[6][(a >>> 8) & 0xff] ^ T[5][(a >>> 16) & 0xff] ^ T[4][a >>> 24] ^
      T[3][buf[i + 4]] ^ T[2][buf[i + 5]] ^ T[1][buf[i + 6]] ^ T[0][buf[i + 7]];
  }
  for (; i < buf.length; i++) c = T[0][(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
const crcBase64 = (crc) => { const b = Buffer.alloc(4); b.writeUInt32BE(crc); return b.toString('base64'); };

// ---- objects on disk ----------------------------------------------------------------------------
// DATA/objects/BUCKET/<sha256 of the name>.{bin,json}: the name itself may hold any character.
const objectsDir = path.join(opt.data, 'objects');
const sessionsDir = path.join(opt.data, 'sessions');
fs.rmSync(sessionsDir, { recursive: true, force: true });
fs.mkdirSync(sessionsDir, { recursive: true });
const store = new Map();  // bucket -> Map(name -> metadata)
let lastGeneration = 0;
for (const b of opt.buckets) {
  const dir = path.join(objectsDir, b);
  fs.mkdirSync(dir, { recursive: true });
  const names = new Map();
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const m = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    names.set(m.name, m);
    lastGeneration = Math.max(lastGeneration, Number(m.generation));
  }
  store.set(b, names);
}
const fileOf = (bucket, name) => path.join(objectsDir, bucket,
  crypto.createHash('sha256').update(name).digest('hex'));

// Moves `src` (a finished file) into place as bucket/name and records it; a new generation each time.
function putObject(bucket, name, src, { size, md5, crc, contentType }) {
  const generation = Math.max(Date.now() * 1000, lastGeneration + 1);
  lastGeneration = generation;
  const now = new Date().toISOString();
  const meta = { name, bucket, generation: String(generation), metageneration: '1',
    contentType: contentType || 'application/octet-stream', size: String(size), md5Hash: md5,
    crc32c: crcBase64(crc), timeCreated: now, updated: now };
  const file = fileOf(bucket, name);
  fs.renameSync(src, `${file}.bin`);
  fs.writeFileSync(`${file}.json.tmp`, JSON.stringify(meta));
  fs.renameSync(`${file}.json.tmp`, `${file}.json`);
  store.get(bucket).set(name, meta);
  return meta;
}
function putBuffer(bucket, name, data, contentType) {
  const tmp = path.join(sessionsDir, `put-${crypto.randomBytes(8).toString('hex')}`);
  fs.writeFileSync(tmp, data);
  return putObject(bucket, name, tmp, { size: data.length, contentType, crc: crc32c(0, data),
    md5: crypto.createHash('md5').update(data).digest('base64') });
}
function deleteObject(bucket, name) {
  const file = fileOf(bucket, name);
  fs.rmSync(`${file}.json`, { force: true });
  fs.rmSync(`${file}.bin`, { force: true });
  store.get(bucket).delete(name);
}

function resource(m) {
  const b = encodeURIComponent(m.bucket);
  const n = encodeURIComponent(m.name);
  return { kind: 'storage#object', id: `${m.bucket}/${m.name}/${m.generation}`,
    selfLink: `${base}/storage/v1/b/${b}/o/${n}`,
    mediaLink: `${base}/download/storage/v1/b/${b}/o/${n}?generation=${m.generation}&alt=media`,
    name: m.name, bucket: m.bucket, generation: m.generation, metageneration: m.metageneration,
    contentType: m.contentType, storageClass: 'STANDARD', size: m.size, md5Hash: m.md5Hash,
    crc32c: m.crc32c, etag: Buffer.from(`${m.generation}/${m.metageneration}`).toString('base64'),
    timeCreated: m.timeCreated, updated: m.updated, timeStorageClassUpdated: m.timeCreated };
}

// ---- answers ------------------------------------------------------------------------------------
function send(res, status, body, headers = {}, reason = undefined) {
  if (res.entry) res.entry.status = status;
  const data = body === undefined ? Buffer.alloc(0)
    : Buffer.isBuffer(body) || typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
  const h = status === 204 ? { ...headers } : { 'Content-Length': data.length, ...headers };
  if (body !== undefined && !Buffer.isBuffer(body) && typeof body !== 'string') h['Content-Type'] = 'application/json; charset=UTF-8';
  if (reason) res.writeHead(status, reason, h); else res.writeHead(status, h);
  res.end(data);
}
function apiError(res, status, message, reason, extra = {}) {
  send(res, status, { error: { code: status, message, errors: [{ message, domain: 'global', reason, ...extra }] } });
}
const unauthorized = (res) => apiError(res, 401, 'Invalid Credentials', 'authError',
  { locationType: 'header', location: 'Authorization' });
const noSession = (res) => apiError(res, 404, 'No such upload session', 'notFound');
const noBucket = (res) => apiError(res, 404, 'The specified bucket does not exist.', 'notFound');
const preconditionFailed = (res) => apiError(res, 412, 'At least one of the pre-conditions you specified did not hold.',
  'conditionNotMet', { locationType: 'header', location: 'If-Match' });
const forbidden = (res, principal, what) => apiError(res, 403,
  `${principal} does not have storage.objects.${what} access to the Google Cloud Storage object.`, 'forbidden');
const oauthError = (res, status, error, description) => send(res, status, { error, error_description: description });

// ---- tokens -------------------------------------------------------------------------------------
function issue(principal) {
  if (tokens.size > 10000) for (const [t, v] of tokens) if (v.expires <= Date.now()) tokens.delete(t);
  const token = `ya29.rivet-${crypto.randomBytes(24).toString('base64url')}`;
  tokens.set(token, { expires: Date.now() + ttl * 1000, principal });
  return { access_token: token, expires_in: ttl, token_type: 'Bearer' };
}
function authOf(req) {
  const h = req.headers.authorization;
  if (h === undefined) return { auth: 'none' };
  const m = /^Bearer +(\S+)$/i.exec(h);
  const t = m && tokens.get(m[1]);
  if (!t || t.expires <= Date.now()) return { auth: 'invalid' };
  return { auth: 'valid', principal: t.principal };
}

// Why a service-account assertion is refused, or null when it holds.
function jwtRefusal(assertion) {
  const parts = String(assertion || '').split('.');
  if (parts.length !== 3) return 'Invalid JWT: the assertion is not a signed JWT.';
  let header, claims;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  } catch {
    return 'Invalid JWT: the assertion is not a signed JWT.';
  }
  if (header.alg !== 'RS256' || (header.kid !== undefined && header.kid !== sa.keyId)) return 'Invalid JWT Signature.';
  if (header.typ !== undefined && header.typ !== 'JWT') return 'Invalid JWT: the header typ must be JWT.';
  if (!crypto.verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), sa.publicKey,
    Buffer.from(parts[2], 'base64url'))) return 'Invalid JWT Signature.';
  if (claims.iss !== sa.email) return 'Invalid grant: account not found';
  if (claims.aud !== sa.tokenUri) return `Invalid JWT: Failed audience check. The right audience is ${sa.tokenUri}`;
  if (!String(claims.scope || '').split(' ').some((s) => SCOPES.includes(s))) {
    return 'Invalid OAuth scope or ID token audience provided.';
  }
  const now = Date.now() / 1000;
  const { iat, exp } = claims;
  if (typeof iat !== 'number' || typeof exp !== 'number' || Math.abs(iat - now) > 300 || exp <= now || exp - iat > 3600) {
    return 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.';
  }
  return null;
}

function tokenEndpoint(req, res, body) {
  if (req.method !== 'POST') return send(res, 405, 'Method Not Allowed');
  const type = req.headers['content-type'] || '';
  const f = type.includes('json') ? JSON.parse(body.toString() || '{}')
    : Object.fromEntries(new URLSearchParams(body.toString()));
  res.entry.grant = f.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer' ? 'jwt-bearer' : String(f.grant_type || '');
  if (f.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    const refusal = jwtRefusal(f.assertion);
    if (refusal) return oauthError(res, 400, 'invalid_grant', refusal);
    return send(res, 200, issue(sa.email));
  }
  if (f.grant_type === 'refresh_token') {
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization || '');
    const [id, secret] = f.client_id !== undefined ? [f.client_id, f.client_secret]
      : basic ? Buffer.from(basic[1], 'base64').toString().split(':') : [];
    if (id !== adc.client_id || secret !== adc.client_secret) return oauthError(res, 401, 'invalid_client', 'The OAuth client was not found.');
    if (f.refresh_token !== adc.refresh_token) return oauthError(res, 400, 'invalid_grant', 'Token has been expired or revoked.');
    return send(res, 200, issue(ADC_PRINCIPAL));
  }
  return oauthError(res, 400, 'unsupported_grant_type', `Invalid grant_type: ${f.grant_type || ''}`);
}

function metadataServer(req, res, p) {
  const flavor = { 'Metadata-Flavor': 'Google' };
  const text = (status, t) => send(res, status, t, { ...flavor, 'Content-Type': 'application/text' });
  if (p === '/') return text(200, 'computeMetadata/\n');
  if (req.headers['metadata-flavor'] !== 'Google') return text(403, 'Missing required header "Metadata-Flavor": "Google"\n');
  if (req.method !== 'GET') return text(405, 'Method Not Allowed\n');
  const account = /^\/computeMetadata\/v1\/instance\/service-accounts\/([^/]+)\/(token|email)$/.exec(p);
  if (account && (account[1] === 'default' || decodeURIComponent(account[1]) === opt.metadataEmail)) {
    if (account[2] === 'email') return text(200, opt.metadataEmail);
    return send(res, 200, issue(opt.metadataEmail), flavor);
  }
  if (p === '/computeMetadata/v1/' || p === '/computeMetadata/v1') return text(200, 'instance/\nproject/\n');
  if (p === '/computeMetadata/v1/instance/service-accounts/') return text(200, `default/\n${opt.metadataEmail}/\n`);
  if (p === '/computeMetadata/v1/project/project-id') return text(200, 'rivet-test');
  return text(404, 'Not Found\n');
}

// ---- storage ------------------------------------------------------------------------------------
// The reason an upload's bytes do not match what its metadata or X-Goog-Hash header claim, or null.
function hashMismatch(expected, md5, crc) {
  if (expected.md5Hash && expected.md5Hash !== md5) {
    return `Provided MD5 hash "${expected.md5Hash}" doesn't match calculated MD5 hash "${md5}".`;
  }
  if (expected.crc32c && expected.crc32c !== crcBase64(crc)) {
    return `Provided CRC32C "${expected.crc32c}" doesn't match calculated CRC32C "${crcBase64(crc)}".`;
  }
  return null;
}
function googHash(req, into = {}) {
  for (const part of String(req.headers['x-goog-hash'] || '').split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    if (k === 'md5') into.md5Hash = part.slice(eq + 1).trim();
    if (k === 'crc32c') into.crc32c = part.slice(eq + 1).trim();
  }
  return into;
}
function preconditionHolds(q, bucket, name) {
  const want = q.get('ifGenerationMatch');
  if (want === null) return true;
  const cur = store.get(bucket).get(name);
  return want === '0' ? !cur : cur !== undefined && cur.generation === want;
}

function parseMultipart(contentType, body) {
  const m = /boundary="?([^";]+)"?/i.exec(contentType || '');
  if (!m) return null;
  const delim = Buffer.from(`--${m[1]}`);
  const next = Buffer.from(`\r\n--${m[1]}`);
  const parts = [];
  let pos = body.indexOf(delim);
  if (pos < 0) return null;
  pos += delim.length;
  while (body.subarray(pos, pos + 2).toString() !== '--') {
    if (body[pos] === 13 && body[pos + 1] === 10) pos += 2;
    const end = body.indexOf(next, pos);
    if (end < 0) return null;
    const part = body.subarray(pos, end);
    const sep = part.indexOf('\r\n\r\n');
    const head = sep < 0 ? '' : part.subarray(0, sep).toString();
    const type = /^content-type:\s*(.+)$/im.exec(head);
    const content = sep >= 0 ? part.subarray(sep + 4) : part.subarray(part.indexOf('\r\n') === 0 ? 2 : 0);
    parts.push({ type: type ? type[1].trim() : undefined, body: content });
    pos = end + next.length;
  }
  return parts;
}

function sendMedia(req, res, m) {
  const file = `${fileOf(m.bucket, m.name)}.bin`;
  const size = Number(m.size);
  const headers = { 'Content-Type': m.contentType, 'X-Goog-Generation': m.generation,
    'X-Goog-Metageneration': m.metageneration, 'X-Goog-Stored-Content-Length': m.size,
    'X-Goog-Hash': `crc32c=${m.crc32c},md5=${m.md5Hash}`, 'Accept-Ranges': 'bytes', ETag: resource(m).etag };
  let start = 0, end = size - 1, status = 200;
  const r = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range || '').trim());
  if (r && size > 0 && (r[1] !== '' || r[2] !== '')) {
    if (r[1] === '') start = Math.max(0, size - Number(r[2]));
    else { start = Number(r[1]); if (r[2] !== '') end = Math.min(Number(r[2]), size - 1); }
    if (start >= size || start > end) {
      res.setHeader('Content-Range', `bytes */${size}`);
      return apiError(res, 416, 'Request range not satisfiable', 'requestedRangeNotSatisfiable');
    }
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  res.entry.status = status;
  res.writeHead(status, { ...headers, 'Content-Length': size === 0 ? 0 : end - start + 1 });
  if (size === 0) return res.end();
  fs.createReadStream(file, { start, end }).on('error', () => res.destroy()).pipe(res);
}

function listObjects(res, bucket, q) {
  const prefix = q.get('prefix') || '';
  const delimiter = q.get('delimiter') || '';
  const max = Math.min(Math.max(Number(q.get('maxResults')) || 1000, 1), 1000);
  const after = q.get('pageToken') ? Buffer.from(q.get('pageToken'), 'base64url').toString() : null;
  const names = [...store.get(bucket).keys()].filter((n) => n.startsWith(prefix))
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const items = [];
  const prefixes = [];
  let last = null;
  let more = false;
  for (const n of names) {
    if (after !== null && (Buffer.compare(Buffer.from(n), Buffer.from(after)) <= 0 ||
      (after.endsWith(delimiter) && delimiter && n.startsWith(after)))) continue;
    const cut = delimiter ? n.indexOf(delimiter, prefix.length) : -1;
    const key = cut >= 0 ? n.slice(0, cut + delimiter.length) : n;
    if (key === last) continue;
    if (items.length + prefixes.length === max) { more = true; break; }
    if (cut >= 0) prefixes.push(key); else items.push(resource(store.get(bucket).get(n)));
    last = key;
  }
  const out = { kind: 'storage#objects' };
  if (more) out.nextPageToken = Buffer.from(last).toString('base64url');
  if (prefixes.length) out.prefixes = prefixes;
  if (items.length) out.items = items;
  send(res, 200, out);
}

// A session's bytes go straight to its file; the hashes run along so the end costs nothing.
function openSession(bucket, name, meta, q, expected) {
  const id = `rivet-${crypto.randomBytes(24).toString('base64url')}`;
  const file = path.join(sessionsDir, id);
  const s = { id, bucket, name, contentType: meta.contentType, expected, state: 'open',
    ifGenerationMatch: q.get('ifGenerationMatch'), total: meta.size, persisted: 0, file,
    fd: fs.openSync(file, 'w'), md5: crypto.createHash('md5'), crc: 0 };
  sessions.set(id, s);
  return s;
}
function append(s, data) {
  if (data.length === 0) return;
  fs.writeSync(s.fd, data);
  s.md5.update(data);
  s.crc = crc32c(s.crc, data);
  s.persisted += data.length;
}
function dropSession(id) {
  const s = sessions.get(id);
  if (!s) return;
  if (s.state === 'open') { fs.closeSync(s.fd); fs.rmSync(s.file, { force: true }); }
  sessions.delete(id);
}
const rangeHeader = (s) => (s.persisted > 0 ? { Range: `bytes=0-${s.persisted - 1}` } : {});
const resume = (res, s) => send(res, 308, undefined, rangeHeader(s), 'Resume Incomplete');

function finishSession(req, res, s) {
  const md5 = s.md5.digest('base64');
  const expected = googHash(req, { ...s.expected });
  const refusal = hashMismatch(expected, md5, s.crc);
  const q = new URLSearchParams(s.ifGenerationMatch === null ? '' : `ifGenerationMatch=${s.ifGenerationMatch}`);
  if (refusal || !preconditionHolds(q, s.bucket, s.name)) {
    dropSession(s.id);
    return refusal ? apiError(res, 400, refusal, 'invalid') : preconditionFailed(res);
  }
  fs.closeSync(s.fd);
  const meta = putObject(s.bucket, s.name, s.file, { size: s.persisted, md5, crc: s.crc, contentType: s.contentType });
  Object.assign(s, { state: 'done', resource: resource(meta), md5: null });
  send(res, 200, s.resource);
}

function parseContentRange(h) {
  if (h === undefined) return { start: 0, end: null, total: null, whole: true };
  const m = /^bytes (?:(\d+)-(\d+|\*)|\*)\/(\d+|\*)$/.exec(String(h).trim());
  if (!m) return null;
  return { start: m[1] === undefined ? null : Number(m[1]), end: m[2] === undefined || m[2] === '*' ? null : Number(m[2]),
    total: m[3] === '*' ? null : Number(m[3]) };
}

function sessionRequest(req, res, q, body) {
  const s = sessions.get(q.get('upload_id'));
  if (!s) return noSession(res);
  if (req.method === 'DELETE') { dropSession(s.id); return send(res, 499, undefined, {}, 'Client Closed Request'); }
  if (s.state === 'done') return send(res, 200, s.resource);
  const invalid = (message) => apiError(res, 400, `Invalid request. ${message}`, 'invalid');
  const cr = parseContentRange(req.headers['content-range']);
  if (!cr) return apiError(res, 400, 'Failed to parse Content-Range header.', 'invalid');
  const total = cr.whole ? body.length : cr.total;
  if (total !== null && (total < s.persisted || (s.total !== undefined && s.total !== total))) {
    return invalid(`The upload's size ${total} disagrees with the ${s.persisted} bytes already uploaded or the size given at its start.`);
  }
  if (cr.start === null) {  // status query
    return total === s.persisted ? finishSession(req, res, s) : resume(res, s);
  }
  if (cr.end !== null && cr.end - cr.start + 1 !== body.length) {
    return invalid(`The Content-Range header claims ${cr.end - cr.start + 1} bytes, the body has ${body.length}.`);
  }
  if (cr.start > s.persisted) {
    return invalid(`According to the Content-Range header, the upload offset is ${cr.start} byte(s), which exceeds already uploaded size of ${s.persisted} byte(s).`);
  }
  const endsAt = cr.start + body.length;
  if (total !== null && endsAt > total) return invalid(`The ${endsAt} bytes sent exceed the upload's size ${total}.`);
  const final = total !== null && endsAt === total;
  if (!final && endsAt % CHUNK !== 0) {
    return invalid(`The number of bytes uploaded is required to be equal or greater than ${CHUNK}, except for the final request (it's recommended to be the exact multiple of ${CHUNK}). The received request contained ${body.length} bytes, which does not meet this requirement.`);
  }
  if (endsAt > s.persisted) append(s, body.subarray(s.persisted - cr.start));
  return final ? finishSession(req, res, s) : resume(res, s);
}

// What a real server keeps of a resumable chunk cut half-way: the received part, down to 256 KiB.
function persistPartial(req, url, received) {
  const s = sessions.get(url.searchParams.get('upload_id'));
  const cr = s && s.state === 'open' ? parseContentRange(req.headers['content-range']) : null;
  if (!cr || cr.start === null || cr.whole || cr.start > s.persisted) return;
  const fresh = received.subarray(s.persisted - cr.start);
  const keep = Math.floor((s.persisted + fresh.length) / CHUNK) * CHUNK - s.persisted;
  if (keep > 0) append(s, fresh.subarray(0, keep));
}

function upload(req, res, q, bucket, principal, body) {
  const type = q.get('uploadType');
  const denied = () => forbidden(res, principal, 'create');
  if (type === 'resumable') {
    let meta = {};
    if (body.length) { try { meta = JSON.parse(body.toString()); } catch { return apiError(res, 400, 'Parse Error', 'parseError'); } }
    const name = q.get('name') || meta.name;
    if (!name) return apiError(res, 400, 'Required', 'required');
    if (bucket === opt.deniedBucket) return denied();
    if (!preconditionHolds(q, bucket, name)) return preconditionFailed(res);
    const length = req.headers['x-upload-content-length'];
    const s = openSession(bucket, name, { contentType: req.headers['x-upload-content-type'] || meta.contentType,
      size: length === undefined ? undefined : Number(length) }, q, { md5Hash: meta.md5Hash, crc32c: meta.crc32c });
    return send(res, 200, undefined, { Location: `${base}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${s.id}`,
      'X-GUploader-UploadID': s.id });
  }
  let name = q.get('name');
  let data = body;
  let meta = {};
  let contentType = req.headers['content-type'];
  if (type === 'multipart') {
    const parts = parseMultipart(req.headers['content-type'], body);
    if (!parts || parts.length !== 2) return apiError(res, 400, 'Invalid multipart request.', 'invalid');
    try { meta = JSON.parse(parts[0].body.toString()); } catch { return apiError(res, 400, 'Parse Error', 'parseError'); }
    name = name || meta.name;
    data = parts[1].body;
    contentType = meta.contentType || parts[1].type;
  } else if (type !== 'media') {
    return apiError(res, 400, `Invalid upload type: ${type}`, 'invalid');
  }
  if (!name) return apiError(res, 400, 'Required', 'required');
  if (bucket === opt.deniedBucket) return denied();
  if (!preconditionHolds(q, bucket, name)) return preconditionFailed(res);
  const md5 = crypto.createHash('md5').update(data).digest('base64');
  const crc = crc32c(0, data);
  const refusal = hashMismatch(googHash(req, { md5Hash: meta.md5Hash, crc32c: meta.crc32c }), md5, crc);
  if (refusal) return apiError(res, 400, refusal, 'invalid');
  const tmp = path.join(sessionsDir, `put-${crypto.randomBytes(8).toString('hex')}`);
  fs.writeFileSync(tmp, data);
  return send(res, 200, resource(putObject(bucket, name, tmp, { size: data.length, md5, crc, contentType })));
}

// objects.rewrite: a server-side copy, done in one call (objects here are small enough);
// ifGenerationMatch applies to the destination.
function rewriteObject(req, res, q, who, [srcBucket, srcName, dstBucket, dstName]) {
  if (req.method !== 'POST') return apiError(res, 405, 'Method Not Allowed', 'methodNotAllowed');
  if (who.auth !== 'valid' && !(who.auth === 'none' && srcBucket === opt.publicBucket && dstBucket === opt.publicBucket)) return unauthorized(res);
  if (!store.has(srcBucket) || !store.has(dstBucket)) return noBucket(res);
  const m = store.get(srcBucket).get(srcName);
  if (!m) return apiError(res, 404, `No such object: ${srcBucket}/${srcName}`, 'notFound');
  if (dstBucket === opt.deniedBucket) return forbidden(res, who.principal || 'Anonymous caller', 'create');
  if (!preconditionHolds(q, dstBucket, dstName)) return preconditionFailed(res);
  const tmp = path.join(sessionsDir, `copy-${crypto.randomBytes(8).toString('hex')}`);
  fs.copyFileSync(`${fileOf(srcBucket, srcName)}.bin`, tmp);
  const copy = putObject(dstBucket, dstName, tmp, { size: Number(m.size), md5: m.md5Hash,
    crc: Buffer.from(m.crc32c, 'base64').readUInt32BE(0), contentType: m.contentType });
  return send(res, 200, { kind: 'storage#rewriteResponse', totalBytesRewritten: m.size, objectSize: m.size,
    done: true, resource: resource(copy) });
}

function storage(req, res, url, body) {
  const p = url.pathname;
  const q = url.searchParams;
  const who = authOf(req);
  if (p.startsWith('/upload/') && q.has('upload_id')) {
    if (who.auth === 'invalid') return unauthorized(res);
    if (!['PUT', 'POST', 'DELETE'].includes(req.method)) return apiError(res, 405, 'Method Not Allowed', 'methodNotAllowed');
    return sessionRequest(req, res, q, body);
  }
  const rewrite = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)\/rewriteTo\/b\/([^/]+)\/o\/([^/]+)$/.exec(p);
  if (rewrite) return rewriteObject(req, res, q, who, rewrite.slice(1).map(decodeURIComponent));
  const route = /^\/storage\/v1\/b\/([^/]+)(?:\/o(?:\/(.+))?)?$/.exec(p) ||
    /^\/(download|upload)\/storage\/v1\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(p);
  if (!route) return apiError(res, 404, 'Not Found', 'notFound');
  const kind = route.length === 4 ? route[1] : 'api';
  const [bucket, object] = (kind === 'api' ? route.slice(1) : route.slice(2)).map((x) => (x === undefined ? undefined : decodeURIComponent(x)));
  const isList = kind === 'api' && /\/o$/.test(p);
  if (who.auth === 'invalid' || (who.auth === 'none' && bucket !== opt.publicBucket)) return unauthorized(res);
  const principal = who.principal || 'Anonymous caller';
  if (!store.has(bucket)) return noBucket(res);
  if (kind === 'upload') {
    if (req.method !== 'POST' || object !== undefined) return apiError(res, 405, 'Method Not Allowed', 'methodNotAllowed');
    return upload(req, res, q, bucket, principal, body);
  }
  if (object === undefined) {
    if (req.method !== 'GET') return apiError(res, 405, 'Method Not Allowed', 'methodNotAllowed');
    if (isList) return listObjects(res, bucket, q);
    return send(res, 200, { kind: 'storage#bucket', id: bucket, selfLink: `${base}/storage/v1/b/${encodeURIComponent(bucket)}`,
      projectNumber: '1000', name: bucket, timeCreated: '2024-01-01T00:00:00.000Z', updated: '2024-01-01T00:00:00.000Z',
      metageneration: '1', location: 'US', locationType: 'multi-region', storageClass: 'STANDARD', etag: 'CAE=' });
  }
  const m = store.get(bucket).get(object);
  const missing = () => apiError(res, 404, `No such object: ${bucket}/${object}`, 'notFound');
  if (req.method === 'DELETE') {
    if (bucket === opt.deniedBucket) return forbidden(res, principal, 'delete');
    if (!m) return missing();
    if (!preconditionHolds(q, bucket, object)) return preconditionFailed(res);
    deleteObject(bucket, object);
    return send(res, 204);
  }
  if (req.method !== 'GET') return apiError(res, 405, 'Method Not Allowed', 'methodNotAllowed');
  if (!m || (q.has('generation') && q.get('generation') !== m.generation)) return missing();
  if (!preconditionHolds(q, bucket, object)) return preconditionFailed(res);
  if (q.get('alt') === 'media') return sendMedia(req, res, m);
  return send(res, 200, resource(m));
}

// ---- faults, log, control -----------------------------------------------------------------------
function nameOf(url) {
  const s = sessions.get(url.searchParams.get('upload_id'));
  if (s) return s.name;
  const o = /\/o\/(.+)$/.exec(url.pathname);
  try { return o ? decodeURIComponent(o[1]) : url.searchParams.get('name') || ''; } catch { return ''; }
}
// The first live rule for this request; `midBody` selects the "reset-mid" rules, which act while
// the body is still arriving, the others act once it is complete.
function matchingRule(req, url, midBody) {
  for (const r of rules) {
    if (r.count <= 0 || (r.action === 'reset-mid') !== midBody) continue;
    if (r.method && r.method !== req.method) continue;
    if (r.path && !url.pathname.startsWith(r.path)) continue;
    if (r.query && !url.searchParams.has(r.query)) continue;
    if (r.name && !nameOf(url).startsWith(r.name)) continue;
    if ((r.skip || 0) > 0) { r.skip--; continue; }
    r.count--;
    return r;
  }
  return null;
}

async function handle(req, res, url, body) {
  const rule = matchingRule(req, url, false);
  if (rule) {
    if (rule.action === 'reset') { res.entry.status = -1; req.socket.destroy(); return; }
    if (rule.action === 'lose-session') { dropSession(url.searchParams.get('upload_id')); return noSession(res); }
    if (rule.action === 'status') {
      const status = rule.status || 503;
      if (url.pathname === '/token') return oauthError(res, status, rule.reason || 'internal_failure', 'injected');
      return apiError(res, status, 'injected', rule.reason || 'backendError');
    }
    if (rule.action === 'slow') await new Promise((r) => setTimeout(r, rule.delay_ms || 1000));
  }
  if (url.pathname === '/token') return tokenEndpoint(req, res, body);
  if (url.pathname === '/' || url.pathname.startsWith('/computeMetadata/')) return metadataServer(req, res, url.pathname);
  return storage(req, res, url, body);
}

function control(req, res, url, body) {
  const json = (v) => send(res, 200, v);
  const p = url.pathname;
  const q = url.searchParams;
  const post = req.method === 'POST';
  if (p === '/__rivet/faults' && post) {
    rules = rules.concat(JSON.parse(body.toString() || '[]').map((r) => ({ count: 1, ...r })));
    return json({ rules: rules.length });
  }
  if (p === '/__rivet/requests') return json(log);
  if (p === '/__rivet/sessions') {
    return json({ open: [...sessions.values()].filter((s) => s.state === 'open')
      .map((s) => ({ bucket: s.bucket, name: s.name, upload_id: s.id, persisted: s.persisted })) });
  }
  if (p === '/__rivet/token-ttl' && post) { ttl = Number(JSON.parse(body.toString())); return json({ ttl }); }
  if (p === '/__rivet/expire-sessions' && post) { for (const id of [...sessions.keys()]) dropSession(id); return json({ ok: true }); }
  if (p === '/__rivet/reset' && post) { rules = []; log = []; ttl = opt.ttl; return json({ ok: true }); }
  const bucket = q.get('bucket');
  if ((p === '/__rivet/object' || p === '/__rivet/list') && !store.has(bucket)) return send(res, 404, 'no such bucket\n');
  if (p === '/__rivet/list') {
    const prefix = q.get('prefix') || '';
    return json([...store.get(bucket).keys()].filter((n) => n.startsWith(prefix)).sort());
  }
  if (p === '/__rivet/object') {
    const name = q.get('name') || '';
    const m = store.get(bucket).get(name);
    if (req.method === 'PUT') return json(resource(putBuffer(bucket, name, body, req.headers['content-type'])));
    if (!m) return send(res, 404, 'no such object\n');
    if (req.method === 'DELETE') { deleteObject(bucket, name); return send(res, 204); }
    return send(res, 200, fs.readFileSync(`${fileOf(bucket, name)}.bin`), { 'Content-Type': 'application/octet-stream' });
  }
  send(res, 404, 'unknown control path\n');
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const isControl = url.pathname.startsWith('/__rivet/');
  if (!isControl) {
    res.entry = { method: req.method, path: url.pathname, query: [...url.searchParams.keys()].join('&'),
      status: 0, auth: authOf(req).auth, contentRange: String(req.headers['content-range'] || ''), bytes: 0 };
    log.push(res.entry);
    if (log.length > 100000) log = log.slice(-50000);
  }
  const cut = isControl ? null : matchingRule(req, url, true);
  const half = Math.floor((Number(req.headers['content-length']) || 0) / 2);
  const chunks = [];
  let received = 0;
  const cutNow = () => {
    res.entry.status = -2;
    res.entry.bytes = Math.min(received, half);
    persistPartial(req, url, Buffer.concat(chunks).subarray(0, half));
    req.socket.destroy();
  };
  req.on('data', (c) => {
    if (req.socket.destroyed) return;
    chunks.push(c);
    received += c.length;
    if (cut && received >= half) cutNow();
  });
  req.on('end', () => {
    if (req.socket.destroyed) return;
    if (cut) return cutNow();
    const body = Buffer.concat(chunks);
    if (res.entry) res.entry.bytes = body.length;
    Promise.resolve().then(() => (isControl ? control(req, res, url, body) : handle(req, res, url, body))).catch((e) => {
      if (!res.headersSent) apiError(res, 500, String(e.message || e), 'backendError');
      else res.destroy();
    });
  });
});
// Clients keep connections in a pool: close idle ones late, as Google's front ends do, so that a
// test never races a server-side idle close.
server.keepAliveTimeout = 120000;
server.headersTimeout = 130000;
server.requestTimeout = 0;
server.listen(opt.port, '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  console.log(`gcs-fake listening on ${server.address().port}`);
});
setTimeout(() => process.exit(0), opt.lifetime * 1000).unref();
process.on('SIGTERM', () => process.exit(0));
