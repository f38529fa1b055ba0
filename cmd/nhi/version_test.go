package main

import (
	"runtime/debug"
	"testing"
)

// TestVersionOf: the tool named in evidence reports and snapshots carries
// the commit when the build recorded it, and says so when it did not (CI
// builds with -buildvcs=false).
func TestVersionOf(t *testing.T) {
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "3a35d54c0ffee1234567890abcdef1234567890a"},
		{Key: "vcs.time", Value: "2026-12-01T15:25:49Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, c := range []struct {
		name, release string
		bi            *debug.BuildInfo
		want          string
	}{
		{"vcs", "", vcs, "commit 3a35d54c0ffe (modified, 2026-12-01T15:25:49Z)"},
		{"release and vcs", "v1.2.0", vcs, "v1.2.0 (commit 3a35d54c0ffe, modified, 2026-12-01T15:25:49Z)"},
		{"no vcs", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "unversioned (built without VCS information)"},
		{"no build info", "", nil, "unversioned (built without VCS information)"},
		{"module version", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}}, "v1.3.0"},
		{"release only", "v1.2.0", nil, "v1.2.0"},
		// Go 1.24 and later stamp a checkout's build with a pseudo-version.
		{"pseudo-version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201152549-3a35d54c0ffe+dirty"}, Settings: vcs.Settings},
			"v0.0.0-20261201152549-3a35d54c0ffe+dirty (commit 3a35d54c0ffe, modified, 2026-12-01T15:25:49Z)"},
	} {
		if got := versionOf(c.release, c.bi); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// This test binary: whatever the build flags, a version and never an empty string.
	if toolVersion() == "" {
		t.Error("toolVersion is empty")
	}
}
