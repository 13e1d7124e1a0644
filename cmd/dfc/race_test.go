//go:build race

package main

// raceEnabled makes TestMain build dfc with -race as well.
const raceEnabled = true
