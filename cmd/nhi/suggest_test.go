package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestMistypedCommandsSuggestNearOnes: a mistyped command is refused
// with the commands a typo away from it (a letter left out, added,
// changed, two swapped; one in a word of up to four letters), or those
// it begins; a word that is no typo of any gets no suggestion, where
// cobra's edit distance of 2 took nhi foo for log.
func TestMistypedCommandsSuggestNearOnes(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string // the first line of stderr
	}{
		{[]string{"foo"}, `nhi: unknown command "foo" for "nhi"`},
		{[]string{"x"}, `nhi: unknown command "x" for "nhi"`},
		{[]string{"help", "foo"}, `nhi: unknown help topic "foo" for "nhi"`},
		{[]string{"identites"}, `nhi: unknown command "identites" for "nhi"; did you mean identities?`},
		{[]string{"idnetities"}, `nhi: unknown command "idnetities" for "nhi"; did you mean identities?`},
		{[]string{"campain"}, `nhi: unknown command "campain" for "nhi"; did you mean campaign?`},
		{[]string{"lgo"}, `nhi: unknown command "lgo" for "nhi"; did you mean log?`},
		{[]string{"snap"}, `nhi: unknown command "snap" for "nhi"; did you mean snapshot or snapshots?`},
		{[]string{"campaign", "shwo"}, `nhi: unknown command "shwo" for "nhi campaign"; did you mean show?`},
		{[]string{"campaign", "bar"}, `nhi: unknown command "bar" for "nhi campaign"`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), c.args, strings.NewReader(""), &stdout, &stderr)
		first, _, _ := strings.Cut(stderr.String(), "\n")
		if code != exitUsage || first != c.says {
			t.Errorf("nhi %s: exit %d, said\n%s\nwant exit %d, saying\n%s", strings.Join(c.args, " "), code, stderr.String(), exitUsage, c.says)
		}
	}
}
