package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/nhi-audit/nhi/audit"
)

func newPeopleCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "people",
		Short: "The directory of people: who reviewers, owners and holders are",
		Long: `The directory says who is who: each person's e-mail, name, GitHub login,
status (active or left), manager, further aliases and SSH signing key. Once it
holds anyone, every write must be made by a person it knows, owners and
reviewers resolve to people, and the self-review rule sees through aliases.
See docs/people.md.`,
	}
	cmd.AddCommand(newPeopleImportCmd(a), newPeopleSyncCmd(a), newPeopleListCmd(a), newPeopleShowCmd(a))
	return cmd
}

func newPeopleImportCmd(a *app) *cobra.Command {
	var dryRun bool
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Add or update people from a CSV (email,name,github,status,left_at,manager,aliases,signing_key)",
		Long: `Reads a CSV of people, as an HR system or IdP exports it, with the header

  email,name,github,status,left_at,manager,aliases,signing_key

(columns in any order; only email is required). status is active (the
default) or left; left_at is YYYY-MM-DD; manager is the manager's e-mail or
alias; aliases are further e-mails and logins separated by spaces;
signing_key is an SSH public key line. A UTF-8 byte-order mark is accepted.

The import is all or nothing: every refused row is listed with its line
number, and then nothing is written. Each new or changed person is one
person.set event in the log; unchanged people cost nothing, and people not in
the file are kept. "-" reads standard input.`,
		Example: `  nhi people import people.csv --dry-run
  nhi people import people.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openInputArg(a.stdin, args[0], "CSV UTF-8")
			if err != nil {
				return err
			}
			defer r.Close()
			in, err := audit.ReadPeopleCSV(r, args[0])
			if err != nil {
				return asInputError(err)
			}
			st, actor, err := a.openAs(cmd.Context(), audit.OpenOptions{ReadOnly: dryRun, Create: !dryRun})
			if err != nil {
				return err
			}
			defer st.Close()
			ch, err := st.SetPeople(cmd.Context(), actor, *in, dryRun)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			verb := "Added"
			if dryRun {
				verb = "Would add"
			}
			for _, p := range ch.Added {
				fmt.Fprintf(a.stdout, "+ %s\n", audit.Printable(p.Display()))
			}
			for _, p := range ch.Updated {
				fmt.Fprintf(a.stdout, "~ %s\n", audit.Printable(p.Display()))
			}
			fmt.Fprintf(a.stdout, "%s %d, updated %d, unchanged %d people from %s", verb, len(ch.Added), len(ch.Updated), ch.Unchanged, counted(len(in.People), "row", "rows"))
			switch {
			case dryRun:
				fmt.Fprintln(a.stdout, " (dry run: nothing written)")
			case len(ch.Events) > 0:
				fmt.Fprintf(a.stdout, " (%s, by %s)\n", eventSpan(ch.Events[0].Seq, ch.Events[len(ch.Events)-1].Seq), audit.Printable(actor))
			default:
				fmt.Fprintln(a.stdout, " (nothing to write)")
			}
			return nil
		},
	}
	imp.Flags().BoolVar(&dryRun, "dry-run", false, "check the file and print what would change; write nothing")
	return imp
}

// personJSON is the shape of a person for scripts: fields are only ever
// added.
type personJSON struct {
	Email      string   `json:"email"`
	Name       string   `json:"name"`
	GitHub     string   `json:"github"`
	Status     string   `json:"status"`
	LeftAt     *string  `json:"left_at"`
	Manager    string   `json:"manager"`
	Aliases    []string `json:"aliases"`
	SigningKey *string  `json:"signing_key_fingerprint"`
	Owns       *int     `json:"owns,omitempty"`
}

func toPersonJSON(p *audit.Person) personJSON {
	out := personJSON{Email: p.Email, Name: p.Name, GitHub: p.GitHub, Status: p.Status, Manager: p.Manager, Aliases: p.Names()[1:]}
	if p.LeftAt != "" {
		out.LeftAt = &p.LeftAt
	}
	if fp := keyFingerprint(p.SigningKey); fp != "" {
		out.SigningKey = &fp
	}
	return out
}

func keyFingerprint(line string) string {
	if line == "" {
		return ""
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return ""
	}
	return ssh.FingerprintSHA256(k)
}

func newPeopleListCmd(a *app) *cobra.Command {
	out := textOrJSON("table")
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the people of the directory",
		Long: `Lists every person, by e-mail: name, GitHub login, status (with the date a
leaver left) and aliases. --json prints an array of {email, name, github,
status, left_at, manager, aliases, signing_key_fingerprint}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := out.wantJSON(cmd)
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			dir, err := st.People(cmd.Context())
			if err != nil {
				return err
			}
			people := dir.People()
			if asJSON {
				out := make([]personJSON, len(people))
				for i := range people {
					out[i] = toPersonJSON(&people[i])
				}
				return writeJSON(a.stdout, out)
			}
			if len(people) == 0 {
				fmt.Fprintln(a.stdout, "The directory is empty; add people with: nhi people import FILE")
				return nil
			}
			_, tw, flush := tabsOver(a.stdout, 0, 4)
			fmt.Fprintln(tw, "EMAIL\tNAME\tGITHUB\tSTATUS\tALIASES")
			for _, p := range people {
				status := p.Status
				if p.LeftAt != "" {
					status += " " + p.LeftAt
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", audit.Printable(p.Email), audit.Printable(p.Name), orDash(p.GitHub), status,
					audit.Printable(strings.Join(p.Names()[1:], " ")))
			}
			return flush()
		},
	}
	out.addTextOrJSONFlags(cmd, "print a JSON array")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return audit.Printable(s)
}

