package audit

import (
	"fmt"
	"os"
	"strings"
)

// What holds an evidence file's lock: SQLite's locks are the system's
// advisory locks (fcntl), which name no program, and a process that
// records nothing in the file (the sqlite3 shell, a backup tool) is
// otherwise unknown to nhi. Where the system says who holds a lock
// (Linux: /proc/locks, lockholder_linux.go) the busy and locked errors
// name it, "sqlite3 (pid 1234)"; elsewhere they say "another process".

// lockHolder is a process that holds a lock on the evidence file.
type lockHolder struct {
	PID  int
	Name string // its command name (/proc/PID/comm); "" when not known
}

// holderKind says what a busy error knows of the process that held the
// lock, to say what to do about it.
type holderKind int

const (
	holderUnknown holderKind = iota // the system does not say
	holderNhi                       // an nhi process (this one included)
	holderOther                     // a process of another name
)

// heldBy names the process that holds the write lock of the evidence
// file at path, or the lock that keeps even readers out, in the words of
// a sentence: "sqlite3 (pid 1234)", "another nhi process (pid 4242)",
// "another connection of this process (pid 77)", or "another process"
// when the system does not say (another platform, another host on a
// shared drive, a process in another PID namespace, or the lock let go
// since). name is the holder's command name, for what to do.
func heldBy(path string) (words, name string, kind holderKind) {
	holders := writeLockHolders(path)
	if len(holders) != 1 || holders[0].PID <= 0 {
		// None, or several at once (a lock changing hands while
		// /proc/locks was read): not one to name.
		return "another process", "", holderUnknown
	}
	h := holders[0]
	switch {
	case h.PID == os.Getpid():
		return fmt.Sprintf("another connection of this process (pid %d)", h.PID), "", holderNhi
	case h.Name == "":
		return fmt.Sprintf("another process (pid %d)", h.PID), "", holderUnknown
	case h.Name == selfName():
		return fmt.Sprintf("another %s process (pid %d)", Printable(h.Name), h.PID), h.Name, holderNhi
	}
	return fmt.Sprintf("%s (pid %d)", Printable(h.Name), h.PID), Printable(h.Name), holderOther
}

// selfName is this process's command name ("nhi"), as processName gives
// another's.
func selfName() string { return processName(os.Getpid()) }

// trimName is a command name as the system stores it, without its line end.
func trimName(b []byte) string { return strings.TrimSpace(string(b)) }
