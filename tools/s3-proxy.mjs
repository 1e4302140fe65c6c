// A proxy in front of s3rver that makes the pair answer like AWS S3 where Rivet's tests need it:
// s3rver accepts any signature and lacks AbortMultipartUpload and conditional writes.
//
//  - checks every SigV4 header signature with the secrets it knows and refuses as AWS does
//    (SignatureDoesNotMatch, InvalidAccessKeyId, AuthorizationHeaderMalformed for a wrong region,
//    ExpiredToken / InvalidToken, XAmzContentSHA256Mismatch, AccessDenied when unsigned);
//  - If-None-Match: * on PutObject, CompleteMultipartUpload and CopyObject (412 when the object
//    exists), or 501 for it when started with --no-conditional (a store without the feature);
//  - AbortMultipartUpload, and a list of open uploads;
//  - faults on request: reset a connection, answer a status with an S3 error, or answer late.
//
// Control (unsigned): POST /__rivet/faults with a JSON list of rules
//   {"method": "PUT", "query": "partNumber", "key": "prefix/", "skip": 0, "count": 1,
//    "action": "reset" | "reset-mid" | "status" | "slow" | "error-in-200", "status": 503,
//    "code": "SlowDown", "delay_ms": 2000}
// ("reset" cuts the connection once the request arrived, logged with status -1; "reset-mid"
// half-way through its body, logged with status -2)
// (every match field optional; a rule fires `count` times after skipping `skip` matches);
// GET /__rivet/uploads -> {"open": [{"key", "uploadId"}]}; GET /__rivet/requests -> [{method,
// key, query, status, conditional, md5, token}] (never a secret, a token or a signature);
// POST /__rivet/conditional with "off" or "on" turns conditional writes off (501) or on for the
// requests that follow; POST /__rivet/reset clears rules and the log and restores the start's.
//
// Usage: node s3-proxy.mjs --listen PORT --backend http://127.0.0.1:PORT2 --region us-east-1
//   --key ACCESS=SECRET [--key ...] [--session ACCESS=SECRET=TOKEN] [--expired ACCESS=SECRET=TOKEN]
//   [--no-conditional] [--lifetime-s 7200]
// Listens on 127.0.0.1 only; exits on SIGTERM or after --lifetime-s.
import http from 'node:http';
import crypto from 'node:crypto';

const args = process.argv.slice(2);
const opt = { keys: new Map(), sessions: new Map(), expired: new Map(), region: 'us-east-1',
  conditional: true, lifetime: 7200 };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const v = () => args[++i];
  if (a === '--listen') opt.port = Number(v());
  else if (a === '--backend') opt.backend = new URL(v());
  else if (a === '--region') opt.region = v();
  else if (a === '--key') { const [k, s] = v().split('='); opt.keys.set(k, s); }
  else if (a === '--session') { const [k, s, t] = v().split('='); opt.keys.set(k, s); opt.sessions.set(k, t); }
  else if (a === '--expired') { const [k, s, t] = v().split('='); opt.keys.set(k, s); opt.expired.set(k, t); }
  else if (a === '--no-conditional') opt.conditional = false;
  else if (a === '--lifetime-s') opt.lifetime = Number(v());
  else throw new Error(`unknown option ${a}`);
}

let rules = [];
let log = [];
let conditional = opt.conditional;
const uploads = new Map();  // uploadId -> {key, state: open|completed|aborted}

const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (k, d) => crypto.createHmac('sha256', k).update(d).digest();

