package dsn_test

import (
	"errors"
	"testing"

	"github.com/otelsentry/otelsentry/dsn"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in          string
		publicKey   string
		host, org   string
		project     string
		apiURL      string
		wantInvalid bool
	}{
		{in: "https://mysecret@o1234.ingest.sentry.io/12312012", publicKey: "mysecret", host: "o1234.ingest.sentry.io", org: "1234", project: "12312012",
			apiURL: "https://o1234.ingest.sentry.io/api/12312012"},
		{in: "https://1234@o1.ingest.us.sentry.io/1", publicKey: "1234", host: "o1.ingest.us.sentry.io", org: "1", project: "1", apiURL: "https://o1.ingest.us.sentry.io/api/1"}, // V-OR-22
		{in: "https://k@sentry.example.com/1", publicKey: "k", host: "sentry.example.com", project: "1", apiURL: "https://sentry.example.com/api/1"},                             // V-OR-24
		{in: "https://k@o12x.ingest.sentry.io/1", publicKey: "k", host: "o12x.ingest.sentry.io", project: "1", apiURL: "https://o12x.ingest.sentry.io/api/1"},                    // V-OR-24
		{in: "http://pub:secret@127.0.0.1:9000/prefix/sub/42", publicKey: "pub", host: "127.0.0.1", project: "42", apiURL: "http://127.0.0.1:9000/prefix/sub/api/42"},
		{in: "https://abc@domain/123", publicKey: "abc", host: "domain", project: "123", apiURL: "https://domain/api/123"},
		{in: "", wantInvalid: true},
		{in: "not a dsn", wantInvalid: true},
		{in: "ftp://k@host/1", wantInvalid: true},
		{in: "https://host/1", wantInvalid: true},
		{in: "https://@host/1", wantInvalid: true},
		{in: "https://k@/1", wantInvalid: true},
		{in: "https://k@host/", wantInvalid: true},
		{in: "https://k@host/abc", wantInvalid: true},
		{in: "https://k@host\r\n/1", wantInvalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := dsn.Parse(tt.in)
			if tt.wantInvalid {
				if !errors.Is(err, dsn.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.PublicKey != tt.publicKey || d.Host != tt.host || d.OrgID() != tt.org || d.ProjectID != tt.project || d.APIURL() != tt.apiURL {
				t.Errorf("got %+v org %q api %q", d, d.OrgID(), d.APIURL())
			}
		})
	}
}
