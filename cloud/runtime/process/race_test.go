//go:build race

package process

// raceEnabled: the race detector reserves terabytes of shadow address
// space, which no RLIMIT_AS test can accommodate.
const raceEnabled = true
