//go:build race

package alarm

// The race detector makes sync.Pool drop values at random.
const raceEnabled = true
