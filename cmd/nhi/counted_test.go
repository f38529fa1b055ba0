package main

import "testing"

// cobra's own argument checks say "arg(s)"; nhi's say the count and its
// noun in agreement.
func TestCobraArgCountAgrees(t *testing.T) {
	for msg, want := range map[string]string{
		"accepts 1 arg(s), received 0":                "accepts 1 argument, received 0",
		"accepts 2 arg(s), received 1":                "accepts 2 arguments, received 1",
		"requires at least 1 arg(s), only received 0": "requires at least 1 argument, only received 0",
		"accepts at most 1 arg(s), received 3":        "accepts at most 1 argument, received 3",
		"accepts between 1 and 2 arg(s), received 3":  "accepts between 1 and 2 arguments, received 3",
	} {
		if got, ok := cobraArgCount(msg); !ok || got != want {
			t.Errorf("cobraArgCount(%q) = %q, %v; want %q", msg, got, ok, want)
		}
	}
	if _, ok := cobraArgCount("unknown flag: --x"); ok {
		t.Error("a message that is not an argument count was taken for one")
	}
}
