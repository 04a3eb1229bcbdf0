package protocol

import "go.opentelemetry.io/otel/attribute"

// Transaction sources, Sentry's names for where a transaction name comes
// from.
const (
	SourceCustom = "custom"
	SourceURL    = "url"
	SourceRoute  = "route"
	SourceTask   = "task"
)

// maxTransactionChars is the length, in characters, at which Sentry's
// ingest cuts a transaction name; a longer one is cut here the same way
// before it enters a DSC.
const maxTransactionChars = 200

// TransactionSource returns the Sentry transaction source of a local root
// span with attrs, first match: an explicit sentry.source; an HTTP span is
// "route" with http.route, else "url"; a database span is "task"; RPC,
// messaging and FaaS spans are "route"; anything else "custom". A name
// whose source is "url" is not of good quality and never enters a DSC.
func TransactionSource(attrs []attribute.KeyValue) string {
	var http, route, db, rpc bool
	for _, kv := range attrs {
		switch kv.Key {
		case "sentry.source":
			if s := kv.Value.AsString(); s != "" {
				return s
			}
		case "http.request.method", "http.method":
			http = true
		case "http.route":
			route = kv.Value.AsString() != ""
		case "db.system", "db.system.name":
			db = true
		case "rpc.system", "messaging.system", "faas.trigger":
			rpc = true
		}
	}
	switch {
	case http && route:
		return SourceRoute
	case http:
		return SourceURL
	case db:
		return SourceTask
	case rpc:
		return SourceRoute
	}
	return SourceCustom
}

// CutTransaction returns name cut to the length Sentry keeps of a
// transaction name, and whether it was cut.
func CutTransaction(name string) (string, bool) {
	chars := 0
	for i := range name {
		if chars == maxTransactionChars {
			return name[:i], true
		}
		chars++
	}
	return name, false
}
