package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/internal/benchmem"
)

// The people side of offboarding reads every identity of the file to find
// a person's, a scope's or the leavers' (issue 21: a million identities on
// a laptop): it held them all decoded, some 2 KB each, and now keeps only
// what it prints or freezes. Each benchmark runs its command in the
// process over the audittest population of 100,000 deploy keys, added by
// user0 to user96: heap-B/identity is the peak of the heap above where it
// started, an identity of the file.

// BenchmarkPeopleShow100k shows a person who owns 50 of them.
func BenchmarkPeopleShow100k(b *testing.B) {
	benchPeople(b, func(int) []string { return []string{"people", "show", "user5"} })
}

// BenchmarkOffboardPending100k lists the leavers: user3, who added 1,031.
func BenchmarkOffboardPending100k(b *testing.B) {
	benchPeople(b, func(int) []string { return []string{"offboard", "--pending"} })
}

// BenchmarkOffboardPerson100k offboards user3 (1,031 items), a campaign a
// turn.
func BenchmarkOffboardPerson100k(b *testing.B) {
	benchPeople(b, func(turn int) []string {
		return []string{"offboard", "user3", "--name", fmt.Sprintf("ob-%d", turn), "--as", "rita@acme.test"}
	})
}

// BenchmarkOffboardScope100k retires what eleven users added (11,340
// items: a tenth of the file), a campaign a turn.
func BenchmarkOffboardScope100k(b *testing.B) {
	benchPeople(b, func(turn int) []string {
		return []string{"offboard", "--scope", "attr.added_by:user1*", "--reviewer", "boss@acme.test", "--name", fmt.Sprintf("sys-%d", turn), "--as", "rita@acme.test"}
	})
}

// benchPeople runs args(turn) on a file of 100,000 identities with a
// directory: user3 left, user5 owns the 50 keys of repo-00010 to
// repo-00019.
func benchPeople(b *testing.B, args func(turn int) []string) {
	const n = 100_000
	db := populatedFile(b, n)
	csv := filepath.Join(b.TempDir(), "people.csv")
	people := "email,name,github,status,left_at,manager\n" +
		"boss@acme.test,Boss,boss,active,,\n" +
		"rita@acme.test,Rita,rita,active,,boss@acme.test\n" +
		"user3@acme.test,User Three,user3,left,2026-11-30,boss@acme.test\n" +
		"user5@acme.test,User Five,user5,active,,boss@acme.test\n"
	if err := os.WriteFile(csv, []byte(people), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, setup := range [][]string{
		{"people", "import", csv, "--as", "boss@acme.test"},
		{"owner", "set", "--filter", "scope:acme/repo-0001*", "user5@acme.test", "--yes", "--as", "boss@acme.test"},
	} {
		var errb strings.Builder
		if code := run(context.Background(), append(setup, "--db", db), strings.NewReader(""), io.Discard, &errb); code != 0 {
			b.Fatalf("%s: exit %d\n%s", strings.Join(setup, " "), code, errb.String())
		}
	}
	var peak float64
	turn := 0
	for b.Loop() {
		turn++
		a := append(args(turn), "--db", db)
		var out, errb strings.Builder
		runtime.GC()
		stop := benchmem.Start()
		code := run(context.Background(), a, strings.NewReader(""), &out, &errb)
		u := stop()
		if code != 0 {
			b.Fatalf("%s: exit %d\n%s", strings.Join(a, " "), code, errb.String())
		}
		if !strings.Contains(out.String(), "user") {
			b.Fatalf("%s printed nobody's identities:\n%s", strings.Join(a, " "), out.String())
		}
		peak = max(peak, u.AboveBaseMB()*(1<<20))
	}
	b.ReportMetric(peak/n, "heap-B/identity")
}
