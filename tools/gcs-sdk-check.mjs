// Proves the GCS test server (tools/gcs-fake.mjs) against Google's official Node client
// (@google-cloud/storage, pinned in package.json): with the service-account key file a simple and
// a chunked resumable upload, a download of each, their md5Hash and crc32c, a listing by prefix,
// ifGenerationMatch: 0 on an existing name (412) and deletes all pass; a bad bearer token is
// refused with 401. The same library's authorized_user (refresh token) and GCE metadata clients
// get tokens from the fake too. Prints one JSON object {check: true | false}; exits 1 if any
// check is false. Finishes within 45 s whatever happens.
//
// How the client authenticates: GoogleAuth({keyFilename}) reads the key file as usual and builds
// its JWT client, but that client's token request (gtoken) ignores the file's token_uri: it signs
// aud = https://www.googleapis.com/oauth2/v4/token and posts there. So the check passes the JWT
// client two documented options through clientOptions: additionalClaims {aud: token_uri}, which
// the library merges over its own claims, and a transporter (the library's DefaultTransporter)
// that sends a request for that fixed token URL to token_uri instead; every other request goes
// out untouched. The fake still checks the signature, iss, aud, scope, iat and exp. The Storage
// client gets apiEndpoint = RIVET_TEST_GCS_ENDPOINT and useAuthWithCustomEndpoint: true (without
// it the client sends no Authorization to a custom endpoint). That option does not reach
// File#save's own resumable start in this version, which would go out unauthenticated: so the
// check opens the session with File#createResumableUpload (which honours it) and hands its URL to
// File#save({uri}); the chunks then go to the session URL, which is its own credential on GCS as
// on the fake (the client first asks the session's status, then sends 256 KiB chunks). The
// authorized_user client takes the fake's token_uri through its endpoints.oauth2TokenUrl option,
// the metadata client the fake's address through GCE_METADATA_HOST. google-auth-library is the
// storage client's own copy (fixed by package-lock.json): the client accepts a GoogleAuth only
// when it is an instance of that same module.
//
// Usage: node gcs-sdk-check.mjs  (reads RIVET_TEST_GCS_ENDPOINT, _BUCKET, _SA_FILE, _ADC_FILE,
//   _METADATA_HOST; RIVET_TEST_GCS_PREFIX, default "sdk-check/<pid>/", names the objects)
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Storage } from '@google-cloud/storage';
import { GoogleAuth, DefaultTransporter, OAuth2Client, UserRefreshClient, Compute } from 'google-auth-library';

const env = (k) => {
  const v = process.env[`RIVET_TEST_GCS_${k}`];
  if (!v) { console.error(`RIVET_TEST_GCS_${k} is not set`); process.exit(2); }
  return v;
};
const endpoint = env('ENDPOINT');
const bucketName = env('BUCKET');
const saFile = env('SA_FILE');
const prefix = process.env.RIVET_TEST_GCS_PREFIX || `sdk-check/${process.pid}/`;
// The client would otherwise probe the metadata server's real address for a project id.
process.env.METADATA_SERVER_DETECTION = 'none';

const results = {};
const done = (code) => { console.log(JSON.stringify(results)); process.exit(code); };
setTimeout(() => { results.finished_in_time = false; done(1); }, 45000).unref();
async function check(name, fn) {
  try {
    results[name] = (await fn()) !== false;
  } catch (e) {
    results[name] = false;
    console.error(`${name}: ${e.code || ''} ${e.message}`);
  }
}

const GOOGLE_TOKEN_URL = 'https://www.googleapis.com/oauth2/v4/token';
const tokenUri = JSON.parse(fs.readFileSync(saFile, 'utf8')).token_uri;
class ToFakeTokenUri extends DefaultTransporter {
  request(opts, callback) {
    const url = String(opts.url) === GOOGLE_TOKEN_URL ? tokenUri : opts.url;
    return super.request({ ...opts, url }, callback);
  }
}
const retryOptions = { autoRetry: false, maxRetries: 0 };
const auth = new GoogleAuth({
  keyFilename: saFile,
  scopes: ['https://www.googleapis.com/auth/devstorage.read_write'],
  clientOptions: { additionalClaims: { aud: tokenUri }, transporter: new ToFakeTokenUri() },
});
const storage = new Storage({ authClient: auth, apiEndpoint: endpoint, useAuthWithCustomEndpoint: true, retryOptions });
const bucket = storage.bucket(bucketName);

