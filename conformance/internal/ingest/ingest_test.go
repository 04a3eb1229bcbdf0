package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A transaction with a sized item, then an attachment-like item without
// length, as sentry-go and the other SDKs write them.
const handWritten = `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2024-01-01T00:00:00Z","trace":{"trace_id":"d4cda95b652f4a1592b449d5929fda1b","public_key":"pk","sample_rate":0.5,"sampled":true,"sample_rand":"0.25"}}
{"type":"transaction","length":LEN}
PAYLOAD
{"type":"client_report"}
{"discarded_events":[]}
`

const txPayload = `{"type":"transaction","transaction":"GET /hop","contexts":{"trace":{"trace_id":"d4cda95b652f4a1592b449d5929fda1b","span_id":"1111111111111111","parent_span_id":"6e0c63257de34c92","op":"http.server"}},"spans":[{"trace_id":"d4cda95b652f4a1592b449d5929fda1b","span_id":"2222222222222222","parent_span_id":"1111111111111111","op":"http.client","description":"GET http://127.0.0.1/hop"}]}`

func envelopeText() string {
	s := strings.Replace(handWritten, "LEN", strconv.Itoa(len(txPayload)), 1)
	return strings.Replace(s, "PAYLOAD", txPayload, 1)
}

func TestParse(t *testing.T) {
	env, err := Parse([]byte(envelopeText()))
	if err != nil {
		t.Fatal(err)
	}
	if env.EventID != "9ec79c33ec9942ab8353589fcb2e04dc" {
		t.Errorf("event id %q", env.EventID)
	}
	wantTrace := map[string]string{
		"trace_id":    "d4cda95b652f4a1592b449d5929fda1b",
		"public_key":  "pk",
		"sample_rate": "0.5",
		"sampled":     "true",
		"sample_rand": "0.25",
	}
	if !reflect.DeepEqual(env.Trace, wantTrace) {
		t.Errorf("trace %v, want %v", env.Trace, wantTrace)
	}
	if got := env.Types(); !reflect.DeepEqual(got, []string{"transaction", "client_report"}) {
		t.Errorf("types %v", got)
	}
	tx := env.Transaction()
	if tx == nil {
		t.Fatal("no transaction")
	}
	want := SpanContext{TraceID: "d4cda95b652f4a1592b449d5929fda1b", SpanID: "1111111111111111", ParentSpanID: "6e0c63257de34c92", Op: "http.server"}
	if tx.Trace != want || tx.Name != "GET /hop" {
		t.Errorf("transaction %+v", tx)
	}
	if len(tx.Spans) != 1 || tx.Spans[0].ParentSpanID != "1111111111111111" || tx.Spans[0].Op != "http.client" {
		t.Errorf("spans %+v", tx.Spans)
	}
	if string(env.Items[1].Payload) != `{"discarded_events":[]}` {
		t.Errorf("unsized payload %q", env.Items[1].Payload)
	}
}

func TestParseSizedPayloadWithNewlines(t *testing.T) {
	// A sized payload may hold newlines, and the newline after it is optional.
	p := "a\nb"
	env, err := Parse([]byte("{}\n{\"type\":\"attachment\",\"length\":3}\n" + p + "{\"type\":\"event\"}\n{}"))
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Types(); !reflect.DeepEqual(got, []string{"attachment", "event"}) {
		t.Fatalf("types %v", got)
	}
	if string(env.Items[0].Payload) != p || env.Trace != nil {
		t.Errorf("payload %q trace %v", env.Items[0].Payload, env.Trace)
	}
}

