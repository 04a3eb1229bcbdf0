//go:build !race

package main

// raceEnabled is set when the race detector, which slows the sampler down
// tens of times, is on.
const raceEnabled = false
