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
// git's user.email, else the OS user. The reviewer's word is taken as given;
// the hash chain makes it impossible to change afterwards, not to lie.
func ResolveActor(flag string) string {
	if a := strings.TrimSpace(flag); a != "" {
		return a
	}
	if a := strings.TrimSpace(os.Getenv("NHI_REVIEWER")); a != "" {
		return a
	}
	if a := gitEmail(); a != "" {
		return a
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return ""
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
