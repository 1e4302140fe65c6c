// A local stand-in for the AWS credential endpoints, for tests/integration/aws_credentials_test:
//   POST /sts/            STS AssumeRoleWithWebIdentity (form body, or a GET query): checks the
//                         action, the role ARN and the web identity token against the settings
//   GET  /ecs/creds       the container endpoint: checks Authorization against the settings
//   PUT  /imds/latest/api/token and GET /imds/latest/meta-data/iam/security-credentials/[role]
//                         IMDSv2: the GETs need a token the PUT gave, else 401
//   GET  /control/set?... settings: sts_token, sts_role, sts_expires (seconds from now),
//                         sts_fail (how many of the next STS calls answer Throttling),
//                         ecs_auth, ecs_expires, imds_expires, imds_code
//   GET  /control/counts  the requests each endpoint got, as JSON; /control/reset zeroes them
//   GET  /quit            stops the server
// Credentials it gives carry their source and a serial number: ASIASTS1, sts-secret-1, ...
// Listens on 127.0.0.1, prints its port, exits on /quit or after 120 s.
import http from 'node:http';

const defaults = {
  sts_token: 'web-identity-token-1',
  sts_role: 'arn:aws:iam::123456789012:role/rivet-exporter',
  sts_expires: '3600',
  sts_fail: '0',
  ecs_auth: 'ecs-authorization-token',
  ecs_expires: '3600',
  imds_expires: '3600',
  imds_code: 'Success',
};
let settings = { ...defaults };
let counts = {};
let serial = 0;
const imdsTokens = new Set();

function count(name) {
  counts[name] = (counts[name] || 0) + 1;
}

function expiration(seconds) {
  return new Date(Date.now() + Number(seconds) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

function credentials(prefix, seconds) {
  serial += 1;
  return {
    AccessKeyId: `ASIA${prefix.toUpperCase()}${serial}`,
    SecretAccessKey: `${prefix}-secret-${serial}`,
    Token: `${prefix}-session-${serial}`,
    Expiration: expiration(seconds),
  };
}

function xmlEscape(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function stsError(res, status, code, message) {
  res.writeHead(status, { 'Content-Type': 'text/xml' });
  res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>` +
          `<Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message>` +
          `</Error><RequestId>fake-request</RequestId></ErrorResponse>`);
}

function sts(req, res, body, query) {
  count('sts');
  const form = req.method === 'POST' ? new URLSearchParams(body.toString()) : query;
  counts.last_session = form.get('RoleSessionName') || '';
  if (Number(settings.sts_fail) > 0) {
    settings.sts_fail = String(Number(settings.sts_fail) - 1);
    return stsError(res, 400, 'Throttling', 'Rate exceeded');
  }
  if (form.get('Action') !== 'AssumeRoleWithWebIdentity' || form.get('Version') !== '2011-06-15') {
    return stsError(res, 400, 'InvalidAction', 'Could not find operation');
  }
  if (form.get('RoleArn') !== settings.sts_role) {
    return stsError(res, 403, 'AccessDenied',
                    'Not authorized to perform sts:AssumeRoleWithWebIdentity');
  }
  if (form.get('WebIdentityToken') !== settings.sts_token) {
    // Like a careless service, it quotes what it was sent: the client must hide it.
    return stsError(res, 400, 'InvalidIdentityToken',
                    `Couldn't verify the token ${form.get('WebIdentityToken')}`);
  }
  const c = credentials('sts', settings.sts_expires);
  res.writeHead(200, { 'Content-Type': 'text/xml' });
  res.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:etl:rivet</SubjectFromWebIdentityToken>
    <Credentials>
      <AccessKeyId>${c.AccessKeyId}</AccessKeyId>
      <SecretAccessKey>${c.SecretAccessKey}</SecretAccessKey>
      <SessionToken>${c.Token}</SessionToken>
      <Expiration>${c.Expiration}</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`);
}

function json(res, status, value) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

function ecs(req, res) {
  count('ecs');
  if (req.headers.authorization !== settings.ecs_auth) {
    return json(res, 401, { code: 'AccessDenied', message: 'bad authorization' });
  }
  json(res, 200, credentials('ecs', settings.ecs_expires));
}

function imds(req, res, path) {
  if (path === '/imds/latest/api/token') {
    count('imds_token');
    if (req.method !== 'PUT' || !req.headers['x-aws-ec2-metadata-token-ttl-seconds']) {
      res.writeHead(400);
      return res.end();
    }
    const token = `imds-token-${imdsTokens.size + 1}`;
    imdsTokens.add(token);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    return res.end(token);
  }
  const base = '/imds/latest/meta-data/iam/security-credentials/';
  if (!path.startsWith(base)) {
    res.writeHead(404);
    return res.end();
  }
  if (!imdsTokens.has(req.headers['x-aws-ec2-metadata-token'])) {
    count('imds_refused');
    res.writeHead(401);
    return res.end();
  }
  const role = path.slice(base.length);
  if (role === '') {
    count('imds_role');
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    return res.end('rivet-instance-role\n');
  }
  count('imds_credentials');
  if (role !== 'rivet-instance-role') {
    res.writeHead(404);
    return res.end();
  }
  json(res, 200, {
    Code: settings.imds_code,
    LastUpdated: expiration(0),
    Type: 'AWS-HMAC',
    ...credentials('imds', settings.imds_expires),
  });
}

const sockets = new Set();
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const path = url.pathname;
    if (path === '/sts/' || path === '/sts') return sts(req, res, Buffer.concat(chunks), url.searchParams);
    if (path === '/ecs/creds') return ecs(req, res);
    if (path.startsWith('/imds/')) return imds(req, res, path);
    if (path === '/control/set') {
      for (const [k, v] of url.searchParams) settings[k] = v;
      return json(res, 200, settings);
    }
    if (path === '/control/counts') return json(res, 200, counts);
    if (path === '/control/reset') {
      settings = { ...defaults };
      counts = {};
      serial = 0;
      imdsTokens.clear();
      return json(res, 200, {});
    }
    if (path === '/quit') {
      res.end('bye');
      server.close();
      for (const s of sockets) s.destroy();
      return;
    }
    res.writeHead(404);
    res.end();
  });
});
server.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
setTimeout(() => process.exit(0), 120000).unref();
server.on('close', () => process.exit(0));
