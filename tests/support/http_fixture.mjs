// A local HTTP server for the HTTP client's tests: each path answers one way (success, an
// object store's throttling error, a reset connection, a stalled body). Listens on 127.0.0.1,
// prints its port, and exits on GET /quit or after 120 s, whichever comes first.
import http from 'node:http';

const connections = new Set();
let connectionCount = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    switch (req.url.split('?')[0]) {
      case '/ok':
        res.writeHead(200, { 'X-Test': ' yes ', 'Content-Type': 'text/plain' });
        res.end(req.method === 'HEAD' ? undefined : 'hello');
        return;
      case '/echo':
        res.writeHead(200, { 'X-Method': req.method, 'X-Length': String(body.length) });
        res.end(body);
        return;
      case '/slowdown':
        res.writeHead(503, { 'Content-Type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>' +
                '<Message>Please reduce your request rate.</Message></Error>');
        return;
      case '/reset':
        res.writeHead(200, { 'Content-Length': '1000000' });
        res.write('partial');
        setTimeout(() => req.socket.destroy(), 50);
        return;
      case '/stall':
        res.writeHead(200, { 'Content-Length': '1000000' });
        res.write('a few bytes, then nothing');
        return;  // never ends: the client's low-speed limit must stop it
      case '/connections':
        res.end(String(connectionCount));
        return;
      case '/quit':
        res.end('bye');
        server.close();
        for (const s of connections) s.destroy();
        return;
      default:
        res.writeHead(404);
        res.end();
    }
  });
});
server.on('connection', (socket) => {
  connectionCount += 1;
  connections.add(socket);
  socket.on('close', () => connections.delete(socket));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
setTimeout(() => process.exit(0), 120000).unref();
server.on('close', () => process.exit(0));
