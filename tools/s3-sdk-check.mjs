// Proves the S3 test server (tools/s3-proxy.mjs in front of s3rver) against the official AWS
// client: with the right secret every call Rivet makes passes (PutObject, HeadObject, a ranged
// GetObject, a multipart upload, conditional writes, CopyObject, DeleteObject); with a wrong
// secret, an unknown key, a wrong region or a wrong session token the client gets the error AWS
// gives. Prints one JSON object {case: "ok" | error name}; the C++ test asserts on it.
//
// Usage: node s3-sdk-check.mjs ENDPOINT BUCKET REGION ACCESS SECRET PREFIX
//          [SESSION_ACCESS SESSION_SECRET SESSION_TOKEN]
import {
  S3Client, PutObjectCommand, HeadObjectCommand, GetObjectCommand, DeleteObjectCommand,
  CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand,
  CopyObjectCommand, ListObjectsV2Command,
} from '@aws-sdk/client-s3';

const [endpoint, bucket, region, access, secret, prefix, sAccess, sSecret, sToken] =
  process.argv.slice(2);

function client(credentials, clientRegion = region) {
  return new S3Client({
    endpoint, region: clientRegion, forcePathStyle: true, credentials, maxAttempts: 1,
  });
}

const results = {};
async function check(name, fn) {
  try {
    await fn();
    results[name] = 'ok';
  } catch (e) {
    results[name] = e.name || String(e);
  }
}

const good = client({ accessKeyId: access, secretAccessKey: secret });
const key = `${prefix}sdk/object.txt`;
const body = Buffer.from('rivet sdk check\n');

await check('put', () => good.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));
await check('head', () => good.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
await check('ranged_get', async () => {
  const r = await good.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=6-8' }));
  const text = await r.Body.transformToString();
  if (text !== 'sdk') throw new Error(`ranged GET gave '${text}'`);
});
await check('put_if_none_match_existing', () => good.send(
  new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' })));
await check('multipart', async () => {
  const mkey = `${prefix}sdk/multipart.bin`;
  const { UploadId } = await good.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: mkey }));
  const part1 = Buffer.alloc(5 * 1024 * 1024, 'a');
  const part2 = Buffer.from('tail');
  const p1 = await good.send(new UploadPartCommand({ Bucket: bucket, Key: mkey, UploadId, PartNumber: 1, Body: part1 }));
  const p2 = await good.send(new UploadPartCommand({ Bucket: bucket, Key: mkey, UploadId, PartNumber: 2, Body: part2 }));
  await good.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: mkey, UploadId, IfNoneMatch: '*',
    MultipartUpload: { Parts: [{ ETag: p1.ETag, PartNumber: 1 }, { ETag: p2.ETag, PartNumber: 2 }] },
  }));
  const h = await good.send(new HeadObjectCommand({ Bucket: bucket, Key: mkey }));
  if (h.ContentLength !== part1.length + part2.length) throw new Error(`size ${h.ContentLength}`);
});
await check('copy', () => good.send(new CopyObjectCommand({
  Bucket: bucket, Key: `${prefix}sdk/copy.txt`, CopySource: `${bucket}/${key}` })));
await check('list', async () => {
  const r = await good.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}sdk/` }));
  if ((r.Contents || []).length !== 3) throw new Error(`listed ${(r.Contents || []).length}`);
});
for (const k of ['object.txt', 'multipart.bin', 'copy.txt']) {
  await check(`delete_${k}`, () => good.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}sdk/${k}` })));
}

const refused = (credentials, clientRegion) => () => client(credentials, clientRegion).send(
  new PutObjectCommand({ Bucket: bucket, Key: `${prefix}sdk/refused.txt`, Body: body }));
await check('wrong_secret', refused({ accessKeyId: access, secretAccessKey: `${secret}x` }));
await check('unknown_key', refused({ accessKeyId: 'AKIAUNKNOWN', secretAccessKey: secret }));
await check('wrong_region', refused({ accessKeyId: access, secretAccessKey: secret }, 'eu-west-3'));
if (sAccess) {
  await check('session', refused({ accessKeyId: sAccess, secretAccessKey: sSecret, sessionToken: sToken }));
  await check('wrong_session_token', refused({ accessKeyId: sAccess, secretAccessKey: sSecret, sessionToken: `${sToken}x` }));
  await check('delete_session_object', () => good.send(
    new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}sdk/refused.txt` })));
}
console.log(JSON.stringify(results));