// Deterministic bytes: the same check twice sends the same objects.
const bytes = (n, seed) => {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = x >>> 24; }
  return out;
};
const md5 = (b) => crypto.createHash('md5').update(b).digest('base64');
function crc32c(b) {  // bit by bit: independent of the fake's table code
  let c = 0xffffffff;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

const small = bytes(70000, 1);
const large = bytes(3 * 1024 * 1024 + 12345, 2);  // 13 chunks of 256 KiB: several requests
const simple = bucket.file(`${prefix}simple.bin`);
const resumable = bucket.file(`${prefix}resumable.bin`);

await check('simple_upload', () => simple.save(small, { resumable: false, contentType: 'application/octet-stream' }));
await check('resumable_upload', async () => {
  const [uri] = await resumable.createResumableUpload();
  await resumable.save(large, { resumable: true, uri, chunkSize: 256 * 1024 });
});
await check('simple_download', async () => (await simple.download())[0].equals(small));
await check('resumable_download', async () => (await resumable.download())[0].equals(large));
await check('ranged_download', async () => (await resumable.download({ start: 1000, end: 1999 }))[0]
  .equals(large.subarray(1000, 2000)));
for (const [name, file, data] of [['simple', simple, small], ['resumable', resumable, large]]) {
  await check(`${name}_metadata`, async () => {
    const [m] = await file.getMetadata();
    return m.md5Hash === md5(data) && m.crc32c === crc32c(data) && Number(m.size) === data.length;
  });
}
await check('list_prefix', async () => {
  const [files] = await bucket.getFiles({ prefix });
  return files.map((f) => f.name).sort().join(',') === [resumable.name, simple.name].sort().join(',');
});
await check('list_paged', async () => {
  const [first, next] = await bucket.getFiles({ prefix, maxResults: 1, autoPaginate: false });
  const [second, after] = await bucket.getFiles({ ...next, autoPaginate: false });
  return first.length === 1 && second.length === 1 && !after &&
    [first[0].name, second[0].name].join(',') === [resumable.name, simple.name].sort().join(',');
});
await check('if_generation_match_0_refused', async () => {
  try {
    await simple.save(small, { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    return false;
  } catch (e) {
    return e.code === 412;
  }
});
await check('delete', async () => {
  await simple.delete();
  await resumable.delete();
  const [left] = await bucket.getFiles({ prefix });
  return left.length === 0;
});

await check('bad_token_refused', async () => {
  const bad = new OAuth2Client();
  bad.setCredentials({ access_token: 'rivet-not-a-token', expiry_date: Date.now() + 3600 * 1000 });
  const other = new Storage({ authClient: bad, apiEndpoint: endpoint, useAuthWithCustomEndpoint: true, retryOptions });
  try {
    await other.bucket(bucketName).file(`${prefix}refused.bin`).getMetadata();
    return false;
  } catch (e) {
    return e.code === 401;
  }
});
await check('authorized_user_token', async () => {
  const user = JSON.parse(fs.readFileSync(env('ADC_FILE'), 'utf8'));
  const client = new UserRefreshClient({ clientId: user.client_id, clientSecret: user.client_secret,
    refreshToken: user.refresh_token, endpoints: { oauth2TokenUrl: user.token_uri } });
  const { token } = await client.getAccessToken();
  const other = new Storage({ authClient: client, apiEndpoint: endpoint, useAuthWithCustomEndpoint: true, retryOptions });
  const [m] = await other.bucket(bucketName).getMetadata();
  return Boolean(token) && m.name === bucketName;
});
await check('metadata_token', async () => {
  process.env.GCE_METADATA_HOST = env('METADATA_HOST');
  const { token } = await new Compute().getAccessToken();
  return Boolean(token);
});
done(Object.values(results).every(Boolean) ? 0 : 1);
