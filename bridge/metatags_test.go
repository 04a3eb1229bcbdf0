package bridge

import (
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/internal/vectors"
)

func TestMetaTagEscapes(t *testing.T) { // V-MT, the tag writer's cases
	for _, tt := range vectors.MetaTags() {
		if tt.SentryTrace != "" {
			continue // tested through the bridge in bridge_test.go
		}
		t.Run(tt.ID, func(t *testing.T) {
			var s strings.Builder
			writeMetaTag(&s, tt.Name, tt.Content)
			if got := s.String(); got != tt.Want {
				t.Errorf("got %s, want %s", got, tt.Want)
			}
		})
	}
}

func TestServerTimingQuotes(t *testing.T) { // API-11
	if got, want := quote(`a"b\c`), `"a\"b\\c"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