func TestParseSpanItems(t *testing.T) {
	// Streamed spans come in a container or one by one.
	env, err := Parse([]byte("{}\n" +
		`{"type":"span","item_count":2}` + "\n" + `{"items":[{"span_id":"3333333333333333"},{"span_id":"4444444444444444"}]}` + "\n" +
		`{"type":"span"}` + "\n" + `{"span_id":"5555555555555555","parent_span_id":"3333333333333333"}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Items) != 2 || len(env.Items[0].Spans) != 2 || len(env.Items[1].Spans) != 1 {
		t.Fatalf("items %+v", env.Items)
	}
	for _, id := range []string{"3333333333333333", "4444444444444444", "5555555555555555"} {
		if !env.HasSpan(id) {
			t.Errorf("HasSpan(%s) false", id)
		}
	}
	if env.HasSpan("6666666666666666") || env.Transaction() != nil {
		t.Errorf("envelope %+v", env)
	}
}

// TestParseSpanTimes: each shape of span gives its op, name and times.
func TestParseSpanTimes(t *testing.T) {
	env, err := Parse([]byte("{}\n" +
		`{"type":"span","item_count":1}` + "\n" +
		`{"items":[{"span_id":"3333333333333333","name":"GET 127.0.0.1","start_timestamp":1700000000.25,"end_timestamp":1700000000.5,` +
		`"attributes":{"sentry.op":{"value":"http.client","type":"string"}}}]}` + "\n" +
		`{"type":"transaction"}` + "\n" +
		`{"transaction":"/page","start_timestamp":1700000001,"timestamp":1700000002.5,"contexts":{"trace":{"span_id":"4444444444444444","op":"pageload"}},` +
		`"spans":[{"span_id":"5555555555555555","op":"http.client","description":"GET /api","start_timestamp":1700000001.5,"timestamp":1700000001.75},` +
		`{"span_id":"7777777777777777","start_timestamp":"2023-11-14T22:13:21.5Z","timestamp":"2023-11-14T23:13:21.75+01:00"}]}` + "\n" +
		`{"type":"span"}` + "\n" + `{"span_id":"6666666666666666","start_timestamp":-1,"end_timestamp":1e300}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	at := func(s float64) time.Time { return time.UnixMilli(int64(s * 1000)).UTC() }
	tx := env.Transaction()
	for _, c := range []struct {
		got, want SpanContext
	}{
		{env.Items[0].Spans[0], SpanContext{SpanID: "3333333333333333", Op: "http.client", Name: "GET 127.0.0.1",
			Start: at(1700000000.25), End: at(1700000000.5)}},
		{tx.Trace, SpanContext{SpanID: "4444444444444444", Op: "pageload", Start: at(1700000001), End: at(1700000002.5)}},
		{tx.Spans[0], SpanContext{SpanID: "5555555555555555", Op: "http.client", Description: "GET /api",
			Start: at(1700000001.5), End: at(1700000001.75)}},
		// sentry-go writes times as RFC 3339 strings.
		{tx.Spans[1], SpanContext{SpanID: "7777777777777777", Start: at(1700000001.5), End: at(1700000001.75)}},
		// Times no clock sends are unknown.
		{env.Items[2].Spans[0], SpanContext{SpanID: "6666666666666666"}},
	} {
		if c.got != c.want {
			t.Errorf("span %+v, want %+v", c.got, c.want)
		}
	}
	for name, span := range map[string]string{
		"an op that is no string":  `{"attributes":{"sentry.op":{"value":1}}}`,
		"a time that is no time":   `{"start_timestamp":"yesterday"}`,
		"a time that is an object": `{"end_timestamp":{}}`,
	} {
		if _, err := Parse([]byte("{}\n{\"type\":\"span\"}\n" + span + "\n")); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	for name, in := range map[string]string{
		"empty":             "",
		"header not json":   "nope\n",
		"header array":      "[1]\n",
		"trace not object":  `{"trace":"x"}` + "\n",
		"item not json":     "{}\nnope\n",
		"item without type": "{}\n{}\n{}\n",
		"negative length":   "{}\n{\"type\":\"event\",\"length\":-1}\n",
		"fraction length":   "{}\n{\"type\":\"event\",\"length\":1.5}\nx\n",
		"huge length":       "{}\n{\"type\":\"event\",\"length\":1e300}\nx\n",
		"short payload":     "{}\n{\"type\":\"event\",\"length\":10}\nx\n",
		"bad transaction":   "{}\n{\"type\":\"transaction\"}\n[1]\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(in)); !errors.Is(err, ErrMalformed) {
				t.Errorf("err %v, want ErrMalformed", err)
			}
		})
	}
}

