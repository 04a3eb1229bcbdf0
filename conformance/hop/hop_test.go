package hop

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCapture(t *testing.T) {
	h := http.Header{}
	h.Add("Sentry-Trace", "a")
	h.Add("baggage", "x=1")
	h.Add("Baggage", "y=2")
	h.Add("Other", "z")
	want := map[string]string{"sentry-trace": "a", "baggage": "x=1,y=2"}
	if got := Capture(h); !reflect.DeepEqual(got, want) {
		t.Errorf("Capture = %v, want %v", got, want)
	}
	if got := Capture(nil); got == nil || len(got) != 0 {
		t.Errorf("Capture(nil) = %#v", got)
	}
}

func TestChain(t *testing.T) {
	got := Chain("http://a:1", "http://b:2/", "http://c:3")
	u, err := url.Parse(got)
	if err != nil || u.Host != "a:1" || u.Path != "/hop" {
		t.Fatalf("Chain = %q", got)
	}
	second := u.Query().Get("next")
	u2, err := url.Parse(second)
	if err != nil || u2.Host != "b:2" || u2.Query().Get("next") != "http://c:3/hop" {
		t.Fatalf("second hop %q", second)
	}
	if Chain() != "" || Chain("http://a") != "http://a/hop" {
		t.Error("Chain of zero or one hop")
	}
}

// fakeSDK writes a header below the instrumentation point, as an SDK's
// RoundTripper does, so the test sees what CaptureTransport reports.
type fakeSDK struct{ base http.RoundTripper }

func (f fakeSDK) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(HeaderSentryTrace, "from-"+r.Context().Value(nameKey{}).(string))
	return f.base.RoundTrip(r)
}

type nameKey struct{}

func startPeer(t *testing.T, name string, flushOK bool) *httptest.Server {
	t.Helper()
	h := NewHandler(Peer{
		Name:   name,
		Client: &http.Client{Transport: fakeSDK{&CaptureTransport{}}},
		Instrument: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), nameKey{}, name)))
			})
		},
		Current: func(ctx context.Context) Span {
			return Span{TraceID: "t", SpanID: ctx.Value(nameKey{}).(string), Sampled: true}
		},
		Flush: func(time.Duration) bool { return flushOK },
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestHandler(t *testing.T) {
	a := startPeer(t, "a", true)
	b := startPeer(t, "b", false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	in := http.Header{}
	in.Set("baggage", "k=v")
	rep, err := Fetch(ctx, http.DefaultClient, Chain(a.URL, b.URL), in)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Service != "a" || rep.SpanID != "a" || !rep.Sampled || rep.Received["baggage"] != "k=v" {
		t.Errorf("report %+v", rep)
	}
	if !reflect.DeepEqual(rep.Sent, map[string]string{"sentry-trace": "from-a"}) {
		t.Errorf("sent %v", rep.Sent)
	}
	if rep.Next == nil || rep.Next.Service != "b" || rep.Next.Received["sentry-trace"] != "from-a" || rep.Next.Sent != nil || rep.Next.Next != nil {
		t.Errorf("next %+v", rep.Next)
	}

	for _, c := range []struct {
		srv    *httptest.Server
		method string
		path   string
		code   int
	}{
		{a, "GET", "/health", 200},
		{a, "POST", "/flush", 200},
		{b, "POST", "/flush", 503},
		{a, "POST", "/hop", 405},
	} {
		req, _ := http.NewRequestWithContext(ctx, c.method, c.srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.code)
		}
	}
}

func TestHandlerNextFails(t *testing.T) {
	a := startPeer(t, "a", true)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, next := range map[string]string{
		"relative":    "/hop",
		"bad scheme":  "ftp://127.0.0.1/hop",
		"unreachable": deadURL + "/hop",
		"not a hop":   a.URL + "/health",
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := Fetch(ctx, http.DefaultClient, a.URL+"/hop?next="+url.QueryEscape(next), nil)
			if rep == nil || err == nil || !strings.Contains(rep.Error, "next:") || rep.Next != nil {
				t.Fatalf("report %+v, err %v", rep, err)
			}
			if rep.Service != "a" || rep.SpanID != "a" {
				t.Errorf("report %+v", rep)
			}
		})
	}
}
