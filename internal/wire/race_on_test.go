//go:build race

package wire

// The race detector makes sync.Pool drop values at random.
const raceEnabled = true
