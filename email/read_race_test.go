//go:build race

package email

// raceEnabled tells the tests of read.go that the race detector slows
// everything down, so that they keep their memory bounds but not their
// time bound.
const raceEnabled = true
