//go:build !race

package waitpoint_test

const raceEnabled = false
