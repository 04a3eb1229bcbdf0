//go:build !race

package propagator_test

// raceEnabled reports a -race build, where every cycle costs about 30
// times as much (TestHeapFlat runs fewer cycles).
const raceEnabled = false
