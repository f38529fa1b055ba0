package audit

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"time"
)

// ResolveActor says who is acting: the --as flag, else NHI_REVIEWER, else
// git's user.email, else the OS user. The name is taken as given; once the
// evidence file has a directory of people, the command line resolves it to
// a person and refuses names the directory does not know (docs/people.md).
func ResolveActor(flag string) string {
	a, _ := ResolveActorSource(flag)
	return a
}

// ResolveActorSource is ResolveActor, also saying where the name came
// from ("--as", "NHI_REVIEWER", "git user.email", "the OS user"), for
// messages that must tell a reviewer how to change it.
func ResolveActorSource(flag string) (actor, source string) {
	if a := strings.TrimSpace(flag); a != "" {
		return a, "--as"
	}
	if a := strings.TrimSpace(os.Getenv("NHI_REVIEWER")); a != "" {
		return a, "NHI_REVIEWER"
	}
	if a := gitEmail(); a != "" {
		return a, "git user.email"
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username, "the OS user"
	}
	return "", ""
}

func gitEmail() string {
	if _, err := exec.LookPath("git"); err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "config", "--get", "user.email").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
