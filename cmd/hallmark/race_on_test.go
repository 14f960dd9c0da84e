//go:build race

package main

// raceEnabled: this test binary, which the signal tests run as hallmark,
// is built with the race detector.
const raceEnabled = true
