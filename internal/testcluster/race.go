//go:build race

package testcluster

// raceEnabled makes RaceBinary build with -race.
const raceEnabled = true
