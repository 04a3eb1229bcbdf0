package propagator_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"runtime"
	"testing"

	"go.opentelemetry.io/otel/propagation"

	"github.com/otelsentry/otelsentry/propagator"
)

// TestHeapFlat runs Extract and Inject on realistic headers of a new trace
// every cycle and checks that the live heap does not grow with traffic:
// the propagator's only state that follows traces is a cache of
// head-of-trace DSCs of a fixed number of slots, and the DSC of a
// continued trace lives in the request's context. The live heap after
// warmup and after the last cycle may differ by less than 1 MiB.
func TestHeapFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a million cycles")
	}
	warmup, cycles := 100_000, 1_000_000
	if raceEnabled {
		warmup, cycles = 5_000, 50_000 // the race detector slows each cycle about 30 times
	}
	p := propagator.New(
		propagator.WithDSN("https://"+K+"@o1.ingest.sentry.io/123"),
		propagator.WithRelease("1.4.2"),
	)
	ctx := context.Background()
	in := propagation.HeaderCarrier(http.Header{})
	out := propagation.HeaderCarrier(http.Header{})
	var tid [16]byte
	var hexID [32]byte
	cycle := func(i int) {
		// A new trace id every cycle, as every request brings.
		binary.BigEndian.PutUint64(tid[:8], uint64(i)+1)
		binary.BigEndian.PutUint64(tid[8:], uint64(i)*0x9e3779b97f4a7c15)
		hex.Encode(hexID[:], tid[:])
		id := string(hexID[:])
		in["Sentry-Trace"] = []string{id + "-" + S + "-1"}
		in["Baggage"] = []string{"sentry-trace_id=" + id + ",sentry-public_key=" + K +
			",sentry-sample_rate=0.25,sentry-sampled=true,sentry-release=1.4.2,sentry-environment=production," +
			"sentry-transaction=GET%20%2Fusers,othervendor=t61rcWkgMzE"}
		clear(out)
		p.Inject(p.Extract(ctx, in), out)
		if len(out["Sentry-Trace"]) != 1 || out["Sentry-Trace"][0][:32] != id {
			t.Fatalf("cycle %d: injected %q for trace %s", i, out["Sentry-Trace"], id)
		}
	}
	liveHeap := func() (uint64, uint64) {
		runtime.GC()
		runtime.GC() // a second cycle frees what the first one's finalizers released
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc, m.HeapObjects
	}

	for i := range warmup {
		cycle(i)
	}
	before, objectsBefore := liveHeap()
	goroutines := runtime.NumGoroutine()
	for i := warmup; i < cycles; i++ {
		cycle(i)
	}
	after, objectsAfter := liveHeap()
	t.Logf("%d cycles: live heap %d B after %d, %d B after %d (%+d B, %+d objects)",
		cycles, before, warmup, after, cycles, int64(after)-int64(before), int64(objectsAfter)-int64(objectsBefore))
	if after > before && after-before >= 1<<20 {
		t.Errorf("live heap grew by %d B over %d cycles", after-before, cycles-warmup)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		t.Errorf("%d goroutines, %d before", n, goroutines)
	}
}