func TestServer(t *testing.T) {
	in := New(t)
	if dsn := in.DSN("pk", "42"); !strings.HasPrefix(dsn, "http://pk@127.0.0.1:") || !strings.HasSuffix(dsn, "/42") {
		t.Fatalf("DSN %q", dsn)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(envelopeText()))
	_ = zw.Close()

	post := func(path string, body []byte, enc string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, in.URL()+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if enc != "" {
			req.Header.Set("Content-Encoding", enc)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := post("/api/42/envelope/", gz.Bytes(), "gzip"); c != 200 {
		t.Fatalf("gzip envelope: %d", c)
	}
	if c := post("/api/42/store/", []byte(`{"event_id":"abc","message":"hi"}`), ""); c != 200 {
		t.Fatalf("store: %d", c)
	}
	if c := post("/api/42/integration/otlp/v1/traces", []byte{0x0a, 0x00}, ""); c != 200 {
		t.Fatalf("otlp: %d", c)
	}
	if c := post("/api/42/envelope/", []byte("garbage"), ""); c != 400 {
		t.Fatalf("garbage: %d", c)
	}
	if c := post("/api/42/envelope/", []byte("x"), "br"); c != 400 {
		t.Fatalf("unknown encoding: %d", c)
	}
	if c := post("/elsewhere", nil, ""); c != 404 {
		t.Fatalf("unknown path: %d", c)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := in.WaitFor(ctx, func(e []Envelope) bool { return len(e) == 2 }); err != nil {
		t.Fatal(err)
	}
	envs := in.Envelopes()
	if envs[0].Project != "42" || envs[0].Trace["sample_rand"] != "0.25" || envs[0].Transaction() == nil {
		t.Errorf("envelope %+v", envs[0])
	}
	if envs[1].EventID != "abc" || !reflect.DeepEqual(envs[1].Types(), []string{"event"}) {
		t.Errorf("store %+v", envs[1])
	}
	if o := in.OTLP(); len(o) != 1 || o[0].Project != "42" || len(o[0].Body) != 2 {
		t.Errorf("otlp %+v", o)
	}
	if r := in.Rejected(); len(r) != 3 {
		t.Errorf("rejected %q", r)
	}
	if _, err := in.WaitForTransaction(ctx, "1111111111111111"); err != nil {
		t.Error(err)
	}
	if e, err := in.WaitForEnvelope(ctx, func(e Envelope) bool { return e.HasSpan("2222222222222222") }); err != nil || e.EventID != envs[0].EventID {
		t.Errorf("WaitForEnvelope: %+v, %v", e, err)
	}

	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := in.WaitFor(short, func(e []Envelope) bool { return len(e) > 2 }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor past deadline: %v", err)
	}
}

// TestCORS: the browser SDK posts from the page's origin; the ingest lets
// it read every answer and answers a preflight without recording anything.
func TestCORS(t *testing.T) {
	in := New(t)
	do := func(method string, header http.Header, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, in.URL()+"/api/42/envelope/?sentry_key=pk", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	pre := do(http.MethodOptions, http.Header{"Origin": {"http://127.0.0.1:1"},
		"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"}}, "")
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "*" ||
		pre.Header.Get("Access-Control-Allow-Methods") != "POST" || pre.Header.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Errorf("preflight: %d %v", pre.StatusCode, pre.Header)
	}
	post := do(http.MethodPost, http.Header{"Origin": {"http://127.0.0.1:1"}, "Content-Type": {"text/plain;charset=UTF-8"}}, envelopeText())
	if post.StatusCode != http.StatusOK || post.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(post.Header.Get("Access-Control-Expose-Headers"), "X-Sentry-Rate-Limits") {
		t.Errorf("post: %d %v", post.StatusCode, post.Header)
	}
	if plain := do(http.MethodOptions, http.Header{}, ""); plain.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("OPTIONS that is no preflight: %d", plain.StatusCode)
	}
	if n := len(in.Envelopes()); n != 1 {
		t.Errorf("%d envelopes recorded, want the one posted", n)
	}
}

// TestFaults checks each way the ingest fails an OTLP export, and that it
// accepts again once the fault is cleared, logs as well as traces.
func TestFaults(t *testing.T) {
	in := New(t)
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(path string) (*http.Response, error) {
		resp, err := client.Post(in.URL()+path, "application/x-protobuf", bytes.NewReader([]byte{0x0a, 0x00}))
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	in.SetFault(Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"})
	resp, err := post("/api/42/integration/otlp/v1/traces")
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("429: %v %v", resp, err)
	}
	in.SetFault(Fault{Delay: 200 * time.Millisecond})
	start := time.Now()
	if resp, err := post("/api/42/integration/otlp/v1/logs"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("slow: %v %v", resp, err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("answered after %v, before the delay", d)
	}
	in.SetFault(Fault{})
	if err := in.Down(); err != nil {
		t.Fatal(err)
	}
	if _, err := post("/api/42/integration/otlp/v1/traces"); err == nil {
		t.Fatal("a connection was accepted while down")
	}
	if err := in.Up(); err != nil {
		t.Fatal(err)
	}
	if resp, err := post("/api/42/integration/otlp/v1/traces"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("up again: %v %v", resp, err)
	}
	if r := in.Refused(); len(r) != 1 || r[0].Signal != "traces" {
		t.Errorf("refused %+v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := in.WaitForOTLP(ctx, func(o []OTLPRequest) bool { return len(o) == 2 }); err != nil {
		t.Fatal(err)
	}
	if o := in.OTLP(); o[0].Signal != "logs" || o[1].Signal != "traces" {
		t.Errorf("accepted %+v", o)
	}
}