func newPeopleShowCmd(a *app) *cobra.Command {
	out := textOrJSON("table")
	cmd := &cobra.Command{
		Use:   "show PERSON",
		Short: "Show one person, found by any alias, and the identities they own",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := out.wantJSON(cmd)
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			dir, err := st.People(cmd.Context())
			if err != nil {
				return err
			}
			p := dir.Lookup(args[0])
			if p == nil {
				return unknownPersonError(dir, args[0])
			}
			// The identities stream past and only the IDs of the person's
			// are kept (issue 21: every identity was held, 2 KB each);
			// read without owner suggestions, which ownership does not read.
			var owns []string
			err = st.EachTableIdentityWithoutSuggestions(cmd.Context(), func(id *audit.Identity) error {
				if id.Owner != "" && dir.Lookup(id.Owner) == p {
					owns = append(owns, strings.Clone(id.ID)) // the read's text is a page's, reused
				}
				return nil
			})
			if err != nil {
				return err
			}
			if asJSON {
				out := toPersonJSON(p)
				n := len(owns)
				out.Owns = &n
				return writeJSON(a.stdout, out)
			}
			fmt.Fprintf(a.stdout, "%s\n", audit.Printable(p.Display()))
			status := p.Status
			if p.Status == audit.PersonLeft {
				status = p.LeftNote()
			}
			fmt.Fprintf(a.stdout, "  status:      %s\n", status)
			fmt.Fprintf(a.stdout, "  github:      %s\n", orDash(p.GitHub))
			fmt.Fprintf(a.stdout, "  aliases:     %s\n", audit.Printable(strings.Join(p.Names(), " ")))
			fmt.Fprintf(a.stdout, "  manager:     %s\n", orDash(p.Manager))
			fmt.Fprintf(a.stdout, "  signing key: %s\n", orDash(keyFingerprint(p.SigningKey)))
			fmt.Fprintf(a.stdout, "  owns:        %s\n", counted(len(owns), "identity", "identities"))
			for _, id := range owns {
				fmt.Fprintf(a.stdout, "    %s\n", audit.Printable(id))
			}
			return nil
		},
	}
	out.addTextOrJSONFlags(cmd, "print a JSON object")
	return cmd
}

// unknownPersonError says a name matches nobody, and whom it may have meant.
func unknownPersonError(dir *audit.Directory, name string) error {
	msg := fmt.Sprintf("%q is %v", audit.Printable(name), audit.ErrUnknownPerson)
	if s := closestNames(dir, name); s != "" {
		msg += "; did you mean " + s + "?"
	} else {
		msg += "; list them with: nhi people list"
	}
	return wrapped{msg, audit.ErrUnknownPerson}
}

// closestNames lists the people nearest to name, "a or b or c".
func closestNames(dir *audit.Directory, name string) string {
	var out []string
	for _, p := range dir.Closest(name, 3) {
		out = append(out, audit.Printable(p.Display()))
	}
	return strings.Join(out, " or ")
}

// wrapped is an error with its own message that still matches a sentinel.
type wrapped struct {
	msg      string
	sentinel error
}

func (w wrapped) Error() string { return w.msg }
func (w wrapped) Unwrap() error { return w.sentinel }
