// Loaded with `node --import ./instrument.mjs hop.mjs`: @sentry/node must be
// initialised before the application imports `http`, as Sentry documents for
// ESM applications.
import * as Sentry from '@sentry/node';

// SENTRY_TRACES_SAMPLE_RATE unset (or empty) means "no rate": the option is
// left out so the SDK runs tracing without performance and keeps decisions
// deferred, as the hop contract requires.
function sampleRateFromEnv() {
  const raw = process.env.SENTRY_TRACES_SAMPLE_RATE;
  if (raw === undefined || raw.trim() === '') {
    return undefined;
  }
  const rate = Number(raw);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new Error(`SENTRY_TRACES_SAMPLE_RATE must be a number in [0, 1], got ${JSON.stringify(raw)}`);
  }
  return rate;
}

const options = {
  // The DSN comes from the launcher and points at an ingest on 127.0.0.1.
  dsn: process.env.SENTRY_DSN,
  release: process.env.SENTRY_RELEASE || undefined,
  environment: process.env.SENTRY_ENVIRONMENT || undefined,
  serverName: process.env.HOP_NAME || undefined,
  // The v11 default (undefined) already propagates to every URL; it is set
  // explicitly so that headers reach next hops on any 127.0.0.1 port even if
  // that default changes.
  tracePropagationTargets: [/.*/],
  integrations: [
    // The harness' own /health and /flush calls are not part of any chain;
    // keeping them out of Sentry leaves only /hop transactions at the ingest.
    Sentry.httpIntegration({
      ignoreIncomingRequests: (urlPath) => /^\/(health|flush)(\?|$)/.test(urlPath),
    }),
  ],
};

const rate = sampleRateFromEnv();
if (rate !== undefined) {
  options.tracesSampleRate = rate;
}

Sentry.init(options);
