package main

import "strconv"

// plural is one when n is 1 and many otherwise.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// counted is n and its noun, which agree: "1 identity", "2 identities",
// "0 identities".
func counted(n int, one, many string) string {
	return strconv.Itoa(n) + " " + plural(n, one, many)
}
