//go:build !race

package bhxhsim_test

const raceEnabled = false
