//go:build race

package githubtest_test

const raceEnabled = true
