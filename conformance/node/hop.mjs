// Hop service for the conformance chains (see the hop contract in ../README.md). Start it with
//   node --import ./instrument.mjs hop.mjs
// so that @sentry/node is initialised before `http` is loaded here.
import * as Sentry from '@sentry/node';
// The default export is the module object that the SDK instruments; calling
// http.get through it goes through Sentry's client instrumentation.
import http from 'node:http';

const HOST = '127.0.0.1';
const NEXT_TIMEOUT_MS = 10_000;
const FLUSH_TIMEOUT_MS = 5_000;
const MAX_NEXT_BODY = 4 << 20;
const TRACE_HEADERS = ['sentry-trace', 'baggage', 'traceparent', 'tracestate'];

const service = process.env.HOP_NAME || 'node';

// Every value of each trace header joined with ",", absent headers left out.
function receivedHeaders(req) {
  const out = {};
  for (const name of TRACE_HEADERS) {
    const values = req.headersDistinct[name];
    if (values && values.length > 0) {
      out[name] = values.join(',');
    }
  }
  return out;
}

// Read back from the outgoing request once its headers were flushed: Node
// refuses setHeader after that point, so these are the values on the wire.
// When the call fails before connecting they are the values it would have
// written.
function sentHeaders(clientReq) {
  const out = {};
  for (const name of TRACE_HEADERS) {
    const value = clientReq.getHeader(name);
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}

function spanReport() {
  const span = Sentry.getActiveSpan();
  if (!span) {
    // Without a traces sample rate the SDK creates no server span; the
    // request's scope then carries the continued trace, and its
    // propagationSpanId is the span id the SDK writes on outgoing requests.
    const pc = Sentry.getCurrentScope().getPropagationContext();
    return {
      trace_id: pc.traceId || '',
      span_id: pc.propagationSpanId || '',
      parent_span_id: pc.parentSpanId || '',
      // Nothing is recorded or sent to Sentry in this mode.
      sampled: false,
    };
  }
  const ctx = span.spanContext();
  const json = Sentry.spanToJSON(span);
  return {
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    parent_span_id: json.parent_span_id || '',
    // Bit 0 of the W3C trace flags is the sampled flag the SDK keeps on the
    // span; it is set only for spans that are recorded and sent.
    sampled: (ctx.traceFlags & 1) === 1,
  };
}

// One GET to next through the instrumented client. Resolves with the headers
// that were written and the parsed JSON answer, or with an error message.
function callNext(next) {
  return new Promise((resolve) => {
    let clientReq;
    let settled = false;
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ sent: clientReq ? sentHeaders(clientReq) : {}, ...result });
    };
    const timer = setTimeout(() => {
      finish({ error: `call to next timed out after ${NEXT_TIMEOUT_MS} ms` });
      clientReq?.destroy();
    }, NEXT_TIMEOUT_MS);
    try {
      clientReq = http.get(next, (res) => {
        const chunks = [];
        let size = 0;
        res.on('data', (chunk) => {
          size += chunk.length;
          if (size > MAX_NEXT_BODY) {
            finish({ error: 'answer from next is too large' });
            res.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let parsed;
          try {
            parsed = JSON.parse(body);
          } catch (e) {
            finish({ error: `next answered ${res.statusCode} with a body that is not JSON: ${e.message}` });
            return;
          }
          if (res.statusCode !== 200) {
            finish({ next: parsed, error: `next answered ${res.statusCode}` });
            return;
          }
          finish({ next: parsed });
        });
        res.on('error', (e) => finish({ error: `reading answer from next: ${e.message}` }));
      });
      clientReq.on('error', (e) => finish({ error: `call to next: ${e.message}` }));
    } catch (e) {
      finish({ error: `call to next: ${e.message}` });
    }
  });
}

function sendJSON(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function handleHop(req, res, url) {
  // Sentry's server instrumentation has already continued the incoming trace
  // and made its server span the active one for this handler.
  const report = { service, received: receivedHeaders(req), ...spanReport() };
  const next = url.searchParams.get('next');
  if (next) {
    let target;
    try {
      target = new URL(next);
    } catch {
      report.error = `next is not an absolute URL: ${next}`;
    }
    if (target) {
      const result = await callNext(target.href);
      report.sent = result.sent;
      if (result.next !== undefined) report.next = result.next;
      if (result.error) report.error = result.error;
    }
  }
  sendJSON(res, 200, report);
}

const server = http.createServer((req, res) => {
  let url;
  try {
    url = new URL(req.url, `http://${HOST}`);
  } catch {
    sendJSON(res, 400, { error: 'bad request target' });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/health') {
    sendJSON(res, 200, { service, status: 'ok' });
  } else if (req.method === 'POST' && url.pathname === '/flush') {
    req.resume();
    Sentry.flush(FLUSH_TIMEOUT_MS).then(
      (ok) => sendJSON(res, ok ? 200 : 500, ok ? { flushed: true } : { flushed: false, error: 'flush timed out' }),
      (e) => sendJSON(res, 500, { flushed: false, error: String(e) }),
    );
  } else if (req.method === 'GET' && url.pathname === '/hop') {
    handleHop(req, res, url).catch((e) => {
      if (!res.headersSent) sendJSON(res, 500, { service, error: String(e?.stack || e) });
    });
  } else {
    sendJSON(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
  }
});

const port = Number(process.env.PORT || '0');
server.listen(port, HOST, () => {
  const { port: bound } = server.address();
  process.stdout.write(`listening http://${HOST}:${bound}\n`);
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  // Bounded: whatever happens, the process is gone well within the
  // launcher's grace period.
  setTimeout(() => process.exit(0), 3_000).unref();
  server.close();
  server.closeAllConnections();
  Sentry.close(2_000).finally(() => {
    process.stderr.write(`${service}: stopped on ${signal}\n`);
    process.exit(0);
  });
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
