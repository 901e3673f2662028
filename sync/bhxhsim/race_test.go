//go:build race

package bhxhsim_test

// raceEnabled thins out the population test, which is slow under the race
// detector and has no concurrency to check.
const raceEnabled = true
