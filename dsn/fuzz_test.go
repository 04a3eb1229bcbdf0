package dsn_test

import (
	"errors"
	"testing"

	"github.com/otelsentry/otelsentry/dsn"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"https://mysecret@o1234.ingest.sentry.io/12312012", "https://1234@o1.ingest.us.sentry.io/1",
		"http://pub:secret@127.0.0.1:9000/prefix/sub/42", "https://k@[::1]:9000/7", "not a dsn", "", "https://host/1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := dsn.Parse(s)
		if err != nil {
			if !errors.Is(err, dsn.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if d.PublicKey == "" || d.Host == "" || d.ProjectID == "" {
			t.Fatalf("accepted %q as %+v", s, d)
		}
		// The API URL of a valid DSN parses back to the same project.
		back, err := dsn.Parse(d.Scheme + "://" + d.PublicKey + "@" + d.APIURL()[len(d.Scheme)+3:])
		if err == nil && back.ProjectID != d.ProjectID {
			t.Fatalf("%q: project %q, back %q", s, d.ProjectID, back.ProjectID)
		}
		_ = d.OrgID()
	})
}
