package bridge

import (
	"strings"
	"testing"
)

func TestMetaTagEscapes(t *testing.T) { // V-MT-8
	var s strings.Builder
	writeMetaTag(&s, "baggage", `"&<>'`)
	if got, want := s.String(), `<meta name="baggage" content="&#34;&amp;&lt;&gt;&#39;">`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestServerTimingQuotes(t *testing.T) { // API-11
	if got, want := quote(`a"b\c`), `"a\"b\\c"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