function s3Error(res, status, code, message) {
  res.writeHead(status, { 'Content-Type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
  return status;
}

// The reason a request is refused, as [status, code, message], or null when its signature holds.
function checkSignature(req, rawPath, rawQuery, body) {
  const auth = req.headers.authorization;
  if (!auth) return [403, 'AccessDenied', 'Access Denied'];
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return [400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed'];
  const [, access, date, region, signedHeaders, signature] = m;
  if (region !== opt.region) {
    return [400, 'AuthorizationHeaderMalformed', `the region '${region}' is wrong; expecting '${opt.region}'`];
  }
  const secret = opt.keys.get(access);
  if (secret === undefined) return [403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'];
  const token = req.headers['x-amz-security-token'];
  if (opt.expired.has(access)) return [400, 'ExpiredToken', 'The provided token has expired.'];
  if (opt.sessions.has(access) && token !== opt.sessions.get(access)) {
    return [403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.'];
  }
  const amzDate = req.headers['x-amz-date'] || '';
  const when = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!(Math.abs(Date.now() - when) < 15 * 60 * 1000) || amzDate.slice(0, 8) !== date) {
    return [403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.'];
  }
  const payload = req.headers['x-amz-content-sha256'];
  if (!payload) return [400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256'];
  if (payload !== 'UNSIGNED-PAYLOAD' && payload !== sha256(body)) {
    return [400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed."];
  }
  const query = rawQuery === '' ? [] : rawQuery.split('&').map((p) => {
    const eq = p.indexOf('=');
    const name = decodeURIComponent(eq < 0 ? p : p.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(p.slice(eq + 1).replace(/\+/g, '%20'));
    return [enc(name), enc(value)];
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const names = signedHeaders.split(';');
  const canonicalHeaders = names.map((n) => {
    const raw = req.headersDistinct[n];
    const value = raw === undefined ? '' : raw.map((x) => x.trim().replace(/\s+/g, ' ')).join(',');
    return `${n}:${value}\n`;
  }).join('');
  const canonical = [req.method, rawPath, query.map(([n, v]) => `${n}=${v}`).join('&'),
    canonicalHeaders, signedHeaders, payload].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac('AWS4' + secret, date);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, toSign).toString('hex');
  if (expected !== signature) {
    return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'];
  }
  return null;
}

// The first live rule for this request; `midBody` selects the "reset-mid" rules, which act while
// the body is still arriving, the others act once it is complete.
function matchingRule(req, key, rawQuery, midBody = false) {
  for (const r of rules) {
    if (r.count <= 0) continue;
    if ((r.action === 'reset-mid') !== midBody) continue;
    if (r.method && r.method !== req.method) continue;
    if (r.query && !rawQuery.split('&').some((p) => p.split('=')[0] === r.query)) continue;
    if (r.key && !key.startsWith(r.key)) continue;
    if ((r.skip || 0) > 0) { r.skip--; continue; }
    r.count--;
    return r;
  }
  return null;
}

function backend(method, path, query, headers, body) {
  return new Promise((resolve, reject) => {
    const out = http.request({ host: opt.backend.hostname, port: opt.backend.port, method,
      path: path + (query ? '?' + query : ''), headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    out.on('error', reject);
    out.end(body);
  });
}

async function handle(req, res, body) {
  const [rawPath, rawQuery = ''] = req.url.split('?');
  if (rawPath.startsWith('/__rivet/')) return control(req, res, rawPath, body);
  const segments = rawPath.split('/');
  const bucket = decodeURIComponent(segments[1] || '');
  const key = decodeURIComponent(segments.slice(2).join('/'));
  const params = new URLSearchParams(rawQuery);
  const entry = { method: req.method, key, query: [...params.keys()].join('&'),
    conditional: req.headers['if-none-match'] !== undefined, md5: req.headers['content-md5'] !== undefined,
    token: req.headers['x-amz-security-token'] !== undefined, status: 0 };
  log.push(entry);
  if (log.length > 100000) log = log.slice(-50000);

  const refused = checkSignature(req, rawPath, rawQuery, body);
  if (refused) { entry.status = s3Error(res, ...refused); return; }
  const rule = matchingRule(req, key, rawQuery);
  if (rule) {
    if (rule.action === 'reset') { entry.status = -1; req.socket.destroy(); return; }
    if (rule.action === 'status') { entry.status = s3Error(res, rule.status || 500, rule.code || 'InternalError', 'injected'); return; }
    if (rule.action === 'slow') await new Promise((r) => setTimeout(r, rule.delay_ms || 1000));
  }
  if (req.headers['content-md5'] !== undefined &&
      crypto.createHash('md5').update(body).digest('base64') !== req.headers['content-md5']) {
    entry.status = s3Error(res, 400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    return;
  }
  const uploadId = params.get('uploadId');
  if (uploadId !== null && uploads.has(uploadId) && uploads.get(uploadId).state !== 'open') {
    entry.status = s3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
    return;
  }
  if (req.method === 'DELETE' && uploadId !== null) {  // AbortMultipartUpload
    if (uploads.has(uploadId)) uploads.get(uploadId).state = 'aborted';
    res.writeHead(204); res.end(); entry.status = 204; return;
  }
  const creates = (req.method === 'PUT' && uploadId === null) || (req.method === 'POST' && uploadId !== null);
  if (creates && req.headers['if-none-match'] !== undefined) {
    if (!conditional) { entry.status = s3Error(res, 501, 'NotImplemented', 'A header you provided implies functionality that is not implemented'); return; }
    const head = await backend('HEAD', `/${enc(bucket)}/${key.split('/').map(enc).join('/')}`, '', {}, undefined);
    if (head.status === 200) {
      entry.status = s3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      return;
    }
  }
  const headers = { ...req.headers };
  delete headers['if-none-match'];
  delete headers.authorization;
  headers.host = `${opt.backend.hostname}:${opt.backend.port}`;
  if (headers['x-amz-copy-source']) {  // s3rver wants the bucket with a leading slash
    const src = headers['x-amz-copy-source'];
    headers['x-amz-copy-source'] = src.startsWith('/') ? src : '/' + src;
  }
  if (rule && rule.action === 'error-in-200') {  // as S3 does: the upload stays open, a retry completes it
    res.writeHead(200, { 'Content-Type': 'application/xml' });
    res.end('<?xml version="1.0" encoding="UTF-8"?>\n\n<Error><Code>InternalError</Code><Message>injected</Message></Error>');
    entry.status = 200;
    return;
  }
  const answer = await backend(req.method, rawPath, rawQuery, headers, body);
  if (req.method === 'POST' && params.has('uploads') && answer.status === 200) {
    const id = /<UploadId>([^<]+)<\/UploadId>/.exec(answer.body.toString());
    if (id) uploads.set(id[1], { key, state: 'open' });
  }
  if (req.method === 'POST' && uploadId !== null && answer.status === 200 && uploads.has(uploadId)) {
    uploads.get(uploadId).state = 'completed';
  }
  const out = { ...answer.headers };
  delete out['transfer-encoding'];
  delete out.connection;
  if (req.method !== 'HEAD') out['content-length'] = String(answer.body.length);
  res.writeHead(answer.status, out);
  res.end(req.method === 'HEAD' ? undefined : answer.body);
  entry.status = answer.status;
}

function control(req, res, path, body) {
  const json = (v) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(v)); };
  if (path === '/__rivet/faults' && req.method === 'POST') {
    rules = rules.concat(JSON.parse(body.toString() || '[]').map((r) => ({ count: 1, ...r })));
    return json({ rules: rules.length });
  }
  if (path === '/__rivet/uploads') {
    return json({ open: [...uploads].filter(([, u]) => u.state === 'open').map(([id, u]) => ({ key: u.key, uploadId: id })) });
  }
  if (path === '/__rivet/requests') return json(log);
  if (path === '/__rivet/conditional' && req.method === 'POST') {
    conditional = body.toString() === 'on';
    return json({ conditional });
  }
  if (path === '/__rivet/reset' && req.method === 'POST') {
    rules = []; log = []; conditional = opt.conditional;
    return json({ ok: true });
  }
  res.writeHead(404); res.end();
}

const server = http.createServer((req, res) => {
  const chunks = [];
  const [rawPath, rawQuery = ''] = req.url.split('?');
  const key = decodeURIComponent(rawPath.split('/').slice(2).join('/'));
  const cut = rawPath.startsWith('/__rivet/') ? null : matchingRule(req, key, rawQuery, true);
  const half = (Number(req.headers['content-length']) || 0) / 2;
  let received = 0;
  req.on('data', (c) => {
    chunks.push(c);
    received += c.length;
    if (cut && received >= half && !req.socket.destroyed) {
      log.push({ method: req.method, key, query: [...new URLSearchParams(rawQuery).keys()].join('&'), status: -2 });
      req.socket.destroy();
    }
  });
  req.on('end', () => {
    if (req.socket.destroyed) return;
    handle(req, res, Buffer.concat(chunks)).catch((e) => {
      if (!res.headersSent) s3Error(res, 500, 'InternalError', String(e.message || e));
      else res.destroy();
    });
  });
});
server.listen(opt.port, '127.0.0.1', () => console.log(`s3-proxy listening on ${server.address().port}`));
setTimeout(() => process.exit(0), opt.lifetime * 1000).unref();
process.on('SIGTERM', () => process.exit(0));
