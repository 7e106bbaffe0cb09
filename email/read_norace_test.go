//go:build !race

package email

// raceEnabled: see read_race_test.go.
const raceEnabled = false
