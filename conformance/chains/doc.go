// Package chains holds the conformance tests that chain otelsentry with the
// real Sentry SDKs (sentry-go and @sentry/node) on 127.0.0.1, with a fake
// Sentry ingest capturing what each of them sends.
package chains
